"""Reply postbacks: parsing both shapes and key spellings, quarantine of malformed bodies,
retried replies stored once, and the sandbox's replies arriving over real HTTP."""

import base64
import json
import time
from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage

from messaging.models import CampaignState, Channel, Message, MessageState
from messaging.services import message_submit
from postbacks.drain import postbacks_drain, postbacks_sweep
from postbacks.models import InboxKind, InboxState, PostbackInbox, Reply, ReplyKind
from postbacks.replies import MalformedReply, parse_reply, reply_apply
from tests.postbacks.webhook import only_inbox_row, post_reply, sms_reply_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def sms_reply(message_id="MSG-0001", text="STOP", *, retry=0, sender="27820000001") -> dict:
    return {
        "MessageId": message_id,
        "SourceMSISDN": sender,
        "DestinationMSISDN": "40001",
        "Message": text,
        "ExtraDigits": "",
        "RetryCount": retry,
    }


def raw_email(*, subject="Re: Spring sale", text="Please call me", html=None) -> bytes:
    email = EmailMessage()
    email["From"] = "reader@example.com"
    email["To"] = "portal@example.com"
    email["Subject"] = subject
    email["Message-ID"] = "<reply-1@example.com>"
    if text is not None:
        email.set_content(text)
    if html is not None:
        if text is None:
            email.set_content(html, subtype="html")
        else:
            email.add_alternative(html, subtype="html")
    return bytes(email)


def email_reply(message_id="MSG-0001", raw=None, *, retry=0, address="reader@example.com"):
    raw = raw_email() if raw is None else raw
    return {
        "message_id": message_id,
        "address": address,
        "content": base64.b64encode(raw).decode(),
        "RetryCount": retry,
    }


def store(message, body) -> PostbackInbox:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return PostbackInbox.objects.create(message=message, kind=InboxKind.REPLY, body=data)


def apply(message, body) -> PostbackInbox:
    inbox = store(message, body)
    reply_apply(inbox_id=inbox.pk)
    inbox.refresh_from_db()
    return inbox


# --- parsing --------------------------------------------------------------------------------


def test_it_reads_an_sms_reply():
    reply = parse_reply(json.dumps(sms_reply(text="Yes please")).encode())

    assert reply.kind == ReplyKind.SMS
    assert reply.message_id == "MSG-0001"
    assert reply.sender == "27820000001"
    assert reply.text == "Yes please"
    assert reply.raw_email == b""


def test_it_reads_an_email_reply_with_its_subject_and_plain_text():
    raw = raw_email(subject="Re: Spring sale", text="Please call me", html="<p>HTML</p>")
    reply = parse_reply(json.dumps(email_reply(raw=raw)).encode())

    assert reply.kind == ReplyKind.EMAIL
    assert reply.sender == "reader@example.com"
    assert reply.subject == "Re: Spring sale"
    assert reply.text == "Please call me"
    assert reply.raw_email == raw


def test_an_html_only_email_reads_as_its_text_without_tags():
    raw = raw_email(text=None, html="<p>Call <b>me</b></p>")

    assert parse_reply(json.dumps(email_reply(raw=raw)).encode()).text == "Call me"


def test_an_email_without_a_body_reads_as_its_subject():
    raw = b"From: reader@example.com\r\nSubject: Unsubscribe\r\nContent-Type: image/png\r\n\r\nxx"

    reply = parse_reply(json.dumps(email_reply(raw=raw)).encode())

    assert reply.subject == "Unsubscribe"
    assert reply.text == "Unsubscribe"


def test_an_email_with_an_unknown_charset_is_still_read():
    raw = (
        b"From: reader@example.com\r\nSubject: =?x-nonsense?q?Hi?=\r\n"
        b"Content-Type: text/plain; charset=x-nonsense\r\n\r\n\xff\xfe hello"
    )

    reply = parse_reply(json.dumps(email_reply(raw=raw)).encode())

    assert reply.raw_email == raw


@pytest.mark.parametrize(
    "keys",
    [
        {"message_id": "MSG-1", "source_msisdn": "27820000001", "message": "STOP"},
        {"MessageID": "MSG-1", "SourceMsisdn": "27820000001", "MESSAGE": "STOP"},
    ],
    ids=["snake_case", "go_case"],
)
def test_sms_keys_are_read_in_either_spelling(keys):
    reply = parse_reply(json.dumps(keys).encode())

    assert (reply.message_id, reply.sender, reply.text) == ("MSG-1", "27820000001", "STOP")


def test_email_keys_are_read_in_either_spelling():
    body = email_reply()
    body = {"MessageId": body["message_id"], "Address": body["address"], "Content": body["content"]}

    reply = parse_reply(json.dumps(body).encode())

    assert (reply.kind, reply.sender) == (ReplyKind.EMAIL, "reader@example.com")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'"STOP"', "not an object"),
        (json.dumps({"MessageId": "M", "Message": "STOP"}).encode(), "sourcemsisdn: missing"),
        (json.dumps({**sms_reply(), "SourceMSISDN": ""}).encode(), "sourcemsisdn: empty"),
        (json.dumps({**sms_reply(), "SourceMSISDN": 2782}).encode(), "expected a string"),
        (json.dumps({**sms_reply(), "Message": ["STOP"]}).encode(), "expected a string"),
        (json.dumps({**sms_reply(), "Message": None}).encode(), "message: missing"),
        (json.dumps({**sms_reply(), "Message": "a\x00b"}).encode(), "NUL"),
        (json.dumps({**sms_reply(), "Message": "a\ud800"}).encode(), "lone surrogate"),
        (json.dumps({**sms_reply(), "MessageId": 7}).encode(), "expected a string"),
        (json.dumps({**sms_reply(), "MessageId": "M" * 200}).encode(), "longer than"),
        (json.dumps({**sms_reply(), "SourceMSISDN": "2" * 300}).encode(), "longer than"),
        (json.dumps({**email_reply(), "content": "not base64!"}).encode(), "not base64"),
        (json.dumps({**email_reply(), "content": "é"}).encode(), "not base64"),
        (json.dumps({**email_reply(), "content": ""}).encode(), "content: empty"),
        (json.dumps({**email_reply(), "content": 12}).encode(), "expected a string"),
        (json.dumps({"message_id": "M", "content": "aGk="}).encode(), "address: missing"),
        (json.dumps({"message_id": "M", "address": "a@b.c"}).encode(), "content: missing"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_a_malformed_body_is_quarantined_with_its_reason(message, body, reason):
    with pytest.raises(MalformedReply, match=reason):
        parse_reply(body)

    inbox = apply(message, body)

    assert inbox.state == InboxState.QUARANTINED
    assert reason in inbox.reason
    assert inbox.processed_at is not None
    assert not Reply.objects.exists()


def test_a_truncated_body_is_quarantined(message):
    inbox = PostbackInbox.objects.create(
        message=message, kind=InboxKind.REPLY, body=b'{"Message', truncated=True
    )

    assert reply_apply(inbox_id=inbox.pk) == InboxState.QUARANTINED


def test_a_row_without_a_message_is_quarantined(db):
    inbox = PostbackInbox.objects.create(
        kind=InboxKind.REPLY, body=json.dumps(sms_reply()).encode()
    )

    assert reply_apply(inbox_id=inbox.pk) == InboxState.QUARANTINED
    assert not Reply.objects.exists()


def test_an_unexpected_parser_failure_is_quarantined_not_raised(message, monkeypatch):
    from postbacks import replies

    def explode(raw):
        raise AssertionError("parser bug")

    monkeypatch.setattr(replies, "_email_parts", explode)

    inbox = apply(message, email_reply())

    assert inbox.state == InboxState.QUARANTINED
    assert "AssertionError" in inbox.reason


# --- applying -------------------------------------------------------------------------------


def test_an_sms_reply_is_stored_on_its_message(message):
    inbox = apply(message, sms_reply(message.iliveit_id, "STOP"))

    assert inbox.state == InboxState.APPLIED
    [reply] = message.replies.all()
    assert (reply.kind, reply.sender, reply.text, reply.subject) == (
        ReplyKind.SMS,
        "27820000001",
        "STOP",
        "",
    )
    assert reply.inbox == inbox
    assert not reply.raw_email
    # Kept with its campaign and application, for the replies pages' indexes.
    assert (reply.campaign, reply.application) == (
        message.campaign,
        message.campaign.application,
    )


def test_an_email_reply_keeps_the_raw_email_as_a_file(message):
    raw = raw_email(subject="Re: hello", text="Thanks!")

    assert apply(message, email_reply(message.iliveit_id, raw)).state == InboxState.APPLIED

    [reply] = message.replies.all()
    assert (reply.kind, reply.subject, reply.text) == (ReplyKind.EMAIL, "Re: hello", "Thanks!")
    assert reply.raw_email.name.startswith(f"replies/{message.pk}/")
    with default_storage.open(reply.raw_email.name, "rb") as handle:
        assert handle.read() == raw


def test_a_retried_sms_reply_is_one_reply(message):
    first = apply(message, sms_reply(message.iliveit_id, "STOP", retry=0))
    second = apply(message, sms_reply(message.iliveit_id, "STOP", retry=1))
    third = apply(message, sms_reply(message.iliveit_id, "STOP", retry=2))

    assert [first.state, second.state, third.state] == [
        InboxState.APPLIED,
        InboxState.DUPLICATE,
        InboxState.DUPLICATE,
    ]
    assert message.replies.count() == 1


def test_a_retried_email_reply_is_one_reply_and_one_file(message, tmp_path):
    raw = raw_email()

    apply(message, email_reply(message.iliveit_id, raw, retry=0))
    assert apply(message, email_reply(message.iliveit_id, raw, retry=1)).state == (
        InboxState.DUPLICATE
    )

    assert message.replies.count() == 1
    assert len(list((tmp_path / "replies" / str(message.pk)).iterdir())) == 1


def test_different_replies_to_one_message_are_each_kept(message):
    apply(message, sms_reply(message.iliveit_id, "STOP"))
    apply(message, sms_reply(message.iliveit_id, "Sorry, START"))

    assert list(message.replies.values_list("text", flat=True)) == ["STOP", "Sorry, START"]


def test_the_same_text_to_two_messages_is_two_replies(make_message):
    one, two = make_message(), make_message()

    apply(one, sms_reply(one.iliveit_id, "STOP"))
    apply(two, sms_reply(two.iliveit_id, "STOP"))

    assert (one.replies.count(), two.replies.count()) == (1, 1)


def test_a_reply_naming_another_message_is_kept_as_suspicious(message):
    inbox = apply(message, sms_reply("MSG-SOMEONE-ELSE", "STOP"))

    assert inbox.state == InboxState.SUSPICIOUS
    assert not Reply.objects.exists()


def test_an_applied_row_is_not_applied_again(message):
    inbox = apply(message, sms_reply(message.iliveit_id))

    assert reply_apply(inbox_id=inbox.pk) == InboxState.APPLIED
    assert message.replies.count() == 1


def test_the_sweeper_applies_a_pending_reply(message):
    inbox = store(message, sms_reply(message.iliveit_id, "STOP"))

    assert postbacks_sweep(older_than_s=0)["postbacks_applied"] == 1

    inbox.refresh_from_db()
    assert inbox.state == InboxState.APPLIED
    assert message.replies.get().text == "STOP"


# --- the sandbox's replies over HTTP --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestSandboxReplies:
    @pytest.fixture(autouse=True)
    def _portal(self, live_server, settings):
        settings.PORTAL_BASE_URL = live_server.url

    @pytest.fixture
    def sandbox_campaign(self, make_campaign, sandbox_application):
        def make(channel: str, recipient: str) -> Message:
            # Written as launched, so that no enqueued hint or worker is involved.
            campaign = make_campaign(
                channel,
                application=sandbox_application,
                name=f"Replies {channel}",
                state=CampaignState.SENDING,
                subject="Spring sale",
                body_text="Reply STOP to stop",
                body_html="<p>Reply to this email</p>",
                from_name="Portal",
            )
            return Message.objects.create(
                campaign=campaign, recipient=recipient, state=MessageState.QUEUED
            )

        return make

    def wait_for_reply(self, message: Message, timeout: float = 20) -> Reply:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            postbacks_drain()  # what the worker does with each stored postback
            reply = Reply.objects.filter(message=message).first()
            if reply is not None:
                return reply
            time.sleep(0.1)
        raise AssertionError("no reply stored in time")

    def test_the_sandboxs_sms_stop_reply_is_stored(self, sandbox, sandbox_campaign, live_server):
        message = sandbox_campaign(Channel.SMS, "27000000009")
        message_submit(message_id=message.pk)

        reply = self.wait_for_reply(message)

        assert (reply.kind, reply.sender, reply.text) == (ReplyKind.SMS, "27000000009", "STOP")
        message.refresh_from_db()
        reply_url = sandbox.message(message.iliveit_id)["postback_reply_url"]
        assert reply_url.startswith(f"{live_server.url}/postbacks/reply/{message.ref}/")

    def test_the_sandboxs_email_reply_is_stored_with_its_raw_email(self, sandbox, sandbox_campaign):
        message = sandbox_campaign(Channel.EMAIL, "reply@example.com")
        message_submit(message_id=message.pk)

        reply = self.wait_for_reply(message)

        assert reply.kind == ReplyKind.EMAIL
        assert reply.sender == "reply@example.com"
        assert reply.raw_email.name.startswith(f"replies/{message.pk}/")
        with default_storage.open(reply.raw_email.name, "rb") as handle:
            raw = handle.read()
        assert raw and reply.content_hash
        inbox = PostbackInbox.objects.get(kind=InboxKind.REPLY)
        assert base64.b64encode(raw).decode() in bytes(inbox.body).decode()

    def test_a_reply_injected_through_the_sandbox_is_stored_once(self, sandbox, sandbox_campaign):
        message = sandbox_campaign(Channel.SMS, "27821000001")
        message_submit(message_id=message.pk)
        message.refresh_from_db()

        for _ in range(2):  # the same reply again is the same Reply
            sandbox.control(
                "POST", f"messages/{message.iliveit_id}/reply", json={"text": "Call me"}
            )
        deadline = time.monotonic() + 20
        while PostbackInbox.objects.filter(kind=InboxKind.REPLY).count() < 2:
            assert time.monotonic() < deadline, "replies not posted in time"
            time.sleep(0.1)
        postbacks_drain()

        [reply] = message.replies.all()
        assert (reply.sender, reply.text) == ("27821000001", "Call me")
        states = PostbackInbox.objects.filter(kind=InboxKind.REPLY).values_list("state", flat=True)
        assert sorted(states) == [InboxState.APPLIED, InboxState.DUPLICATE]


# --- through the reply route --------------------------------------------------------------


def test_a_reply_is_stored_and_applied(client, message):
    response = post_reply(client, message, sms_reply_body(message))

    assert response.status_code == 200
    row = only_inbox_row()
    assert (row.kind, row.state) == ("reply", InboxState.APPLIED)
    assert message.replies.get().text == "STOP"


def test_a_reply_for_a_signed_ref_without_a_message_is_quarantined(client, message):
    message.ref = "no-such-message-ref"

    assert post_reply(client, message, sms_reply_body(message)).status_code == 200
    assert (only_inbox_row().state, only_inbox_row().reason) == (
        InboxState.QUARANTINED,
        "no message",
    )


def test_a_malformed_reply_is_answered_200_and_quarantined(client, message):
    response = post_reply(client, message, b"{not json")

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.QUARANTINED
