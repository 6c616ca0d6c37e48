"""Who may do what through the API: the pages' rules (messaging.guards), per action.

Which campaigns and messages a user sees is not decided here but by access.rules, through each
view's queryset; an object outside it answers 404.
"""

from rest_framework.permissions import BasePermission

from messaging.guards import COMPOSE, LAUNCH, VIEW

VIEW_REPLY = "postbacks.view_reply"


class CanViewCampaigns(BasePermission):
    """Every role reads; a user with no role at all is refused."""

    message = "You have no role that may see campaigns."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and any(
            user.has_perm(perm) for perm in (COMPOSE, LAUNCH, VIEW)
        )


class _Holds(BasePermission):
    perm = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(self.perm))


class CanCompose(_Holds):
    perm = COMPOSE
    message = "Composing campaigns needs the Composer role."


class CanLaunch(_Holds):
    perm = LAUNCH
    message = "Launching, controlling and sending messages needs the Composer role."


# The opt-out lists: every role reads, composers add, admins remove (access.roles).
VIEW_OPT_OUTS = "messaging.view_optout"
ADD_OPT_OUTS = "messaging.add_optout"
REMOVE_OPT_OUTS = "messaging.delete_optout"


class CanViewOptOuts(_Holds):
    perm = VIEW_OPT_OUTS
    message = "You have no role that may see opt-outs."


class CanAddOptOuts(_Holds):
    perm = ADD_OPT_OUTS
    message = "Adding opt-outs needs the Composer role."


class CanRemoveOptOuts(_Holds):
    perm = REMOVE_OPT_OUTS
    message = "Removing an opt-out needs the Admin role."
