from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from iliveit_portal import health, metrics_view


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers and tools that ask for /favicon.ico without reading the page's <link>."""
    return HttpResponseRedirect(static("portal/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
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
    path("replies/", include("reports.reply_urls")),
    path("opt-outs/", include("messaging.optout_urls")),
    # Public, no sign-in: the link in each email (messaging.unsubscribe_links.PATH).
    path("unsubscribe/", include("messaging.unsubscribe_urls")),
]
