"""The webhook processes' URLs: postbacks at the same paths as in iliveit_portal.urls (their
signed URLs are made there), and the probes that a container's health check and Prometheus
use. Every other path is not found here: the proxy sends it to `web`."""

from django.urls import include, path

from iliveit_portal import health, metrics_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("postbacks/", include("postbacks.urls")),
]
