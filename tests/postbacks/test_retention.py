"""Old raw postbacks, per-message bodies and replies are pruned; nothing still in use is."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from api.tasks import prune_old_data
from messaging.models import MessageState
from postbacks.models import InboxState, PostbackInbox, Reply
from postbacks.retention import retention_prune

pytestmark = pytest.mark.django_db

DAYS = 30


@pytest.fixture
def campaign(make_campaign):
    """Without messages: each test makes the messages, old and new, that it prunes."""
    return make_campaign()


def aged(row, days: float, field: str):
    type(row).objects.filter(pk=row.pk).update(**{field: timezone.now() - timedelta(days=days)})
    return row


def inbox_row(state, days):
    row = PostbackInbox.objects.create(body=b'{"message_id": "x"}', ref="r", state=state)
    return aged(row, days, "received_at")


def test_old_finished_postbacks_go_and_unapplied_or_recent_ones_stay(campaign):
    old = [inbox_row(state, DAYS + 1) for state in ("applied", "duplicate", "quarantined")]
    old_pending = inbox_row(InboxState.PENDING, DAYS + 5)
    old_waiting = inbox_row(InboxState.WAITING, DAYS + 5)
    recent = inbox_row(InboxState.APPLIED, DAYS - 1)

    result = retention_prune(days=DAYS)

    assert result["inbox_rows"] == 3
    left = set(PostbackInbox.objects.values_list("pk", flat=True))
    assert left == {old_pending.pk, old_waiting.pk, recent.pk}
    assert not left & {row.pk for row in old}


def test_old_bodies_of_finished_messages_are_erased_but_not_of_those_still_sending(campaign):
    delivered = campaign.messages.create(
        recipient="27820000001", state=MessageState.DELIVERED, body={"text": "PIN 1234"}
    )
    queued = campaign.messages.create(
        recipient="27820000002", state=MessageState.QUEUED, body={"text": "PIN 5678"}
    )
    recent = campaign.messages.create(
        recipient="27820000003", state=MessageState.FAILED, body={"text": "PIN 9012"}
    )
    aged(delivered, DAYS + 1, "created_at")
    aged(queued, DAYS + 1, "created_at")

    assert retention_prune(days=DAYS)["message_bodies"] == 1

    for message in (delivered, queued, recent):
        message.refresh_from_db()
    assert delivered.body is None
    assert delivered.state == MessageState.DELIVERED  # the message itself stays
    assert queued.body == {"text": "PIN 5678"}
    assert recent.body == {"text": "PIN 9012"}


def test_old_replies_lose_their_text_and_raw_email_file(
    campaign, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    message = campaign.messages.create(recipient="a@example.com", state=MessageState.DELIVERED)
    old = Reply(message=message, kind="email", sender="a@example.com", text="Call me")
    old.raw_email.save("old.eml", ContentFile(b"Subject: hi\n\nCall me"), save=False)
    old.content_hash = "a"
    old.save()
    path = old.raw_email.path
    aged(old, DAYS + 1, "received_at")
    recent = Reply.objects.create(
        message=message, kind="sms", sender="2782", text="Yes", content_hash="b"
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_prune(days=DAYS)["replies"] == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.text, old.subject, old.raw_email.name) == ("", "", "")
    assert not Path(path).exists()
    assert recent.text == "Yes"
    # A second run finds nothing more to do.
    assert retention_prune(days=DAYS) == {"inbox_rows": 0, "message_bodies": 0, "replies": 0}


def test_the_hourly_task_uses_the_setting_and_zero_keeps_everything(campaign, settings):
    row = inbox_row(InboxState.APPLIED, 400)
    settings.RETENTION_DAYS = 0
    assert prune_old_data() == {"idempotency_keys": 0}
    assert PostbackInbox.objects.filter(pk=row.pk).exists()

    settings.RETENTION_DAYS = 365
    assert prune_old_data()["inbox_rows"] == 1
    assert not PostbackInbox.objects.filter(pk=row.pk).exists()
