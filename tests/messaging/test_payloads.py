"""What each channel's stored content becomes on the wire, checked by what the sandbox received
over HTTP."""

import base64

import pytest
from django.core.files.base import ContentFile

from messaging.models import Attachment, Campaign, Channel, Message, Slide
from messaging.services import campaign_launch, message_submit
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
