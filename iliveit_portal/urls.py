from django.contrib import admin
from django.urls import include, path

from iliveit_portal import health, metrics_view

urlpatterns = [
    path("", include("reports.overview_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    # The portal's own sign-in and sign-out; also answers the admin's login URL.
    path("", include("access.urls")),
    path("admin/", admin.site.urls),
    path("postbacks/", include("postbacks.urls")),
    path("campaigns/", include("reports.urls")),
    path("campaigns/", include("messaging.urls")),
    path("api/v1/", include("api.urls")),
    path("opt-outs/", include("messaging.optout_urls")),
    # Public, no sign-in: the link in each email (messaging.unsubscribe_links.PATH).
    path("unsubscribe/", include("messaging.unsubscribe_urls")),
]
