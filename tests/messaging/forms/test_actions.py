"""The forms of a campaign's actions (test send, launch, recipients): every refusal names its
field, and says why."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.forms.actions import LaunchForm, RecipientsForm, TestSendForm
from messaging.models import Channel

pytestmark = pytest.mark.django_db


def test_a_test_recipient_is_normalised(make_campaign):
    form = TestSendForm({"recipient": "082 123 4567"}, campaign=make_campaign(Channel.SMS))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["recipient"] == "27821234567"


def test_a_bad_test_recipient_names_the_field(make_campaign):
    form = TestSendForm({"recipient": "not-a-number"}, campaign=make_campaign(Channel.SMS))
    assert not form.is_valid()
    assert list(form.errors) == ["recipient"]
    assert "is not a phone number" in form.errors["recipient"][0]


def test_an_email_test_recipient_must_be_an_address(make_campaign):
    form = TestSendForm({"recipient": "27821234567"}, campaign=make_campaign(Channel.EMAIL))
    assert not form.is_valid()
    assert "not a valid email address" in form.errors["recipient"][0]


@pytest.fixture
def personalised(make_campaign):
    campaign = make_campaign(
        Channel.SMS, body_text='Hi {{ first_name }}, {{ amount|default:"0" }} due. {{ recipient }}'
    )
    campaign.messages.create(
        recipient="27821000001", fields={"first_name": "Thandi", "amount": "5"}
    )
    return campaign


def test_a_test_send_offers_one_sample_value_per_field_the_content_uses(personalised):
    form = TestSendForm(campaign=personalised)
    assert [field.label for field in form.value_fields()] == ["amount", "first_name"]


def test_a_test_takes_a_recipients_fields_with_typed_values_over_them(personalised):
    form = TestSendForm(
        {"recipient": "0829999999", "fields_of": "Thandi", "value_amount": " 12.50 "},
        campaign=personalised,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["fields"] == {"first_name": "Thandi", "amount": "12.50"}


def test_a_test_with_no_recipient_to_copy_names_the_field(personalised):
    form = TestSendForm({"recipient": "0829999999", "fields_of": "Nobody"}, campaign=personalised)
    assert not form.is_valid()
    assert form.errors["fields_of"] == ["No recipient of this campaign matches “Nobody”."]


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
