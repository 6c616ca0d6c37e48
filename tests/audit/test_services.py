"""Launches, pauses, resumes, cancels, retries, resends, token changes and opt-outs leave an
audit entry naming who did it, whichever page, command or API asked; the entry outlives its
user."""

import pytest
from django.urls import reverse

from audit.models import AuditAction, AuditEntry
from audit.services import audit_record_many
from messaging.models import MessageState, OptOut
from messaging.services import (
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
)
from tests.support.queries import insert_batches

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(make_campaign):
    """Two messages, not the shared campaign's three: the counts below are of two."""
    return make_campaign(name="Spring sale", recipients=2)


@pytest.fixture
def ann(make_staff):
    """The actor the entries name: the services ask for no role."""
    return make_staff("ann")


def actions(campaign) -> list[tuple[str, str]]:
    entries = AuditEntry.objects.filter(target_type="messaging.campaign", target_id=campaign.pk)
    return [(entry.action, entry.actor_name) for entry in entries.order_by("id")]


def test_each_campaign_control_is_recorded_with_its_actor(campaign, ann, empty_task_queue):
    campaign_launch(campaign=campaign, user=ann)
    campaign_pause(campaign=campaign, user=ann)
    campaign_resume(campaign=campaign, user=ann)
    campaign.messages.filter(recipient="27820000001").update(
        state=MessageState.FAILED, error_retryable=True
    )
    campaign_retry_failed(campaign=campaign, user=ann)
    campaign_cancel(campaign=campaign, user=ann)

    assert actions(campaign) == [
        (AuditAction.CAMPAIGN_LAUNCH, "ann"),
        (AuditAction.CAMPAIGN_PAUSE, "ann"),
        (AuditAction.CAMPAIGN_RESUME, "ann"),
        (AuditAction.CAMPAIGN_RETRY_FAILED, "ann"),
        (AuditAction.CAMPAIGN_CANCEL, "ann"),
    ]
    retry, cancel = AuditEntry.objects.order_by("id")[3:5]
    assert retry.detail == {"messages_requeued": 1}
    assert cancel.detail == {"messages_cancelled": 2}
    assert cancel.target_label == "Spring sale"


def test_an_automatic_pause_is_recorded_as_the_portal_with_its_reason(campaign, empty_task_queue):
    campaign_launch(campaign=campaign, user=None)
    campaign_pause(campaign=campaign, user=None, reason="Canary delivered 10%")

    pause = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_PAUSE)
    assert pause.actor is None and pause.actor_name == ""
    assert pause.detail == {"reason": "Canary delivered 10%"}
    assert str(pause).endswith("portal campaign.pause Spring sale")


def test_a_refused_action_leaves_no_entry(campaign, ann):
    with pytest.raises(ValueError, match="Only a sending campaign"):
        campaign_pause(campaign=campaign, user=ann)
    assert not AuditEntry.objects.exists()


def test_the_entry_keeps_the_name_when_the_user_is_deleted(campaign, ann, empty_task_queue):
    campaign_launch(campaign=campaign, user=ann)
    ann.delete()
    entry = AuditEntry.objects.get()
    assert entry.actor is None
    assert entry.actor_name == "ann"


def test_a_new_application_token_is_recorded_without_the_token(admin_client, campaign):
    application = campaign.application
    url = reverse("admin:messaging_application_change", args=[application.pk])
    response = admin_client.post(
        url,
        {
            "name": application.name,
            "environment": application.environment,
            "endpoint": application.endpoint,
            "mvno_id": application.mvno_id,
            "rate_limit": application.rate_limit,
            "new_token": "rotated-token-987654",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.APPLICATION_TOKEN)
    assert entry.actor_name == "admin"
    assert entry.detail == {"token_hint": "…7654", "first": False}
    assert "rotated-token" not in str(entry.detail) + entry.target_label

    # Saving the application without a new token is not a token change.
    admin_client.post(
        url,
        {
            "name": "Renamed",
            "environment": application.environment,
            "endpoint": application.endpoint,
            "mvno_id": application.mvno_id,
            "rate_limit": application.rate_limit,
        },
    )
    assert AuditEntry.objects.filter(action=AuditAction.APPLICATION_TOKEN).count() == 1


def test_admins_read_the_log_and_nobody_can_change_it(client, admin_client, make_staff, campaign):
    campaign_cancel(campaign=campaign, user=None)
    entry = AuditEntry.objects.get()
    listing = admin_client.get(reverse("admin:audit_auditentry_changelist"))
    assert listing.status_code == 200
    assert "Spring sale" in listing.content.decode()
    assert admin_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    page = admin_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert (
        'type="submit"'
        not in page.content.decode().split('id="content-main"')[1].split("</form>")[0]
        or "Save" not in page.content.decode()
    )
    assert (
        admin_client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()

    client.force_login(make_staff("admin-role", "Admin"))
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    client.force_login(make_staff("composer", "Composer", is_staff=True))
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403


def test_many_targets_get_an_entry_each_in_a_few_queries(
    application, ann, django_assert_max_num_queries
):
    targets = OptOut.objects.bulk_create(
        OptOut(application=application, recipient=f"2782{n:07d}", source="import")
        for n in range(1500)
    )

    # Two batches of 1000 on PostgreSQL; SQLite caps the rows per statement lower.
    with django_assert_max_num_queries(insert_batches(AuditEntry, 1500)):
        audit_record_many(
            actor=ann, action=AuditAction.OPT_OUT_ADD, targets=targets, detail={"source": "import"}
        )

    entries = AuditEntry.objects.filter(action=AuditAction.OPT_OUT_ADD)
    assert entries.count() == 1500
    first = entries.get(target_id=str(targets[0].pk))
    assert (first.actor, first.actor_name, first.target_type) == (ann, "ann", "messaging.optout")
    assert first.target_label.startswith("27820000000 opted out of")
