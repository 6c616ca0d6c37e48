"""Opt-outs from postbacks: keyword replies (STOP, START...) and bounced emails, recorded on
the application's list; and, end to end through the sandbox over HTTP, what that list then
stops: the next import, the rest of a running campaign."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import (
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
    OptOut,
    OptOutSource,
)
from messaging.optouts import opt_out_record
from messaging.recipients import campaign_add_recipients, parse_recipients
from messaging.services import campaign_launch, message_submit, messages_submit
from postbacks.drain import postbacks_drain
from postbacks.models import EventSource, InboxKind, PostbackInbox
from postbacks.opt_outs import keyword_of
from postbacks.replies import reply_apply
from postbacks.services import status_apply
from tests.postbacks.bodies import status_body
from tests.postbacks.webhook import SENT, SUBMITTED, delivery, store
from tests.postbacks.webhook import post as post_status

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
BOUNCED = (2, "Bounced", NOW - timedelta(seconds=30))
DELIVERED = (1, "Delivered", NOW - timedelta(seconds=30))


def sms_reply(message: Message, text: str) -> dict:
    return {
        "MessageId": message.iliveit_id,
        "SourceMSISDN": message.recipient,
        "DestinationMSISDN": "40001",
        "Message": text,
        "ExtraDigits": "",
        "RetryCount": 0,
    }


def reply(message: Message, text: str, *, retry: int = 0) -> str:
    body = {**sms_reply(message, text), "RetryCount": retry}
    inbox = PostbackInbox.objects.create(
        message=message, kind=InboxKind.REPLY, body=json.dumps(body).encode()
    )
    return reply_apply(inbox_id=inbox.pk)


def entry_of(message: Message) -> OptOut | None:
    return OptOut.objects.filter(
        application=message.campaign.application, recipient=message.recipient
    ).first()


# --- keyword replies ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP", " stop\n", "Unsubscribe", "opt  out", "OptOut", "END"])
def test_an_opt_out_keyword_opts_the_number_out_of_the_messages_application(message, text):
    reply(message, text)

    entry = entry_of(message)
    assert entry is not None
    assert (entry.source, entry.reason, entry.message) == (
        OptOutSource.REPLY,
        keyword_of(text),
        message,
    )
    assert AuditEntry.objects.get(action=AuditAction.OPT_OUT_ADD).detail["source"] == "reply"


@pytest.mark.parametrize("text", ["STOP please", "Stop it now", "", "START", "Call me"])
def test_any_other_reply_is_only_stored(message, text):
    reply(message, text)

    assert not OptOut.objects.exists()
    assert message.replies.count() == 1


def test_the_keywords_come_from_the_settings(message, settings):
    settings.OPT_OUT_KEYWORDS = ["HALT"]

    reply(message, "STOP")
    assert not OptOut.objects.exists()
    reply(message, "halt")
    assert entry_of(message).reason == "HALT"


def test_a_retried_stop_is_one_opt_out_and_one_audit_entry(message):
    for retry in range(3):
        reply(message, "STOP", retry=retry)

    assert OptOut.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.OPT_OUT_ADD).count() == 1


@pytest.mark.parametrize("text", ["START", "unstop", " Yes "])
def test_an_opt_in_keyword_opts_the_number_back_in(message, text):
    reply(message, "STOP")

    reply(message, text)

    assert entry_of(message) is None
    removal = AuditEntry.objects.get(action=AuditAction.OPT_OUT_REMOVE)
    assert removal.detail["reason"] == keyword_of(text)


def test_an_opt_in_without_an_opt_out_changes_nothing(message):
    reply(message, "START")

    assert not AuditEntry.objects.filter(action=AuditAction.OPT_OUT_REMOVE).exists()


def test_an_email_reply_saying_stop_is_not_an_opt_out(make_message):
    import base64

    message = make_message()
    raw = b"From: reader@example.com\r\nSubject: STOP\r\n\r\nSTOP"
    body = {"message_id": message.iliveit_id, "address": "r@example.com"}
    body["content"] = base64.b64encode(raw).decode()
    inbox = PostbackInbox.objects.create(
        message=message, kind=InboxKind.REPLY, body=json.dumps(body).encode()
    )

    reply_apply(inbox_id=inbox.pk)

    assert message.replies.count() == 1
    assert not OptOut.objects.exists()


# --- bounces --------------------------------------------------------------------------------


@pytest.fixture
def email_message(make_campaign):
    campaign = make_campaign(Channel.EMAIL, state=CampaignState.SENDING)
    return Message.objects.create(
        campaign=campaign,
        recipient="reader@example.com",
        state=MessageState.SENT,
        iliveit_id="MSG-EMAIL-1",
    )


def bounce_body(message: Message, delivered=BOUNCED) -> dict:
    stages = {"submit": SUBMITTED, "sent": SENT, "delivered": delivered}
    return status_body(message.iliveit_id, "delivery", stages=stages, message_type="email")


def test_a_failed_email_delivery_suppresses_the_address(client, email_message):
    post_status(client, email_message, bounce_body(email_message))

    email_message.refresh_from_db()
    assert email_message.state == MessageState.FAILED
    entry = entry_of(email_message)
    assert (entry.source, entry.reason, entry.message) == (
        OptOutSource.BOUNCE,
        "bounced",
        email_message,
    )


def test_the_bounce_keeps_a_description_that_says_more(client, email_message):
    mailbox_full = (5, "Mailbox full", BOUNCED[2])

    post_status(client, email_message, bounce_body(email_message, mailbox_full))

    assert entry_of(email_message).reason == "bounced: Mailbox full"


def test_a_bounce_learned_by_polling_suppresses_the_address_too(email_message):
    from iliveit import StatusResult

    result = StatusResult.from_body(json.dumps(bounce_body(email_message)).encode())
    locked = Message.objects.filter(pk=email_message.pk).locked().get()

    status_apply(message=locked, result=result, source=EventSource.POLL)

    assert entry_of(email_message).source == OptOutSource.BOUNCE


def test_a_delivered_email_and_a_failed_sms_delivery_suppress_nothing(
    client, email_message, message
):
    post_status(client, email_message, bounce_body(email_message, DELIVERED))
    post_status(client, message, delivery(message.iliveit_id, delivered=BOUNCED))

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert not OptOut.objects.exists()


def test_a_repeated_bounce_report_is_one_entry(client, email_message):
    store(email_message, bounce_body(email_message))
    store(email_message, bounce_body(email_message))
    postbacks_drain()

    assert OptOut.objects.count() == 1


# --- end to end through the sandbox ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestThroughTheSandbox:
    STOPS = "27000000009"  # the sandbox's recipient that replies STOP once delivered

    @pytest.fixture(autouse=True)
    def _portal(self, live_server, settings, empty_task_queue):
        settings.PORTAL_BASE_URL = live_server.url

    def sent_campaign(self, application, channel: str, recipients: list[str], name: str):
        """A campaign written as launched and its messages submitted inline (no worker)."""
        campaign = Campaign.objects.create(
            name=name,
            channel=channel,
            application=application,
            state=CampaignState.SENDING,
            subject="Spring sale",
            body_text="Reply STOP to stop",
        )
        for recipient in recipients:
            message = Message.objects.create(
                campaign=campaign, recipient=recipient, state=MessageState.QUEUED
            )
            message_submit(message_id=message.pk)
        return campaign

    def wait_for(self, condition, what: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            postbacks_drain()  # what the worker does with each stored postback
            found = condition()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{what}: not in time")

    def import_into(self, application, channel: str, lines: str):
        campaign = Campaign.objects.create(
            name="Next", channel=channel, application=application, body_text="Hi", subject="Hi"
        )
        parsed = parse_recipients(lines=lines, channel=channel)
        return campaign, campaign_add_recipients(campaign=campaign, parsed=parsed)

    def stop_from_the_sandbox(self, application) -> OptOut:
        self.sent_campaign(application, Channel.SMS, [self.STOPS], "First")
        return self.wait_for(
            lambda: OptOut.objects.filter(application=application, recipient=self.STOPS).first(),
            "the STOP reply's opt-out",
        )

    def test_the_stop_recipient_opts_out_and_the_next_campaign_skips_it(
        self, sandbox, sandbox_application
    ):
        entry = self.stop_from_the_sandbox(sandbox_application)

        assert (entry.source, entry.reason) == (OptOutSource.REPLY, "STOP")
        assert entry.message.recipient == self.STOPS
        campaign, result = self.import_into(
            sandbox_application, Channel.SMS, f"{self.STOPS}\n0821000001"
        )
        assert result.added == 1
        [rejected] = result.rejected
        assert (rejected.line, rejected.value) == (1, self.STOPS)
        # The portal's day (TIME_ZONE), which is not UTC's for two hours each night.
        assert (
            rejected.reason
            == f"opted out on {timezone.localtime(entry.created_at):%Y-%m-%d} (Reply)"
        )
        assert list(campaign.messages.values_list("recipient", flat=True)) == ["27821000001"]

    def test_a_stop_arriving_mid_campaign_cancels_the_later_message_to_that_number(
        self, sandbox, sandbox_application
    ):
        # A long campaign, launched before the STOP, still holds a queued message to it.
        running = Campaign.objects.create(
            name="Running",
            channel=Channel.SMS,
            application=sandbox_application,
            body_text="Hi",
        )
        Message.objects.bulk_create(
            Message(campaign=running, recipient=recipient)
            for recipient in ("27821000001", self.STOPS, "27821000002")
        )
        campaign_launch(campaign=running, user=None)
        first, *rest = running.messages.order_by("id").values_list("id", flat=True)
        messages_submit(message_ids=[first])

        self.stop_from_the_sandbox(sandbox_application)
        before = sandbox.submissions()["total"]
        outcomes = messages_submit(message_ids=rest)

        # The others went out (and may have been delivered by now).
        sent = running.messages.exclude(iliveit_id=None).values_list("recipient", flat=True)
        assert sorted(sent) == ["27821000001", "27821000002"]
        stopped = running.messages.get(recipient=self.STOPS)
        assert stopped.state == MessageState.CANCELLED
        assert (stopped.last_error, stopped.iliveit_id) == ("opted out", None)
        assert outcomes[stopped.pk].state == MessageState.CANCELLED
        assert sandbox.submissions()["total"] == before + 1  # only 27821000002 went out

    def test_start_opts_the_number_back_in(self, sandbox, sandbox_application):
        entry = self.stop_from_the_sandbox(sandbox_application)
        replied_to = entry.message

        sandbox.control("POST", f"messages/{replied_to.iliveit_id}/reply", json={"text": "START"})
        self.wait_for(
            lambda: not OptOut.objects.filter(application=sandbox_application).exists(),
            "the START reply's opt-in",
        )

        _, result = self.import_into(sandbox_application, Channel.SMS, self.STOPS)
        assert (result.added, result.rejected_total) == (1, 0)

    def test_a_bounce_suppresses_the_address_for_the_next_campaign(
        self, sandbox, sandbox_application
    ):
        self.sent_campaign(sandbox_application, Channel.EMAIL, ["bounce@example.com"], "Mail")

        entry = self.wait_for(
            lambda: OptOut.objects.filter(recipient="bounce@example.com").first(),
            "the bounce's suppression",
        )

        assert (entry.source, entry.reason) == (OptOutSource.BOUNCE, "bounced")
        assert entry.message.state == MessageState.FAILED
        _, result = self.import_into(
            sandbox_application, Channel.EMAIL, "bounce@example.com\nreader@example.com"
        )
        assert result.added == 1
        assert result.rejected[0].reason.endswith("(Bounce)")


def test_a_recorded_opt_out_is_not_moved_by_a_later_bounce(client, email_message):
    opt_out_record(
        application=email_message.campaign.application,
        recipient=email_message.recipient,
        source=OptOutSource.MANUAL,
    )

    post_status(client, email_message, bounce_body(email_message))

    assert entry_of(email_message).source == OptOutSource.MANUAL
