"""A campaign's content for each recipient: where placeholders may be, which recipients lack a
field (in SQL), and the content one recipient gets."""

import pytest

from messaging.models import Channel, Message, MessageState, Slide
from messaging.personalise import (
    ContentPlaceholderError,
    campaign_drafts_missing_fields,
    campaign_placeholders,
    campaign_render_for,
    message_rendered_content,
)
from messaging.unsubscribe_links import unsubscribe_token_read

pytestmark = pytest.mark.django_db


def test_an_sms_renders_its_text_with_the_recipients_fields(make_campaign):
    campaign = make_campaign(body_text='Hi {{ first_name|default:"there" }}, {{ recipient }}')
    fields = {"first_name": "Thandi"}
    assert campaign_render_for(campaign, recipient="27821234567", fields=fields).body_text == (
        "Hi Thandi, 27821234567"
    )
    assert campaign_render_for(campaign, recipient="27821234567", fields=None).body_text == (
        "Hi there, 27821234567"
    )


def test_an_email_escapes_values_in_its_html_body_only(make_campaign):
    campaign = make_campaign(
        Channel.EMAIL,
        subject="For {{ name }}",
        body_html="<p>Dear {{ name }}</p>",
        body_text="Dear {{ name }}",
        from_name="{{ name }} stays as written",
    )
    content = campaign_render_for(campaign, recipient="a@example.com", fields={"name": "A & B"})
    assert (content.subject, content.body_html, content.body_text) == (
        "For A & B",
        "<p>Dear A &amp; B</p>",
        "Dear A & B",
    )
    assert content.from_name == "{{ name }} stays as written"


def test_a_line_break_in_a_value_never_reaches_a_subject(make_campaign):
    campaign = make_campaign(Channel.EMAIL, subject="Hi {{ name }}")
    content = campaign_render_for(campaign, recipient="a@example.com", fields={"name": "A\nBcc: x"})
    assert content.subject == "Hi A Bcc: x"


def test_the_unsubscribe_url_is_signed_for_the_recipient_and_application(make_campaign, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    campaign = make_campaign(Channel.EMAIL, body_html='<a href="{{ unsubscribe_url }}">Stop</a>')
    html = campaign_render_for(campaign, recipient="a@example.com", fields=None).body_html
    url = html.split('"')[1]
    assert url.startswith("https://portal.example.com/unsubscribe/")
    token = url.removeprefix("https://portal.example.com/unsubscribe/").rstrip("/")
    assert unsubscribe_token_read(token) == (campaign.application_id, "a@example.com")


def test_an_mms_renders_its_subject_and_each_slides_text(make_campaign):
    campaign = make_campaign(Channel.MMS, subject="For {{ name }}")
    Slide.objects.create(campaign=campaign, position=1, text="Two: {{ amount }}")
    Slide.objects.create(campaign=campaign, position=0, text="One: {{ name }}")
    content = campaign_render_for(
        campaign, recipient="27821234567", fields={"name": "Sam", "amount": "5"}
    )
    assert content.subject == "For Sam"
    assert content.slide_texts == ("One: Sam", "Two: 5")


def test_a_video_renders_every_string_of_its_template_data(make_campaign):
    campaign = make_campaign(
        Channel.VIDEO,
        template_data={
            "greeting": "Hi {{ name }}",
            "lines": [{"label": "Due", "value": "R{{ amount }}"}, 3, None],
            "count": 2,
        },
    )
    data = campaign_render_for(
        campaign, recipient="27821234567", fields={"name": "Sam", "amount": "5"}
    ).template_data
    assert data == {
        "greeting": "Hi Sam",
        "lines": [{"label": "Due", "value": "R5"}, 3, None],
        "count": 2,
    }


def test_a_messages_own_content_is_sent_as_given(make_campaign):
    campaign = make_campaign(body_text="{{ name }}")
    message = Message(
        campaign=campaign, recipient="27821234567", body={"body_text": "PIN {{ 1234 }}"}
    )
    assert message_rendered_content(message).body_text == "PIN {{ 1234 }}"


def test_placeholders_are_gathered_from_every_text_with_the_field_named_on_error(make_campaign):
    campaign = make_campaign(Channel.MMS, subject='{{ a|default:"x" }}')
    Slide.objects.create(campaign=campaign, position=0, text="{{ b }}")
    assert campaign_placeholders(campaign).fields == {"b"}

    Slide.objects.create(campaign=campaign, position=1, text="ok\n{{ b.c }}")
    with pytest.raises(ContentPlaceholderError) as caught:
        campaign_placeholders(campaign)
    assert caught.value.field == "slides.1.text"
    assert str(caught.value).startswith("Slide 2: Line 2: {{ b.c }}")


def test_drafts_missing_a_field_are_counted_in_the_database(make_campaign):
    campaign = make_campaign(body_text='{{ name }} {{ amount }} {{ city|default:"" }}')
    rows = [
        ("27821000001", {"name": "A", "amount": "1"}),
        ("27821000002", {"amount": "2"}),
        ("27821000003", None),
        ("27821000004", {"name": "D", "amount": "4"}),
    ]
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=r, fields=f, state=MessageState.DRAFT) for r, f in rows
    )
    # Not drafts, or tests: not looked at.
    Message.objects.create(campaign=campaign, recipient="27821000009", is_test=True)

    missing = campaign_drafts_missing_fields(campaign)

    assert [(m.name, m.count, m.examples) for m in missing] == [
        ("amount", 1, ("27821000003",)),
        ("name", 2, ("27821000002", "27821000003")),
    ]


def test_content_without_field_placeholders_needs_no_query(
    make_campaign, django_assert_num_queries
):
    campaign = make_campaign(body_text='Hi {{ recipient }} {{ a|default:"" }}', recipients=3)
    with django_assert_num_queries(0):
        assert campaign_drafts_missing_fields(campaign) == []
