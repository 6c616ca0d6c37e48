"""The OpenAPI schema and its two readers, served under the portal's strict CSP.

Swagger UI's split view loads its start-up script from its own URL (`?script`) instead of an
inline <script>, and our Redoc template starts Redoc from a tag attribute with no inline script
and no web fonts from a CDN; both load their bundles from drf-spectacular-sidecar's static
files.
"""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

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


class SwaggerView(_WithCSP, SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


class RedocView(_WithCSP, SpectacularRedocView):
    template_name = "api/redoc.html"
