"""The front page's figures: the last DAYS days across the campaigns a user may see, read
from the trigger-kept counters, never from the messages, so that it costs the same at 10^6
messages as at ten.

Four small queries whatever the volume: the campaigns of the window, their CampaignCount rows
(by state), their CampaignMinute rows of the window summed per local day (the daily chart),
and their CampaignFailure rows (the top reasons).

What "the last 30 days" means here:
- The campaigns of the window are those launched or finished in it, and those sending or
  paused now. Their figures (messages, delivered, failed, the delivery rate and the failure
  reasons) are the whole campaign's: a campaign is counted whole or not at all. (A single-sends
  campaign stays open for good, so it is always in, with every single send it ever had.)
- The daily chart counts what those campaigns did on each day of the window, by each stage's
  own time, as the campaign dashboard's chart does.
- Delivery rate is delivered / (delivered + failed), as on the dashboard: of the messages with
  a final outcome, how many arrived.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from messaging.canary import CanaryStatus, canary_status
from messaging.failures import FailureReason, reasons_from_rows
from messaging.models import (
    Campaign,
    CampaignCount,
    CampaignFailure,
    CampaignMinute,
    CampaignState,
    Channel,
    MessageState,
)
from messaging.states import PAST_SUBMISSION
from reports.timeseries import DAY, Count, TimeSeries, time_series

DAYS = 30
LISTED = 10  # campaigns in each list
TOP_REASONS = 5
# The CampaignMinute stage behind each chart series.
STAGES = {"submit": "submitted", "sent": "sent", "delivered": "delivered"}


@dataclass(frozen=True)
class Figures:
    """Messages of some campaigns: launched (every state but draft), delivered and failed."""

    campaigns: int
    messages: int
    delivered: int
    failed: int

    @property
    def delivery_rate(self) -> float | None:
        finished = self.delivered + self.failed
        return self.delivered / finished if finished else None

    @property
    def delivery_pct(self) -> float | None:
        rate = self.delivery_rate
        return None if rate is None else 100.0 * rate


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class CampaignLine:
    """A campaign in one of the front page's lists, with its figures from the counters."""

    campaign: Campaign
    figures: Figures
    recipients: int  # every message, a canary's held-back drafts too
    past_submission: int  # handed to iLiveIt, or never will be
    canary: CanaryStatus | None

    @property
    def progress_pct(self) -> float:
        return 100.0 * self.past_submission / self.recipients if self.recipients else 0.0


@dataclass(frozen=True)
class Overview:
    since: datetime  # the window's start: local midnight DAYS - 1 days before today
    until: datetime
    total: Figures
    channels: tuple[ChannelFigures, ...]  # every channel with a campaign in the window
    daily: TimeSeries
    live: tuple[CampaignLine, ...]  # sending now, latest launched first
    live_count: int
    lately: tuple[CampaignLine, ...]  # paused now, then finished in the window, latest first
    lately_count: int
    top_failure_reasons: tuple[FailureReason, ...]


def window_start(now: datetime, days: int = DAYS) -> datetime:
    """Local midnight at the start of the first of the `days` days that end today."""
    first = timezone.localdate(now) - timedelta(days=days - 1)
    return timezone.make_aware(datetime.combine(first, time.min))


def _figures(counts: dict[str, int], campaigns: int = 1) -> Figures:
    return Figures(
        campaigns=campaigns,
        messages=sum(n for state, n in counts.items() if state != MessageState.DRAFT),
        delivered=counts.get(MessageState.DELIVERED, 0),
        failed=counts.get(MessageState.FAILED, 0),
    )


def overview(*, campaigns: QuerySet[Campaign], now: datetime | None = None) -> Overview:
    """The front page's figures over `campaigns` (already scoped to what the user may see)."""
    now = now or timezone.now()
    since = window_start(now)
    live_states = (CampaignState.SENDING, CampaignState.PAUSED)
    window = list(
        campaigns.filter(
            Q(launched_at__gte=since) | Q(finished_at__gte=since) | Q(state__in=live_states)
        )
        .select_related("application")
        .order_by("-launched_at", "-id")
    )
    ids = [campaign.pk for campaign in window]

    by_campaign: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        CampaignCount.objects.filter(campaign_id__in=ids)
        .values_list("campaign_id", "state")
        .annotate(total=Sum("n"))
        .order_by()
    )
    for campaign_id, state, n in rows:
        by_campaign[campaign_id][state] = n

    channel_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    channel_campaigns: dict[str, int] = defaultdict(int)
    for campaign in window:
        channel_campaigns[campaign.channel] += 1
        for state, n in by_campaign[campaign.pk].items():
            channel_counts[campaign.channel][state] += n
    channels = tuple(
        ChannelFigures(
            channel=value,
            label=label,
            figures=_figures(channel_counts[value], channel_campaigns[value]),
        )
        for value, label in Channel.choices
        if channel_campaigns[value]
    )
    everything: dict[str, int] = defaultdict(int)
    for counts in channel_counts.values():
        for state, n in counts.items():
            everything[state] += n

    def line(campaign: Campaign) -> CampaignLine:
        counts = by_campaign[campaign.pk]
        full = {state: counts.get(state, 0) for state in MessageState.values}
        return CampaignLine(
            campaign=campaign,
            figures=_figures(counts),
            recipients=sum(full.values()),
            past_submission=sum(full[state] for state in PAST_SUBMISSION),
            canary=canary_status(campaign, counts=full),
        )

    live = [c for c in window if c.state == CampaignState.SENDING]
    finished = sorted(
        (
            c
            for c in window
            if c.state in (CampaignState.DONE, CampaignState.CANCELLED)
            and c.finished_at
            and c.finished_at >= since
        ),
        key=lambda c: c.finished_at,
        reverse=True,
    )
    lately = [c for c in window if c.state == CampaignState.PAUSED] + finished

    return Overview(
        since=since,
        until=now,
        total=_figures(everything, len(window)),
        channels=channels,
        daily=_daily(ids, since=since, now=now),
        live=tuple(line(c) for c in live[:LISTED]),
        live_count=len(live),
        lately=tuple(line(c) for c in lately[:LISTED]),
        lately_count=len(lately),
        top_failure_reasons=_top_reasons(ids),
    )


def _daily(ids: list[int], *, since: datetime, now: datetime) -> TimeSeries:
    # Summed per local day in the database: at most DAYS rows per stage come back, however
    # many minutes the campaigns were busy. The (campaign, stage, minute) key serves it.
    rows = (
        CampaignMinute.objects.filter(campaign_id__in=ids, minute__gte=since, minute__lte=now)
        .annotate(day=Trunc("minute", "day", tzinfo=timezone.get_current_timezone()))
        .values_list("stage", "day")
        .annotate(total=Sum("n"))
        .order_by()
    )
    counts = [Count(at=day, series=STAGES[stage], n=n) for stage, day, n in rows]
    return time_series(counts, bucket=DAY, start=since, end=now)


def _top_reasons(ids: list[int]) -> tuple[FailureReason, ...]:
    rows = (
        CampaignFailure.objects.filter(campaign_id__in=ids)
        .values_list("stage", "code", "description")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return reasons_from_rows(list(rows))[:TOP_REASONS]
