"""Which applications, campaigns and messages each user sees."""

import pytest
from django.contrib.auth.models import AnonymousUser

from access.roles import ADMIN, COMPOSER, VIEWER
from messaging.visibility import applications_visible, campaigns_visible, messages_visible
from tests.support.applications import make_application
from tests.support.campaigns import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_applications():
    ours, theirs = make_application("Ours"), make_application("Theirs", token="other-token")
    for application in (ours, theirs):
        campaign = make_campaign("sms", application=application, name=application.name)
        campaign.messages.create(recipient="27820000001")
    return ours, theirs


@pytest.mark.parametrize("role", [VIEWER, COMPOSER])
def test_staff_see_only_the_applications_they_are_granted(make_staff, two_applications, role):
    ours, _ = two_applications
    user = make_staff("ann", role, applications=[ours])

    assert list(applications_visible(user)) == [ours]
    assert [c.name for c in campaigns_visible(user)] == ["Ours"]
    assert {m.campaign.application for m in messages_visible(user)} == {ours}


def test_an_outsider_without_grants_sees_nothing(make_staff, two_applications):
    user = make_staff("out", COMPOSER)

    assert not applications_visible(user).exists()
    assert not campaigns_visible(user).exists()
    assert not messages_visible(user).exists()


def test_admins_and_superusers_see_every_application(
    make_staff, two_applications, django_user_model
):
    admin = make_staff("adm", ADMIN)
    root = django_user_model.objects.create_superuser("root")

    for user in (admin, root):
        assert campaigns_visible(user).count() == 2
        assert messages_visible(user).count() == 2


def test_a_deactivated_admin_sees_nothing(make_staff, two_applications):
    admin = make_staff("adm", ADMIN)
    admin.is_active = False
    admin.save()

    assert not campaigns_visible(admin).exists()


def test_anonymous_visitors_see_nothing(two_applications):
    assert not campaigns_visible(AnonymousUser()).exists()
    assert not messages_visible(AnonymousUser()).exists()


def test_two_grants_to_the_same_application_are_refused(make_staff, two_applications):
    from django.db import IntegrityError, transaction

    from access.models import ApplicationGrant

    ours, _ = two_applications
    user = make_staff("ann", VIEWER, applications=[ours])
    with pytest.raises(IntegrityError), transaction.atomic():
        ApplicationGrant.objects.create(user=user, application=ours)
