"""The OpenAPI schema and its two readers, served under the portal's strict CSP, to signed-in
staff and API tokens only (SPECTACULAR_SETTINGS' SERVE_PERMISSIONS): the schema maps every
operation and field, which is no one else's business.

Swagger UI's split view loads its start-up script from its own URL (`?script`) instead of an
inline <script>, and our Redoc template starts Redoc from a tag attribute with no inline script
and no web fonts from a CDN; both load their bundles from drf-spectacular-sidecar's static
files.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.renderers import JSONRenderer

# The portal's page policy (scripts only from our own origin, no inline ones), plus one
# allowance: Redoc runs its search index in a Web Worker that it starts from a blob: URL.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; worker-src 'self' blob:"
)


class _WithCSP:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP)
        return response


class SchemaView(SpectacularAPIView):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.exception:
            # An error is the API's JSON error, not a YAML document (the schema's default).
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class _SignInFirst:
    """A person who opens the docs without a session is sent to sign in and back, rather
    than shown the API's JSON 401."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SwaggerView(_SignInFirst, _WithCSP, SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


class RedocView(_SignInFirst, _WithCSP, SpectacularRedocView):
    template_name = "api/redoc.html"
