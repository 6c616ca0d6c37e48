"""The campaign list's filters and figures (reports.listing)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from messaging.models import Campaign, CampaignState, Channel, MessageState
from reports.listing import campaign_rows, campaigns_filter
from tests.messaging.compose_helpers import make_application, make_campaign

pytestmark = pytest.mark.django_db


def names(campaigns) -> list[str]:
    return [campaign.name for campaign in campaigns]


def created(campaign: Campaign, moment: datetime) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(created_at=moment)
    return campaign


def test_it_lists_newest_first_and_searches_names_and_subjects(application):
    make_campaign("sms", name="Spring sale", application=application)
    make_campaign("email", name="Newsletter", subject="Spring news", application=application)
    make_campaign("sms", name="Winter", application=application)

    assert names(campaigns_filter(Campaign.objects.all())) == [
        "Winter",
        "Newsletter",
        "Spring sale",
    ]
    assert names(campaigns_filter(Campaign.objects.all(), text="spring")) == [
        "Newsletter",
        "Spring sale",
    ]


def test_it_filters_by_state_channel_and_application(application):
    other = make_application("Other", token="other-token")
    make_campaign("sms", name="Draft SMS", application=application)
    make_campaign("sms", name="Sending SMS", state=CampaignState.SENDING, application=application)
    make_campaign("email", name="Other email", application=other)

    everything = Campaign.objects.all()
    assert names(campaigns_filter(everything, state=CampaignState.SENDING)) == ["Sending SMS"]
    assert names(campaigns_filter(everything, channel=Channel.EMAIL)) == ["Other email"]
    assert names(campaigns_filter(everything, application=other)) == ["Other email"]


def test_a_date_range_takes_whole_days_in_the_configured_time_zone(application):
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    created(
        make_campaign("sms", name="Early today", application=application),
        start + timedelta(minutes=1),
    )
    created(
        make_campaign("sms", name="Late today", application=application),
        start + timedelta(hours=23, minutes=59),
    )
    created(
        make_campaign("sms", name="Yesterday", application=application),
        start - timedelta(minutes=1),
    )

    found = campaigns_filter(Campaign.objects.all(), created_from=today, created_to=today)

    assert names(found) == ["Late today", "Early today"]
    assert names(campaigns_filter(Campaign.objects.all(), created_to=date(2000, 1, 1))) == []


def test_each_row_has_its_progress_and_delivery_figures_from_the_counters(application):
    campaign = make_campaign("sms", application=application)
    states = [MessageState.DELIVERED] * 5 + [MessageState.FAILED] * 2 + [MessageState.QUEUED] * 3
    for n, state in enumerate(states):
        campaign.messages.create(recipient=f"2782000{n:04d}", state=state)
    empty = make_campaign("sms", name="Empty", application=application)

    row, empty_row = campaign_rows([campaign, empty])

    assert (row.total, row.past_submission, row.delivered, row.failed) == (10, 7, 5, 2)
    assert (row.progress_pct, row.delivered_pct, row.failed_pct) == (70.0, 50.0, 20.0)
    assert (empty_row.total, empty_row.delivered_pct) == (0, 0.0)
