"""The campaign forms: every refusal names its field, and says why."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.forms.campaign import (
    EmailCampaignForm,
    MMSCampaignForm,
    SMSCampaignForm,
    VideoCampaignForm,
)
from messaging.forms.errors import error_summary
from messaging.models import Campaign, Channel
from tests.messaging.compose_helpers import make_campaign

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


# --- MMS (its slides: test_slides.py) -----------------------------------------------------------


def test_an_mms_needs_a_subject(application):
    form = MMSCampaignForm(_data(application), instance=Campaign(channel=Channel.MMS))
    assert not form.is_valid()
    assert list(form.errors) == ["subject"]


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


# --- placeholders -------------------------------------------------------------------------------


def test_sms_placeholders_are_taken(application):
    form = SMSCampaignForm(
        _data(application, body_text='Hi {{ first_name|default:"there" }}, {{ recipient }}'),
        instance=Campaign(channel=Channel.SMS),
    )
    assert form.is_valid(), form.errors


def test_a_placeholder_that_does_not_compile_is_an_error_naming_the_field_and_line(application):
    form = SMSCampaignForm(
        _data(application, body_text="Hi\n{% for x in y %}"), instance=Campaign(channel=Channel.SMS)
    )
    assert not form.is_valid()
    assert error_summary(form) == [
        "Text: Line 2: {% for x in y %} is not allowed: content may only hold placeholders such "
        "as {{ first_name }}."
    ]


@pytest.mark.parametrize("field", ["subject", "body_html", "body_text"])
def test_each_email_text_is_checked(application, field):
    content = {"subject": "Hi", "body_html": "<p>Hi</p>", "body_text": "Hi"}
    content[field] = "{{ name|upper }}"
    form = EmailCampaignForm(
        _data(application, **content), instance=Campaign(channel=Channel.EMAIL)
    )
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert form.errors[field][0].startswith("Line 1: {{ name|upper }}: the only filter is default")


def test_an_mms_subject_is_checked(application):
    form = MMSCampaignForm(
        _data(application, subject="For {{ name.title }}"), instance=Campaign(channel=Channel.MMS)
    )
    assert not form.is_valid()
    assert "without dots" in form.errors["subject"][0]


def test_template_data_strings_are_checked_with_their_path(application):
    data = '{"name": "{{ name }}", "lines": ["ok", {"due": "one\\n{{ a|safe }}"}]}'
    form = VideoCampaignForm(
        _data(application, template_id="4", template_data=data),
        instance=Campaign(channel=Channel.VIDEO),
    )
    assert not form.is_valid()
    assert form.errors["template_data"] == [
        "Template data (lines.1.due): Line 2: {{ a|safe }}: the only filter is default, as in "
        '{{ first_name|default:"there" }}.'
    ]
