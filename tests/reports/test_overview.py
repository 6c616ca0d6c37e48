"""The front page's figures (reports/overview.py): the last 30 days of the campaigns given,
from the counters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Campaign, CampaignState, Channel, MessageState
from reports.overview import DAYS, overview, window_start
from tests.messaging.compose_helpers import make_campaign

pytestmark = pytest.mark.django_db


def messages(campaign, state, n, *, at=None, **fields):
    at = at or timezone.now() - timedelta(hours=1)
    for _ in range(n):
        campaign.messages.create(
            recipient=f"2782{Campaign.objects.count()}{campaign.messages.count():06d}",
            state=state,
            submit_code=2 if state != MessageState.QUEUED else None,
            submit_at=at if state != MessageState.QUEUED else None,
            **fields,
        )


@pytest.fixture
def campaigns(application):
    now = timezone.now()
    sending = make_campaign(
        "sms",
        application=application,
        name="Sending",
        state=CampaignState.SENDING,
        launched_at=now - timedelta(hours=2),
    )
    messages(sending, MessageState.DELIVERED, 3)
    messages(sending, MessageState.FAILED, 1, sent_code=5, sent_description="Rejected")
    messages(sending, MessageState.QUEUED, 2)
    done = make_campaign(
        "email",
        application=application,
        name="Done",
        state=CampaignState.DONE,
        launched_at=now - timedelta(days=3),
        finished_at=now - timedelta(days=2),
    )
    messages(done, MessageState.DELIVERED, 4, at=now - timedelta(days=3))
    paused = make_campaign(
        "sms",
        application=application,
        name="Paused",
        state=CampaignState.PAUSED,
        launched_at=now - timedelta(days=40),
        paused_reason="Paused by hand.",
    )
    messages(paused, MessageState.FAILED, 2, sent_code=5, sent_description="Rejected")
    old = make_campaign(
        "sms",
        application=application,
        name="Old",
        state=CampaignState.DONE,
        launched_at=now - timedelta(days=50),
        finished_at=now - timedelta(days=45),
    )
    messages(old, MessageState.DELIVERED, 7, at=now - timedelta(days=50))
    make_campaign("sms", application=application, name="Draft")
    return {"sending": sending, "done": done, "paused": paused, "old": old}


def test_messages_and_delivery_rate_by_channel_leave_out_campaigns_outside_the_window(campaigns):
    figures = overview(campaigns=Campaign.objects.all())

    assert (figures.total.campaigns, figures.total.messages) == (3, 12)
    assert (figures.total.delivered, figures.total.failed) == (7, 3)
    assert figures.total.delivery_rate == pytest.approx(0.7)
    by_channel = {row.channel: row.figures for row in figures.channels}
    assert set(by_channel) == {Channel.SMS, Channel.EMAIL}
    assert (by_channel[Channel.SMS].messages, by_channel[Channel.SMS].delivered) == (8, 3)
    assert by_channel[Channel.SMS].delivery_rate == pytest.approx(0.5)
    assert by_channel[Channel.EMAIL].delivery_rate == 1.0


def test_the_daily_chart_has_every_day_of_the_window_zero_filled(campaigns):
    figures = overview(campaigns=Campaign.objects.all())

    assert figures.daily.bucket == "day"
    assert len(figures.daily.starts) == DAYS
    assert figures.daily.starts[0] == window_start(timezone.now())
    submitted = figures.daily.values["submitted"]
    assert sum(submitted) == 4 + 4 + 2  # the old campaign's 7 are before the window
    assert submitted.count(0) >= DAYS - 3


def test_live_and_lately_finished_or_paused_campaigns_are_listed(campaigns):
    figures = overview(campaigns=Campaign.objects.all())

    assert [line.campaign.name for line in figures.live] == ["Sending"]
    (live,) = figures.live
    assert (live.past_submission, live.figures.messages) == (4, 6)
    assert live.progress_pct == pytest.approx(100 * 4 / 6)
    assert [line.campaign.name for line in figures.lately] == ["Paused", "Done"]


def test_a_live_canary_shows_its_state(campaigns):
    sending = campaigns["sending"]
    Campaign.objects.filter(pk=sending.pk).update(canary_size=6)
    messages(sending, MessageState.DRAFT, 10)

    (live,) = overview(campaigns=Campaign.objects.all()).live

    assert live.canary.state == "waiting"
    assert (live.canary.delivered, live.canary.messages, live.canary.rest) == (3, 6, 10)


def test_the_top_failure_reasons_are_summed_over_the_window(campaigns):
    (reason,) = overview(campaigns=Campaign.objects.all()).top_failure_reasons

    assert (reason.stage, reason.code, reason.description, reason.n) == ("sent", 5, "Rejected", 3)


def test_only_the_campaigns_given_count(campaigns):
    figures = overview(campaigns=Campaign.objects.filter(channel=Channel.EMAIL))

    assert figures.total.messages == 4
    assert [line.campaign.name for line in figures.lately] == ["Done"]
    assert figures.live == ()


def test_it_reads_the_counters_in_a_fixed_number_of_queries(campaigns, django_assert_num_queries):
    for n in range(3):
        more = make_campaign(
            "sms",
            application=campaigns["sending"].application,
            name=f"More {n}",
            state=CampaignState.SENDING,
            launched_at=timezone.now(),
        )
        messages(more, MessageState.DELIVERED, 2)

    # The campaigns, their counts, their days and their failures: whatever their number.
    with django_assert_num_queries(4):
        overview(campaigns=Campaign.objects.all())


def test_nothing_in_the_window_is_an_empty_overview(application):
    figures = overview(campaigns=Campaign.objects.all())

    assert figures.total.messages == 0
    assert figures.total.delivery_rate is None
    assert figures.channels == ()
    assert sum(figures.daily.values["sent"]) == 0
