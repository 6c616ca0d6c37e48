"""What every staff page of the messaging app checks: permissions and grants. (Every response
gets the page CSP from iliveit_portal.security.)"""

from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from messaging.models import Campaign
from messaging.visibility import campaigns_visible

COMPOSE = "messaging.add_campaign"
LAUNCH = "messaging.launch_campaign"
VIEW = "messaging.view_campaign"
# An application's opt-out list: viewers read it, composers add, import and export (the
# export is the whole list of personal data, so more than reading), admins remove.
OPT_OUT_VIEW = "messaging.view_optout"
OPT_OUT_ADD = "messaging.add_optout"
OPT_OUT_REMOVE = "messaging.delete_optout"


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
