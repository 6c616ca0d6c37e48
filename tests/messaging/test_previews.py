"""The campaign page's preview: the content as a chosen recipient gets it, found by search."""

import pytest

from messaging.models import Channel
from messaging.previews import campaign_preview

pytestmark = pytest.mark.django_db


@pytest.fixture
def personalised(make_campaign):
    campaign = make_campaign(Channel.SMS, body_text='Hi {{ name|default:"there" }} ✓')
    campaign.messages.create(recipient="27821000001", fields={"name": "Thandi"})
    campaign.messages.create(recipient="27821000002")
    return campaign


def test_the_first_recipient_is_previewed_with_its_own_fields_and_segment_count(personalised):
    preview = campaign_preview(campaign=personalised)

    assert preview.message.recipient == "27821000001"
    assert preview.rendered.body_text == "Hi Thandi ✓"
    # The tick is not in the GSM alphabet: the rendered text is counted, not the template.
    assert (preview.segments.characters, preview.segments.segments) == (11, 1)
    assert preview.segments.encoding == "UCS-2"


@pytest.mark.parametrize("search", ["082 100 0002", "27821000002", "1000002"])
def test_a_recipient_is_found_as_typed_or_by_part_and_falls_back_without_fields(
    personalised, search
):
    preview = campaign_preview(campaign=personalised, search=search)

    assert preview.message.recipient == "27821000002"
    assert preview.rendered.body_text == "Hi there ✓"


def test_a_recipient_is_found_by_a_value_of_their_fields(personalised):
    preview = campaign_preview(campaign=personalised, search="thandi")

    assert preview.message.recipient == "27821000001"


def test_no_match_and_no_recipients_preview_nothing(personalised, make_campaign):
    assert campaign_preview(campaign=personalised, search="27999999999") is None
    assert campaign_preview(campaign=make_campaign(Channel.SMS)) is None


def test_an_email_is_previewed_in_the_frame_with_values_escaped(make_campaign):
    campaign = make_campaign(
        Channel.EMAIL, subject="For {{ name }}", body_html="<p>Dear {{ name }}</p>"
    )
    campaign.messages.create(recipient="a@example.com", fields={"name": "<i>Ann</i>"})

    preview = campaign_preview(campaign=campaign)

    assert preview.rendered.subject == "For <i>Ann</i>"
    assert "Dear &lt;i&gt;Ann&lt;/i&gt;" in preview.html_document
    assert preview.segments is None
