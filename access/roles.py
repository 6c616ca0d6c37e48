"""The three roles, as Django groups: a user's role is the group they are in.

- Viewer: dashboards, campaign and message pages, and opt-out lists, of the applications they
  are granted.
- Composer: a viewer who also composes, launches, pauses, resumes, cancels and resends, and
  adds opt-outs.
- Admin: a composer who also removes opt-outs, manages applications (tokens), API tokens (of
  users who are not superusers) and grants, reads the postback inbox and the audit log, and
  sees every application without a grant.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

VIEWER = "Viewer"
COMPOSER = "Composer"
ADMIN = "Admin"

_VIEWER_PERMS = [
    "messaging.view_campaign",
    "messaging.view_message",
    "postbacks.view_reply",
    "messaging.view_optout",
]
_COMPOSER_PERMS = [
    *_VIEWER_PERMS,
    "messaging.add_campaign",
    "messaging.change_campaign",
    "messaging.delete_campaign",
    "messaging.launch_campaign",
    "messaging.add_optout",
]
_ADMIN_PERMS = [
    *_COMPOSER_PERMS,
    "messaging.view_application",
    "messaging.change_application",
    "messaging.delete_optout",
    "postbacks.view_postbackinbox",
    "postbacks.view_messageevent",
    "access.view_applicationgrant",
    "access.add_applicationgrant",
    "access.change_applicationgrant",
    "access.delete_applicationgrant",
    "access.view_all_applications",
    "audit.view_auditentry",
    "api.view_apitoken",
    "api.add_apitoken",
    "api.change_apitoken",
]
ROLES = {VIEWER: _VIEWER_PERMS, COMPOSER: _COMPOSER_PERMS, ADMIN: _ADMIN_PERMS}


def _permissions(names: list[str], using: str) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.using(using).filter(query))


def roles_ensure(*, using: str = "default") -> None:
    """Make the role groups hold exactly their permissions (safe to run at any time)."""
    for name, perms in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(_permissions(perms, using))


def user_has_role(user) -> bool:
    """Whether the user may use the portal's pages at all: a superuser, or someone in one of
    the roles. Staff status is not asked; it only opens /admin/."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name__in=ROLES).exists()
