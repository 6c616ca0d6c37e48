"""What every staff page of the messaging app checks: permissions, grants and the page CSP."""

from functools import wraps

from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from access.rules import campaigns_visible
from messaging.models import Campaign

COMPOSE = "messaging.add_campaign"
LAUNCH = "messaging.launch_campaign"
VIEW = "messaging.view_campaign"

# The portal's own pages load only their own CSS and JS. The email preview is a srcdoc iframe,
# which inherits this policy (and adds its own, see email_preview_document): inline styles,
# which emails are full of, are allowed; remote images, which would tell a sender that staff
# opened the preview, are not.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def with_csp(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    return wrapped


def any_permission(*perms: str):
    """A view decorator: the user holds at least one of `perms`, else 403."""

    def check(user) -> bool:
        if any(user.has_perm(perm) for perm in perms):
            return True
        raise PermissionDenied

    return user_passes_test(check)


# Who may read a campaign and its messages, dashboard and export: every role.
can_view_campaigns = any_permission(COMPOSE, LAUNCH, VIEW)


def visible_campaign(request: HttpRequest, pk: int) -> Campaign:
    """The campaign, if the user's grants cover its application; otherwise 404, so that an
    outsider learns nothing, not even that it exists."""
    return get_object_or_404(campaigns_visible(request.user).select_related("application"), pk=pk)
