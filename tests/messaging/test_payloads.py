"""What each channel's stored content becomes on the wire, checked by what the sandbox received
over HTTP."""

import base64
import io
import json
import time

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from messaging.clients import application_client
from messaging.models import Attachment, Campaign, Channel, Message, MessageState, Slide
from messaging.services import campaign_launch, message_submit
from messaging.unsubscribe_links import unsubscribe_token_read
from tests.messaging.compose_helpers import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_and_no_workers(settings, tmp_path, empty_task_queue):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def application(sandbox_application):
    """Every test here reads what the sandbox received."""
    return sandbox_application


def send(campaign: Campaign, recipient: str, sandbox) -> dict:
    message = Message.objects.create(campaign=campaign, recipient=recipient)
    campaign_launch(campaign=campaign, user=None)
    message_submit(message_id=message.pk)
    message.refresh_from_db()
    return sandbox.message(message.iliveit_id)


def test_an_mms_sends_its_slides_in_order_with_media_as_base64(application, sandbox):
    campaign = Campaign.objects.create(
        name="Gallery", channel=Channel.MMS, application=application, subject="Look"
    )
    Slide.objects.create(campaign=campaign, position=0, duration=4, text="First")
    picture = Slide(campaign=campaign, position=1, duration=6, media_type="image", mime="image/png")
    picture.media.save("dot.png", ContentFile(png_bytes()))

    record = send(campaign, "27821000001", sandbox)

    data = record["request"]["Data"]
    assert data["subject"] == "Look"
    assert [slide["duration"] for slide in data["slides"]] == ["4", "6"]
    assert data["slides"][0]["content"] == [
        {"type": "text", "mime": "text/plain", "data": "First", "name": "text.txt"}
    ]
    media = data["slides"][1]["content"][0]
    assert (media["type"], media["mime"]) == ("image", "image/png")
    assert base64.b64decode(media["data"]) == png_bytes()


def test_an_email_sends_its_bodies_sender_details_and_attachments(application, sandbox):
    campaign = Campaign.objects.create(
        name="Newsletter",
        channel=Channel.EMAIL,
        application=application,
        subject="News",
        body_html="<h1>News</h1>",
        body_text="News",
        from_name="Portal",
        reply_to="help@example.com",
    )
    attachment = Attachment(campaign=campaign, filename="terms.txt", mime="text/plain")
    attachment.file.save("terms.txt", ContentFile(b"The terms."))

    data = send(campaign, "reader@example.com", sandbox)["request"]["Data"]

    assert data["address"] == ["reader@example.com"]
    assert (data["subject"], data["html"], data["text"]) == ("News", "<h1>News</h1>", "News")
    assert (data["fromname"], data["replyto"]) == ("Portal", "help@example.com")
    assert data["attachments"][0]["filename"] == "terms.txt"
    assert base64.b64decode(data["attachments"][0]["data"]) == b"The terms."


def test_a_video_mms_is_a_build_request_with_its_template_data(application, sandbox):
    campaign = Campaign.objects.create(
        name="Birthday",
        channel=Channel.VIDEO,
        application=application,
        template_id=7,
        template_data={"name": "Thandi"},
    )
    record = send(campaign, "27821000001", sandbox)
    request = record["request"]
    assert record["kind"] == "video"
    assert request["BuildTemplate"] == 7
    assert request["Data"] == '{"name": "Thandi"}'
    assert '"msisdn": ["27821000001"]' in request["AfterBuildData"]


def test_an_edit_after_a_test_send_is_what_the_launch_sends(application, sandbox):
    from messaging.services import campaign_test_send

    campaign = Campaign.objects.create(
        name="Gallery", channel=Channel.MMS, application=application, subject="Look"
    )
    slide = Slide.objects.create(campaign=campaign, position=0, duration=4, text="Draft text")
    test = campaign_test_send(campaign=campaign, recipient="27821000009", user=None)
    message_submit(message_id=test.pk)
    slide.text = "Final text"
    slide.save()

    data = send(campaign, "27821000001", sandbox)["request"]["Data"]
    assert data["slides"][0]["content"][0]["data"] == "Final text"


@pytest.mark.parametrize(
    ("channel", "recipient", "carries_reply_url"),
    [
        (Channel.SMS, "27821000001", True),
        (Channel.EMAIL, "reader@example.com", True),
        (Channel.MMS, "27821000001", False),
    ],
)
def test_sms_and_email_carry_their_own_signed_reply_url(
    application, channel, recipient, carries_reply_url, settings
):
    from messaging.payloads import build_payload
    from messaging.postback_urls import reply_url

    settings.PORTAL_BASE_URL = "https://portal.example.com"
    campaign = Campaign.objects.create(
        name="Replies", channel=channel, application=application, subject="Hi", body_text="Hi"
    )
    message = Message.objects.create(campaign=campaign, recipient=recipient)

    payload = build_payload(message)

    expected = reply_url(message.ref) if carries_reply_url else ""
    assert payload.postback_reply_url == expected


# --- personalised: each recipient's own content, end to end -------------------------------------
# A recipients CSV with fields is imported, the campaign launched and each message submitted to
# the sandbox over HTTP; what the sandbox archived for each recipient carries their own values.


def import_csv(campaign: Campaign, text: str) -> None:
    from messaging.recipients import campaign_add_recipients, read_recipient_file

    parsed = read_recipient_file(file=io.BytesIO(text.encode()), channel=campaign.channel)
    assert parsed.rejected_total == 0, parsed.rejected
    campaign_add_recipients(campaign=campaign, parsed=parsed)


def send_all(campaign: Campaign) -> dict[str, Message]:
    """Launch, submit every message inline; answers them by recipient."""
    campaign_launch(campaign=campaign, user=None)
    messages = {}
    for message in campaign.messages.order_by("id"):
        assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED
        message.refresh_from_db()
        messages[message.recipient] = message
    return messages


def archived(sandbox, message: Message) -> dict:
    """What iLiveIt (the sandbox) archived for the message, read back through our client."""
    deadline = time.monotonic() + 10
    while sandbox.message(message.iliveit_id)["status"]["archive_status"] != 4:
        assert time.monotonic() < deadline, "the sandbox did not archive it"
        time.sleep(0.05)
    client = application_client(message.campaign.application)
    return client.archived_message(message.iliveit_id).data


def test_a_personalised_sms_carries_each_recipients_own_values(application, sandbox):
    campaign = Campaign.objects.create(
        name="Balances",
        channel=Channel.SMS,
        application=application,
        body_text='Hi {{ first_name|default:"there" }}, you owe R{{ amount }} ({{ recipient }}).',
    )
    import_csv(campaign, "First Name,Mobile,Amount\nThandi,0821000001,1 234.50\n,0821000002,99\n")

    messages = send_all(campaign)

    assert archived(sandbox, messages["27821000001"])["text"] == (
        "Hi Thandi, you owe R1 234.50 (27821000001)."
    )
    assert archived(sandbox, messages["27821000002"])["text"] == (
        "Hi there, you owe R99 (27821000002)."
    )


def test_a_personalised_email_carries_each_recipients_values_escaped_in_html(application, sandbox):
    campaign = Campaign.objects.create(
        name="Statements",
        channel=Channel.EMAIL,
        application=application,
        subject="Statement for {{ name }}",
        body_html='<p>Dear {{ name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        body_text="Dear {{ name }}, see {{ unsubscribe_url }}",
    )
    import_csv(campaign, "email,name\nann@example.com,Ann & Co\nben@example.com,<Ben>\n")

    messages = send_all(campaign)

    ann = archived(sandbox, messages["ann@example.com"])
    ben = archived(sandbox, messages["ben@example.com"])
    assert (ann["subject"], ben["subject"]) == ("Statement for Ann & Co", "Statement for <Ben>")
    assert ann["html"].startswith("<p>Dear Ann &amp; Co</p>")
    assert ben["html"].startswith("<p>Dear &lt;Ben&gt;</p>")
    assert ann["text"].startswith("Dear Ann & Co, see ")
    # Each carries its own signed unsubscribe link, the same in both bodies.
    for recipient, data in [("ann@example.com", ann), ("ben@example.com", ben)]:
        link = data["text"].rsplit(" ", 1)[1]
        assert f'href="{link}"' in data["html"]
        token = link.removeprefix(f"{settings.PORTAL_BASE_URL}/unsubscribe/").removesuffix("/")
        assert unsubscribe_token_read(token) == (application.pk, recipient)


def test_a_personalised_mms_carries_each_recipients_subject_and_slide_texts(application, sandbox):
    campaign = Campaign.objects.create(
        name="Gallery", channel=Channel.MMS, application=application, subject="For {{ name }}"
    )
    Slide.objects.create(campaign=campaign, position=0, duration=4, text="Hello {{ name }}")
    picture = Slide(campaign=campaign, position=1, duration=6, media_type="image", mime="image/png")
    picture.media.save("dot.png", ContentFile(png_bytes()))
    Slide.objects.create(campaign=campaign, position=2, duration=3, text="Code {{ code }}")
    import_csv(campaign, "msisdn,name,code\n0821000001,Sam,A1\n0821000002,Lee,B2\n")

    messages = send_all(campaign)

    for recipient, name, code in [("27821000001", "Sam", "A1"), ("27821000002", "Lee", "B2")]:
        data = archived(sandbox, messages[recipient])
        assert data["subject"] == f"For {name}"
        texts = [
            item["data"]
            for slide in data["slides"]
            for item in slide["content"]
            if item["type"] == "text"
        ]
        assert texts == [f"Hello {name}", f"Code {code}"]
        assert base64.b64decode(data["slides"][1]["content"][0]["data"]) == png_bytes()


def test_a_personalised_video_is_built_from_each_recipients_own_data(application, sandbox):
    campaign = Campaign.objects.create(
        name="Invoices",
        channel=Channel.VIDEO,
        application=application,
        template_id=7,
        template_data={"customer": {"name": "{{ name }}"}, "lines": ["Due: R{{ amount }}", 3]},
    )
    import_csv(campaign, "msisdn,name,amount\n0821000001,Thandi,10\n0821000002,Sam,20\n")

    messages = send_all(campaign)

    for recipient, name, amount in [("27821000001", "Thandi", "10"), ("27821000002", "Sam", "20")]:
        request = sandbox.message(messages[recipient].iliveit_id)["request"]
        assert json.loads(request["Data"]) == {
            "customer": {"name": name},
            "lines": [f"Due: R{amount}", 3],
        }


def test_an_otp_campaign_forgets_the_fields_it_rendered_once_submitted(application, sandbox):
    campaign = Campaign.objects.create(
        name="PINs",
        channel=Channel.SMS,
        application=application,
        is_otp=True,
        body_text="Your PIN is {{ pin }}",
    )
    import_csv(campaign, "msisdn,pin\n0821000001,482913\n")

    message = send_all(campaign)["27821000001"]

    assert message.fields is None and message.body is None
    assert sandbox.message(message.iliveit_id)["request"]["Data"]["text"] == "Your PIN is 482913"
