"""Reconciliation by polling, against the sandbox over HTTP: a message whose postbacks are
overdue is polled and merged like a postback, within its application's rate limit."""

import json
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iliveit_portal.celery import app as celery_app
from messaging.models import Application, Campaign, CampaignState, Channel, Message, MessageState
from messaging.services import message_submit
from postbacks import reconcile
from postbacks.models import EventSource, MessageEvent, PostbackInbox
from postbacks.reconcile import (
    AWAITING_REPORT,
    late_postbacks_count,
    messages_reconcile,
    overdue_messages,
)
from postbacks.services import postback_apply
from tests.conftest import APP_A, APP_B, APP_SLOW
from tests.support.applications import make_sandbox_application

pytestmark = pytest.mark.django_db

SILENT = "27000000013"
ASSUMED_DELIVERED = "27000000012"


@pytest.fixture(autouse=True)
def _empty_queue():
    celery_app.control.purge()
    yield
    celery_app.control.purge()


@pytest.fixture
def application(sandbox_application):
    """Reconciliation polls iLiveIt: here, the sandbox."""
    return sandbox_application


def sent_messages(application, recipients) -> list[Message]:
    """Messages submitted to the sandbox, whose lifecycle there has run to its end."""
    campaign = Campaign.objects.create(
        name="Reconcile",
        channel=Channel.SMS,
        application=application,
        body_text="Hello",
        state=CampaignState.SENDING,
    )
    messages = [
        # Single sends: the same magic number may appear more than once.
        Message.objects.create(
            campaign=campaign, recipient=r, state=MessageState.QUEUED, is_single=True
        )
        for r in recipients
    ]
    for message in messages:
        message_submit(message_id=message.pk)
        message.refresh_from_db()
        assert message.state == MessageState.SUBMITTED, message.last_error
    return messages


def wait_settled(sandbox, messages, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    for message in messages:
        while not sandbox.message(message.iliveit_id)["lifecycle_done"]:
            assert time.monotonic() < deadline, "the sandbox did not settle"
            time.sleep(0.05)


def make_overdue(messages, hours: float = 2) -> None:
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        updated_at=timezone.now() - timedelta(hours=hours)
    )


def test_polling_moves_a_silent_message_to_delivered(sandbox, application):
    [message] = sent_messages(application, [SILENT])
    wait_settled(sandbox, [message])
    make_overdue([message])

    counts = messages_reconcile()

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.delivered_code == 1
    assert counts["polled"] == 1 and counts["changed"] == 1
    assert sandbox.postbacks() == []  # only the poll could have told us
    sources = set(MessageEvent.objects.filter(message=message).values_list("source", flat=True))
    assert sources == {EventSource.POLL}
    assert not MessageEvent.objects.filter(message=message, late_by_s__gt=0).exists()


def test_a_message_with_recent_progress_is_not_polled(sandbox, application):
    [message] = sent_messages(application, [SILENT])
    wait_settled(sandbox, [message])
    before = sandbox.stats()["requests"]

    counts = messages_reconcile()

    assert counts["polled"] == 0
    assert sandbox.stats()["requests"] == before
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED


def test_a_poll_without_news_touches_the_message_so_it_waits_a_round(sandbox, application):
    [message] = sent_messages(application, [SILENT])
    wait_settled(sandbox, [message])
    make_overdue([message])
    messages_reconcile()
    message.refresh_from_db()
    # Pretend it is stuck at `sent` with nothing new from iLiveIt: a poll then changes nothing.
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    make_overdue([message])

    counts = messages_reconcile()

    assert counts == {"polled": 1, "changed": 0, "skipped": 0, "rate_limited": 0}
    message.refresh_from_db()
    assert message.updated_at > timezone.now() - timedelta(minutes=1)
    assert not overdue_messages().filter(pk=message.pk).exists()
    assert messages_reconcile()["polled"] == 0


def test_final_messages_and_messages_without_an_id_are_not_polled(sandbox, application):
    [delivered, failed] = sent_messages(application, [SILENT, SILENT])
    wait_settled(sandbox, [delivered, failed])
    Message.objects.filter(pk=delivered.pk).update(state=MessageState.DELIVERED)
    Message.objects.filter(pk=failed.pk).update(state=MessageState.FAILED)
    Message.objects.create(
        campaign=delivered.campaign, recipient="27821000001", state=MessageState.UNCERTAIN
    )
    make_overdue(Message.objects.all())
    before = sandbox.stats()["requests"]

    assert messages_reconcile()["polled"] == 0
    assert sandbox.stats()["requests"] == before


def test_assumed_delivered_from_a_poll_counts_as_delivered(sandbox, application):
    [message] = sent_messages(application, [ASSUMED_DELIVERED])
    wait_settled(sandbox, [message])
    make_overdue([message])

    messages_reconcile()

    message.refresh_from_db()
    assert (message.state, message.delivered_code) == (MessageState.DELIVERED, 12)
    assert message.delivered_description == "Assumed Delivered"


def test_assumed_delivered_from_a_postback_counts_as_delivered(sandbox, application):
    [message] = sent_messages(application, [ASSUMED_DELIVERED])
    wait_settled(sandbox, [message])
    # The body iLiveIt posts back is the StatusResult the status route answers.
    body = requests.get(
        f"{sandbox.url}/message/{message.iliveit_id}/status",
        headers={"Authorization": f"Bearer {APP_A.token}"},
        timeout=5,
    ).json()
    inbox = PostbackInbox.objects.create(
        message=message, body=json.dumps({**body, "postback_type": "delivery"}).encode()
    )

    postback_apply(inbox_id=inbox.pk)

    message.refresh_from_db()
    assert (message.state, message.delivered_code) == (MessageState.DELIVERED, 12)


def test_a_dry_bucket_ends_the_round(sandbox, monkeypatch):
    application = make_sandbox_application(sandbox, APP_SLOW, name="Sandbox slow", rate_limit=2)
    messages = sent_messages(application, [SILENT] * 3)
    wait_settled(sandbox, messages)
    make_overdue(messages)
    time.sleep(0.6)  # the bucket (one token at 2 a second) is full again
    monkeypatch.setattr(reconcile, "TOKEN_MAX_WAIT_S", 0.0)
    before = sandbox.stats()

    counts = messages_reconcile()

    after = sandbox.stats()
    assert after["requests"] - before["requests"] == 1
    assert counts["polled"] == 1 and counts["rate_limited"] == 1
    assert Message.objects.filter(state=MessageState.DELIVERED).count() == 1
    # The oldest went first.
    assert overdue_messages().count() == 2


def test_polls_keep_within_the_rate_limit(sandbox):
    application = make_sandbox_application(sandbox, APP_SLOW, name="Sandbox slow", rate_limit=2)
    messages = sent_messages(application, [SILENT] * 4)
    wait_settled(sandbox, messages)
    make_overdue(messages)
    before = sandbox.stats()
    started = time.monotonic()

    counts = messages_reconcile()

    elapsed = time.monotonic() - started
    after = sandbox.stats()
    assert counts["polled"] == 4
    assert after["requests"] - before["requests"] == 4
    assert after["http_429"] == before["http_429"]
    # One token in the bucket, then one every half second.
    assert elapsed >= 1.3
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.DELIVERED}


def test_a_message_of_another_application_is_skipped(sandbox, application):
    other = make_sandbox_application(sandbox, APP_B, name="Sandbox B")
    [foreign] = sent_messages(other, [SILENT])
    [own] = sent_messages(application, [SILENT])
    wait_settled(sandbox, [foreign, own])
    # The portal files B's message under A: A's token may not see it (404).
    Campaign.objects.filter(pk=foreign.campaign_id).update(application=application)
    make_overdue([foreign], hours=3)  # polled first
    make_overdue([own])

    counts = messages_reconcile()

    assert counts["skipped"] == 1 and counts["polled"] == 1
    foreign.refresh_from_db()
    own.refresh_from_db()
    assert foreign.state == MessageState.SUBMITTED
    assert own.state == MessageState.DELIVERED
    # Touched, so that it does not hold the head of the queue every round.
    assert not overdue_messages().filter(pk=foreign.pk).exists()


def test_an_unreachable_api_skips_the_message(application):
    Application.objects.filter(pk=application.pk).update(endpoint="http://127.0.0.1:9")
    campaign = Campaign.objects.create(
        name="Gone", channel=Channel.SMS, application=application, body_text="Hi"
    )
    message = Message.objects.create(
        campaign=campaign, recipient="27821000001", state=MessageState.SENT, iliveit_id="X-1"
    )
    make_overdue([message])

    counts = messages_reconcile()

    assert counts["skipped"] == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_the_overdue_query_uses_the_partial_index_condition(db):
    # The index condition lists the same states as the query, so the database can use it.
    from messaging.models import Message as M

    [index] = [i for i in M._meta.indexes if i.name == "message_awaiting_report"]
    states = dict(index.condition.children)["state__in"]
    assert tuple(states) == AWAITING_REPORT
    with CaptureQueriesContext(connection) as queries:
        list(overdue_messages()[:10])
    assert "ORDER BY" in queries[0]["sql"] and "updated_at" in queries[0]["sql"]


def test_late_postbacks_are_counted_per_campaign(application):
    campaign = Campaign.objects.create(
        name="Late", channel=Channel.SMS, application=application, body_text="Hi"
    )
    other = Campaign.objects.create(
        name="Other", channel=Channel.SMS, application=application, body_text="Hi"
    )
    message = Message.objects.create(campaign=campaign, recipient="27821000001")
    elsewhere = Message.objects.create(campaign=other, recipient="27821000001")
    now = timezone.now()
    for i, (msg, source, late) in enumerate(
        [
            (message, EventSource.POSTBACK, 120),
            (message, EventSource.POSTBACK, 0),
            (message, EventSource.POLL, 0),
            (message, EventSource.POSTBACK, 5),
            (elsewhere, EventSource.POSTBACK, 99),
        ]
    ):
        MessageEvent.objects.create(
            message=msg,
            stage="sent",
            code=1,
            stage_at=now - timedelta(minutes=i),
            source=source,
            late_by_s=late,
        )

    assert late_postbacks_count(campaign=campaign) == 2
    assert late_postbacks_count(campaign=other) == 1
