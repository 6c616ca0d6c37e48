"""What an SMS campaign will cost before launch: each recipient's rendered text, counted."""

import pytest

from messaging.costs import SmsCost, campaign_estimate, campaign_sms_cost
from messaging.models import Channel

pytestmark = pytest.mark.django_db


def test_the_same_text_for_everyone_costs_its_parts_times_the_recipients(make_campaign):
    campaign = make_campaign(Channel.SMS, body_text="x" * 161, recipients=3)
    campaign.messages.create(recipient="27829999999", is_test=True)

    assert campaign_sms_cost(campaign) == SmsCost(recipients=3, fewest=2, most=2, total=6)


def test_personalised_text_is_counted_as_each_recipient_gets_it(make_campaign):
    campaign = make_campaign(
        Channel.SMS, body_text='Dear {{ name|default:"client" }}, ' + "x" * 140
    )
    campaign.messages.create(recipient="27821000001", fields={"name": "Ann"})
    campaign.messages.create(recipient="27821000002", fields={"name": "Bartholomew Ngubane"})
    campaign.messages.create(recipient="27821000003")

    assert campaign_sms_cost(campaign) == SmsCost(recipients=3, fewest=1, most=2, total=4)


def test_a_new_recipient_is_counted_at_once(make_campaign):
    campaign = make_campaign(Channel.SMS, body_text="{{ text }}")
    campaign.messages.create(recipient="27821000001", fields={"text": "short"})
    assert campaign_sms_cost(campaign).total == 1

    campaign.messages.create(recipient="27821000002", fields={"text": "€" * 100})

    assert campaign_sms_cost(campaign) == SmsCost(recipients=2, fewest=1, most=2, total=3)


def test_other_channels_and_broken_text_have_no_sms_cost(make_campaign):
    assert campaign_sms_cost(make_campaign(Channel.EMAIL, recipients=1)) is None
    assert campaign_sms_cost(make_campaign(Channel.SMS, body_text="Hi {{ ", recipients=1)) is None
    assert campaign_sms_cost(make_campaign(Channel.SMS)) == SmsCost(0, 0, 0, 0)


@pytest.mark.parametrize(
    ("channel", "unit"),
    [(Channel.MMS, "MMS"), (Channel.VIDEO, "video MMS"), (Channel.EMAIL, "emails")],
)
def test_the_estimate_of_other_channels_is_a_message_per_recipient(make_campaign, channel, unit):
    campaign = make_campaign(channel, recipients=4)

    estimate = campaign_estimate(campaign, drafts=4)

    assert (estimate.messages, estimate.sends, estimate.unit, estimate.sms) == (4, 4, unit, None)


def test_the_estimate_of_sms_is_messages_times_their_parts(make_campaign):
    campaign = make_campaign(Channel.SMS, body_text="x" * 161, recipients=3)

    estimate = campaign_estimate(campaign, drafts=3)

    assert (estimate.messages, estimate.sends, estimate.unit) == (3, 6, "SMS")
    assert estimate.sms == SmsCost(recipients=3, fewest=2, most=2, total=6)


def test_one_email_is_one_email(make_campaign):
    campaign = make_campaign(Channel.EMAIL, recipients=1)

    assert campaign_estimate(campaign, drafts=1).unit == "email"
