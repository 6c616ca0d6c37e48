import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from messaging.models import Campaign, CampaignState, Channel, Message, MessageState, OptOutSource
from messaging.optouts import opt_out_record

pytestmark = pytest.mark.django_db

EMAIL_TO_A = ["--channel", "email", "--to", "a@example.com", "--text", "x"]


@pytest.fixture
def application(sandbox_application):
    """The one application sendmessage finds sends to the sandbox, so --inline reaches it."""
    return sandbox_application


def run(*args) -> list[str]:
    out = StringIO()
    call_command("sendmessage", *args, stdout=out)
    return out.getvalue().split()


def test_inline_sms_is_submitted_and_prints_both_ids(application, sandbox):
    portal_id, iliveit_id = run(
        "--channel", "sms", "--to", "082 123 4567", "--text", "Hi", "--inline"
    )
    message = Message.objects.get(pk=int(portal_id))
    assert message.iliveit_id == iliveit_id
    assert message.state == MessageState.SUBMITTED
    assert message.recipient == "27821234567"
    assert sandbox.message(iliveit_id)["request"]["Data"]["text"] == "Hi"


def test_inline_email_files_under_the_named_campaign(application, sandbox):
    portal_id, iliveit_id = run(
        "--channel",
        "email",
        "--to",
        "Bob@Example.com",
        "--subject",
        "Hello",
        "--html",
        "<p>Hi</p>",
        "--campaign",
        "Welcome",
        "--inline",
    )
    message = Message.objects.get(pk=int(portal_id))
    assert message.campaign.name == "Welcome"
    data = sandbox.message(iliveit_id)["request"]["Data"]
    assert data["subject"] == "Hello"
    assert data["html"] == "<p>Hi</p>"


def test_single_sends_under_a_name_share_their_own_campaign(application):
    ordinary = Campaign.objects.create(
        name="Welcome", channel=Channel.SMS, application=application, state=CampaignState.SENDING
    )

    sent = [
        run("--channel", "sms", "--to", to, "--text", "Hi", "--campaign", "Welcome")[0]
        for to in ("27821234567", "27821234568")
    ]

    campaigns = {message.campaign for message in Message.objects.filter(pk__in=sent)}
    assert len(campaigns) == 1
    assert ordinary not in campaigns
    assert not ordinary.messages.exists()


def test_two_single_sends_to_one_number_are_two_messages(application):
    first = run("--channel", "sms", "--to", "27821234567", "--text", "One", "--inline")
    second = run("--channel", "sms", "--to", "27821234567", "--text", "Two", "--inline")
    assert first[0] != second[0]
    assert first[1] != second[1]


def test_without_inline_it_only_queues(application):
    (portal_id,) = run("--channel", "sms", "--to", "27821234567", "--text", "Later")
    assert Message.objects.get(pk=int(portal_id)).state == MessageState.QUEUED


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--channel", "sms", "--to", "12", "--text", "x"], "not a valid phone number"),
        (["--channel", "email", "--to", "not-an-address", "--text", "x"], "email"),
        (["--channel", "email", "--to", "a@example.com", "--text", "x"], "subject: required"),
        (["--channel", "sms", "--to", "27821234567"], "text: required"),
        (
            [*EMAIL_TO_A, "--subject", "Hi\r\nBcc: x@y.z"],
            "subject: line breaks and control characters are not allowed",
        ),
        (
            [*EMAIL_TO_A, "--subject", "Hi\u2028Bcc: x@y.z"],
            "subject: line breaks and control characters are not allowed",
        ),
        (
            ["--channel", "sms", "--to", "27821234567", "--text", "x", "--application", "Nope"],
            "No application is named",
        ),
    ],
)
def test_bad_input_is_refused_with_the_reason(application, args, reason):
    with pytest.raises(CommandError, match=reason):
        run(*args)
    assert not Message.objects.exists()


def test_a_message_the_api_refuses_fails_with_the_apis_reason(application):
    application.mvno_id = 999  # not APP_A's MVNO id: the sandbox answers 400
    application.save()
    with pytest.raises(CommandError, match="failed: MVNOID"):
        run("--channel", "sms", "--to", "27821234567", "--text", "x", "--inline")


def test_inline_retries_a_5xx_then_fails_with_the_reason_kept(application, settings):
    settings.SUBMIT_MAX_ATTEMPTS = 3
    settings.SUBMIT_RETRY_BASE_S = 0.05
    with pytest.raises(CommandError, match="gave up after 3 attempts"):
        run("--channel", "sms", "--to", "27000000004", "--text", "x", "--inline")
    message = Message.objects.get()
    assert message.state == MessageState.FAILED
    assert "Internal server error" in message.last_error
    assert message.error_retryable


def test_messagestatus_prints_stages_as_json(application):
    portal_id, iliveit_id = run(
        "--channel", "sms", "--to", "27821234567", "--text", "x", "--inline"
    )
    for key in (portal_id, iliveit_id):
        out = StringIO()
        call_command("messagestatus", key, stdout=out)
        document = json.loads(out.getvalue())
        assert document["message_id"] == iliveit_id
        assert document["state"] == "submitted"
        assert set(document["stages"]) == {"build", "archive", "submit", "sent", "delivered"}
        assert document["events"] == 0


def test_messagestatus_of_an_unknown_id_says_so(db):
    with pytest.raises(CommandError, match="No message"):
        call_command("messagestatus", "nope")


def test_an_opted_out_recipient_is_refused_with_the_reason(application):
    opt_out_record(application=application, recipient="27821234567", source=OptOutSource.REPLY)

    with pytest.raises(CommandError, match=r"27821234567 opted out on .+ \(Reply\)"):
        run("--channel", "sms", "--to", "0821234567", "--text", "Hi")

    assert not Message.objects.exists()


def test_transactional_reaches_an_opted_out_recipient_and_is_recorded(application, sandbox):
    opt_out_record(application=application, recipient="27821234567", source=OptOutSource.REPLY)

    portal_id, iliveit_id = run(
        "--channel",
        "sms",
        "--to",
        "0821234567",
        "--text",
        "PIN 1234",
        "--transactional",
        "--inline",
    )

    message = Message.objects.get(pk=int(portal_id))
    assert message.is_transactional
    assert (message.state, message.iliveit_id) == (MessageState.SUBMITTED, iliveit_id)
