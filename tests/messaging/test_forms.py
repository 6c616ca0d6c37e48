"""Every refusal names its field, and says why."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.forms import (
    EmailCampaignForm,
    LaunchForm,
    MMSCampaignForm,
    RecipientsForm,
    SlideFormSet,
    SMSCampaignForm,
    TestSendForm,
    VideoCampaignForm,
    error_summary,
)
from messaging.models import Campaign, Channel
from tests.messaging.compose_helpers import (
    GIF_BYTES,
    fake_image_upload,
    make_campaign,
    png_upload,
    slide_data,
)

pytestmark = pytest.mark.django_db


def _data(application, **content):
    return {"name": "Spring sale", "application": str(application.pk), **content}


def _window(**offsets):
    now = timezone.localtime()
    return {
        f"submit_not_{edge}": (now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")
        for edge, hours in offsets.items()
    }


def _files(*uploads):
    return {"new_attachments": list(uploads)}


def _slides(slides, files=None, campaign=None):
    campaign = campaign or Campaign(channel=Channel.MMS)
    return SlideFormSet(slide_data(slides), files or {}, instance=campaign, prefix="slides")


# --- common fields ------------------------------------------------------------------------------


def test_a_window_ending_before_it_starts_is_refused_on_its_end(application):
    form = SMSCampaignForm(
        _data(application, body_text="Hi", **_window(before=3, after=2)),
        instance=Campaign(channel=Channel.SMS),
    )
    assert not form.is_valid()
    assert list(form.errors) == ["submit_not_after"]
    assert "after “Send no earlier than”" in form.errors["submit_not_after"][0]
    assert error_summary(form) == [f"Send no later than: {form.errors['submit_not_after'][0]}"]


def test_a_window_ending_in_the_past_is_refused(application):
    form = SMSCampaignForm(
        _data(application, body_text="Hi", **_window(after=-1)),
        instance=Campaign(channel=Channel.SMS),
    )
    assert not form.is_valid()
    assert form.errors["submit_not_after"] == ["The send window must end in the future."]


def test_a_window_may_be_given_in_full(application):
    form = SMSCampaignForm(
        _data(application, body_text="Hi", **_window(before=1, after=5)),
        instance=Campaign(channel=Channel.SMS),
    )
    assert form.is_valid(), form.errors


def test_the_name_and_application_are_required(application):
    form = SMSCampaignForm({"body_text": "Hi"}, instance=Campaign(channel=Channel.SMS))
    assert not form.is_valid()
    assert set(form.errors) == {"name", "application"}
    assert "Application: This field is required." in error_summary(form)


# --- email --------------------------------------------------------------------------------------


def test_an_email_needs_a_subject(application):
    form = EmailCampaignForm(
        _data(application, body_text="Hi"), instance=Campaign(channel=Channel.EMAIL)
    )
    assert not form.is_valid()
    assert list(form.errors) == ["subject"]
    assert error_summary(form) == ["Subject: This field is required."]


def test_an_email_needs_an_html_or_a_text_body(application):
    form = EmailCampaignForm(
        _data(application, subject="Hi", body_html="  ", body_text=""),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert not form.is_valid()
    assert set(form.errors) == {"body_html", "body_text"}
    assert "HTML body: Give an HTML body or a text body (or both)." in error_summary(form)


@pytest.mark.parametrize("body", [{"body_html": "<p>Hi</p>"}, {"body_text": "Hi"}])
def test_either_body_is_enough(application, body):
    form = EmailCampaignForm(
        _data(application, subject="Hi", **body), instance=Campaign(channel=Channel.EMAIL)
    )
    assert form.is_valid(), form.errors


def test_a_subject_cannot_carry_a_line_break(application):
    form = EmailCampaignForm(
        _data(application, subject="Hi\r\nBcc: everyone@example.com", body_text="x"),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert not form.is_valid()
    assert "Line breaks" in form.errors["subject"][0]


# Inside the value: a form strips whitespace (line separators included) from the ends.
HEADER_BREAKERS = ["\r\n", "\n", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("breaker", HEADER_BREAKERS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hi{}Bcc: everyone@example.com"),
        ("from_name", "Ann{}Bcc: everyone@example.com"),
        ("reply_to", '"ann{}x"@example.com'),
    ],
)
def test_an_email_header_cannot_carry_a_line_break_or_control_character(
    application, field, value, breaker
):
    content = {"subject": "Hi", "body_text": "x", field: value.format(breaker)}
    form = EmailCampaignForm(
        _data(application, **content), instance=Campaign(channel=Channel.EMAIL)
    )
    assert not form.is_valid()
    assert "Line breaks and control characters are not allowed." in form.errors[field]


@pytest.mark.parametrize("breaker", HEADER_BREAKERS)
def test_an_mms_subject_cannot_carry_a_line_break_or_control_character(application, breaker):
    form = MMSCampaignForm(
        _data(application, subject=f"Look{breaker}X-Evil: 1"),
        instance=Campaign(channel=Channel.MMS),
    )
    assert not form.is_valid()
    assert "Line breaks and control characters are not allowed." in form.errors["subject"]


def test_a_subject_and_from_name_may_hold_any_printable_text(application):
    form = EmailCampaignForm(
        _data(application, subject="Ünïcödé: 50% off ✓ 😀", from_name="Zoë's Café", body_text="x"),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert form.is_valid(), form.errors


def test_a_bad_reply_to_is_refused(application):
    form = EmailCampaignForm(
        _data(application, subject="Hi", body_text="x", reply_to="not an address"),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert not form.is_valid()
    assert list(form.errors) == ["reply_to"]


def test_too_large_an_attachment_is_refused_by_name(application, settings):
    settings.EMAIL_MAX_ATTACHMENT_BYTES = 10
    small = SimpleUploadedFile("small.txt", b"tiny")
    large = SimpleUploadedFile("report.pdf", b"%PDF-" + b"x" * 20)
    form = EmailCampaignForm(
        _data(application, subject="Hi", body_text="x"),
        _files(small, large),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert not form.is_valid()
    [error] = form.errors["new_attachments"]
    assert "report.pdf is 25\xa0bytes" in error
    assert "small.txt" not in error
    assert error_summary(form)[0].startswith("Add attachments: report.pdf")


def test_several_attachments_are_accepted(application):
    form = EmailCampaignForm(
        _data(application, subject="Hi", body_text="x"),
        _files(SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")),
        instance=Campaign(channel=Channel.EMAIL),
    )
    assert form.is_valid(), form.errors
    assert [upload.name for upload in form.attachment_changes().add] == ["a.txt", "b.txt"]


# --- MMS ----------------------------------------------------------------------------------------


def test_an_mms_needs_a_subject(application):
    form = MMSCampaignForm(_data(application), instance=Campaign(channel=Channel.MMS))
    assert not form.is_valid()
    assert list(form.errors) == ["subject"]


def test_an_mms_needs_a_slide():
    slides = _slides([{"duration": "5", "text": ""}])
    assert not slides.is_valid()
    assert slides.non_form_errors() == ["An MMS needs at least one slide."]
    assert error_summary(slides=slides) == ["Slides: An MMS needs at least one slide."]


def test_deleting_every_slide_leaves_none():
    slides = _slides([{"duration": "5", "text": "Hi", "DELETE": "on"}])
    assert not slides.is_valid()
    assert slides.non_form_errors() == ["An MMS needs at least one slide."]


def test_a_slide_needs_text_or_media():
    slides = _slides([{"duration": "7", "text": " "}, {"duration": "5", "text": "Hi"}])
    assert not slides.is_valid()
    assert slides.forms[0].non_field_errors() == ["Each slide needs text, media or both."]
    assert error_summary(slides=slides) == ["Slide 1: Each slide needs text, media or both."]


@pytest.mark.parametrize("duration", ["0", "61", "-1", "x"])
def test_a_slide_lasts_one_to_sixty_seconds(duration):
    slides = _slides([{"duration": duration, "text": "Hi"}])
    assert not slides.is_valid()
    assert list(slides.forms[0].errors) == ["duration"]
    assert error_summary(slides=slides)[0].startswith("Slide 1, Seconds on screen: ")


def test_a_slide_with_a_real_image_is_accepted_with_the_sniffed_type():
    upload = png_upload(content_type="application/octet-stream")
    slides = _slides([{"duration": "5", "text": ""}], {"slides-0-media": upload})
    assert slides.is_valid(), slides.errors
    slide = slides.forms[0].instance
    assert (slide.media_type, slide.mime) == ("image", "image/png")


def test_text_dressed_as_an_image_is_refused():
    slides = _slides([{"duration": "5", "text": "Hi"}], {"slides-0-media": fake_image_upload()})
    assert not slides.is_valid()
    [error] = slides.forms[0].errors["media"]
    assert "not an image, video or audio file" in error
    assert error_summary(slides=slides) == [f"Slide 1, Image, video or audio: {error}"]


def test_an_image_whose_declared_type_differs_is_refused():
    upload = SimpleUploadedFile("dot.gif", GIF_BYTES, content_type="image/png")
    slides = _slides([{"duration": "5"}], {"slides-0-media": upload})
    assert not slides.is_valid()
    assert "GIF image, but it was uploaded as image/png" in slides.forms[0].errors["media"][0]


def test_an_image_whose_extension_differs_is_refused():
    upload = SimpleUploadedFile("dot.jpg", GIF_BYTES, content_type="")
    slides = _slides([{"duration": "5"}], {"slides-0-media": upload})
    assert not slides.is_valid()
    assert "its name ends in .jpg" in slides.forms[0].errors["media"][0]


def test_too_large_media_is_refused(settings):
    settings.MMS_MAX_MEDIA_BYTES = 20
    slides = _slides([{"duration": "5"}], {"slides-0-media": png_upload()})
    assert not slides.is_valid()
    [error] = slides.forms[0].errors["media"]
    assert error.startswith("dot.png is ") and "at most 20\xa0bytes" in error


# --- SMS ----------------------------------------------------------------------------------------


def test_an_sms_needs_text(application):
    form = SMSCampaignForm(_data(application, body_text=""), instance=Campaign(channel=Channel.SMS))
    assert not form.is_valid()
    assert error_summary(form) == ["Text: This field is required."]


def test_sms_line_breaks_are_stored_as_the_counter_counted_them(application):
    form = SMSCampaignForm(
        _data(application, body_text="one\r\ntwo"), instance=Campaign(channel=Channel.SMS)
    )
    assert form.is_valid()
    assert form.cleaned_data["body_text"] == "one\ntwo"


# --- video --------------------------------------------------------------------------------------


def _video(application, **content):
    return VideoCampaignForm(
        _data(application, **{"template_id": "3", "template_data": "{}", **content}),
        instance=Campaign(channel=Channel.VIDEO),
    )


def test_bad_template_json_names_the_field_and_the_position(application):
    form = _video(application, template_data='{\n  "name": "Thandi"\n  "age": 3\n}')
    assert not form.is_valid()
    assert list(form.errors) == ["template_data"]
    assert error_summary(form) == [
        "Template data: Not valid JSON: Expecting ',' delimiter at line 3, column 3."
    ]


@pytest.mark.parametrize(
    ("text", "kind"), [("[1, 2]", "an array"), ('"x"', "a string"), ("3", "a number")]
)
def test_template_data_must_be_an_object(application, text, kind):
    form = _video(application, template_data=text)
    assert not form.is_valid()
    assert form.errors["template_data"] == [f"Must be a JSON object ({{...}}), not {kind}."]


@pytest.mark.parametrize("template_id", ["0", "-4", "", "abc"])
def test_the_template_id_is_a_positive_whole_number(application, template_id):
    form = _video(application, template_id=template_id)
    assert not form.is_valid()
    assert list(form.errors) == ["template_id"]


def test_a_star_network_is_stored_blank(application):
    form = _video(application, network="*", template_data='{"a": [1, {"b": null}]}')
    assert form.is_valid(), form.errors
    assert form.cleaned_data["network"] == ""
    assert form.cleaned_data["template_data"] == {"a": [1, {"b": None}]}


def test_a_network_with_odd_characters_is_refused(application):
    form = _video(application, network="mtn; drop")
    assert not form.is_valid()
    assert list(form.errors) == ["network"]


def test_stored_template_data_is_shown_as_json():
    campaign = make_campaign("video", template_data={"name": "Thandi", "n": 1})
    form = VideoCampaignForm(instance=campaign)
    assert form["template_data"].value() == '{\n  "name": "Thandi",\n  "n": 1\n}'


# --- test send, launch, recipients --------------------------------------------------------------


def test_a_test_recipient_is_normalised():
    form = TestSendForm({"recipient": "082 123 4567"}, channel=Channel.SMS)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["recipient"] == "27821234567"


def test_a_bad_test_recipient_names_the_field():
    form = TestSendForm({"recipient": "not-a-number"}, channel=Channel.SMS)
    assert not form.is_valid()
    assert list(form.errors) == ["recipient"]
    assert "is not a phone number" in form.errors["recipient"][0]


def test_an_email_test_recipient_must_be_an_address():
    form = TestSendForm({"recipient": "27821234567"}, channel=Channel.EMAIL)
    assert not form.is_valid()
    assert "not a valid email address" in form.errors["recipient"][0]


def test_a_later_launch_needs_a_time():
    form = LaunchForm({"when": "later", "at": ""})
    assert not form.is_valid()
    assert form.errors["at"] == ["Give the time to launch at."]


def test_a_later_launch_cannot_be_in_the_past():
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    form = LaunchForm({"when": "later", "at": past})
    assert not form.is_valid()
    assert form.errors["at"] == ["Must be in the future."]


def test_a_launch_now_ignores_the_time():
    form = LaunchForm({"when": "now", "at": "2001-01-01T00:00"})
    assert form.is_valid()
    assert form.cleaned_data["at"] is None


def test_an_empty_recipients_form_says_what_to_do():
    form = RecipientsForm({"pasted": "  \n"})
    assert not form.is_valid()
    assert form.errors["pasted"] == ["Paste some recipients or choose a file."]


def test_too_large_a_recipients_file_is_refused(settings):
    settings.RECIPIENTS_MAX_UPLOAD_BYTES = 10
    upload = SimpleUploadedFile("list.csv", b"27821234567\n27821234568\n")
    form = RecipientsForm({}, {"file": upload})
    assert not form.is_valid()
    assert form.errors["file"][0].startswith("list.csv is 24")
