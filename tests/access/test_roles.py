"""The Viewer, Composer and Admin roles: made by every migrate, holding their permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from access.roles import ADMIN, COMPOSER, ROLES, VIEWER, roles_ensure

pytestmark = pytest.mark.django_db


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_every_role_exists_with_all_its_permissions():
    for role, perms in ROLES.items():
        assert perms_of(role) == set(perms)


def test_a_viewer_may_look_but_not_compose_or_launch():
    assert "messaging.view_campaign" in perms_of(VIEWER)
    assert "messaging.add_campaign" not in perms_of(VIEWER)
    assert "messaging.launch_campaign" not in perms_of(VIEWER)


def test_a_composer_may_compose_and_launch_but_not_manage_access():
    assert {"messaging.add_campaign", "messaging.launch_campaign"} <= perms_of(COMPOSER)
    assert "access.add_applicationgrant" not in perms_of(COMPOSER)
    assert "access.view_all_applications" not in perms_of(COMPOSER)


def test_an_admin_manages_grants_and_tokens():
    assert {"access.add_applicationgrant", "messaging.change_application"} <= perms_of(ADMIN)


def test_ensuring_the_roles_again_restores_a_removed_permission():
    group = Group.objects.get(name=COMPOSER)
    group.permissions.remove(Permission.objects.get(codename="launch_campaign"))

    roles_ensure()
    roles_ensure()

    assert perms_of(COMPOSER) == set(ROLES[COMPOSER])
    assert Group.objects.filter(name=COMPOSER).count() == 1


def test_viewers_read_opt_outs_composers_add_them_and_admins_remove_them():
    assert "messaging.view_optout" in perms_of(VIEWER)
    assert "messaging.add_optout" not in perms_of(VIEWER)
    assert {"messaging.view_optout", "messaging.add_optout"} <= perms_of(COMPOSER)
    assert "messaging.delete_optout" not in perms_of(COMPOSER)
    assert "messaging.delete_optout" in perms_of(ADMIN)
