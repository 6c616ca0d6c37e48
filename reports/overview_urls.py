"""The front page, at the site's root (iliveit_portal/urls.py)."""

from django.urls import path

from reports.views import overview

app_name = "overview"

urlpatterns = [
    path("", overview.front_page, name="front_page"),
]
