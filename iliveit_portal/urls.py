from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from iliveit_portal import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="messaging:campaign_list", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("postbacks/", include("postbacks.urls")),
    path("campaigns/", include("messaging.urls")),
]
