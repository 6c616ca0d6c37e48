"""A campaign's dashboard figures, read from the roll-ups that database triggers keep.

`campaign_dashboard` reads only roll-up rows (CampaignCount through messaging.counting,
CampaignMinute, CampaignLatency, CampaignFailure and postbacks' CampaignEventCount), plus one
count over the partial index of its opted-out messages: seven small indexed queries whatever the
campaign's size, never a scan of its messages.
`campaign_dashboard_recount` computes the same figures from the messages and events themselves
(GROUP BY scans), to check the roll-ups against and as the benchmark's naive baseline. Both
feed the same assembly, so that equal inputs give an equal dashboard.

Choices worth knowing when reading the figures:
- Times are UTC minutes of each stage's own timestamp (iLiveIt's submit, sent and delivered
  times); hours are sums of minutes. Only minutes with something in them are listed.
- Latency is delivered_at - submit_at in buckets of LATENCY_BOUNDS_S; p50 and p95 are the upper
  bound of the bucket that holds them (read "p95 <= 300 s"), None past the last bound.
- Delivery rate is delivered / (delivered + failed): of the messages with a final outcome, how
  many arrived. Messages still on their way and cancelled ones are left out.
- The funnel counts messages that reached at least each stage, from the state counts: a
  message's state says how far it got, and a failed one got as far as the stage before the one
  that failed (failed at "submission": queued only; at build, archive, submit or sent, or
  "unknown": submitted; at delivered: sent). Drafts and cancelled messages (a cancel only
  stops drafts and queued messages) are not in it.
- Cancelled messages are counted apart by why: `opted_out` are those the submit refused
  because their recipient had opted out (last_error messaging.states.OPTED_OUT), counted
  through the partial index `message_opted_out`, so the count costs what they number;
  `cancelled_otherwise` is the rest (a campaign cancel).
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Trunc

from messaging.counting import campaign_counts, campaign_counts_by_network, campaign_recount
from messaging.failures import (
    FAILURE_STAGES,
    FailureReason,
    failure_rows,
    reasons_from_rows,
)
from messaging.models import (
    LATENCY_BOUNDS_S,
    CampaignFailure,
    CampaignLatency,
    CampaignMinute,
    Message,
    MessageState,
)
from messaging.states import LAUNCHED, OPTED_OUT
from postbacks.models import CampaignEventCount, EventSource, MessageEvent

# Time series: the stage whose timestamp is counted, and the name the figures use for it.
SERIES = {"submit": "submitted", "sent": "sent", "delivered": "delivered"}
TOP_REASONS = 10


@dataclass(frozen=True)
class TimePoint:
    at: datetime  # the start of the minute or hour, UTC
    submitted: int
    sent: int
    delivered: int


@dataclass(frozen=True)
class LatencyBucket:
    upper_s: int | None  # inclusive; None for the bucket past the last bound
    n: int


@dataclass(frozen=True)
class CampaignDashboard:
    campaign_id: int
    totals: dict[str, int]  # every state, test sends excluded
    total: int
    funnel: dict[str, int]  # FUNNEL order: reached at least this stage
    delivery_rate: float | None  # delivered / (delivered + failed); None before any
    by_network: dict[str, dict[str, int]]
    failures_by_stage: dict[str, int]  # FAILURE_STAGES order
    failure_reasons: tuple[FailureReason, ...]  # most frequent first
    top_failure_reasons: tuple[FailureReason, ...]
    per_minute: tuple[TimePoint, ...]
    per_hour: tuple[TimePoint, ...]
    latency: tuple[LatencyBucket, ...]  # every bucket, shortest first
    latency_count: int
    latency_p50_s: int | None
    latency_p95_s: int | None
    late_postbacks: int  # status events that came later than iLiveIt's promised hour
    reconciled: int  # status events learned by polling rather than by postback
    opted_out: int  # cancelled at submit: the recipient had opted out
    cancelled_otherwise: int  # every other cancelled message


# --- reading the roll-ups ---------------------------------------------------------------------


def campaign_dashboard(*, campaign_id: int) -> CampaignDashboard:
    """The campaign's dashboard figures, from the trigger-kept roll-ups only."""
    failures = (
        CampaignFailure.objects.filter(campaign_id=campaign_id)
        .values_list("stage", "code", "description")
        .annotate(total=Sum("n"))
        .order_by()
    )
    minutes = (
        CampaignMinute.objects.filter(campaign_id=campaign_id)
        .values_list("stage", "minute")
        .annotate(total=Sum("n"))
        .order_by()
    )
    latency = (
        CampaignLatency.objects.filter(campaign_id=campaign_id)
        .values_list("bucket")
        .annotate(total=Sum("n"))
        .order_by()
    )
    events = CampaignEventCount.objects.filter(campaign_id=campaign_id).aggregate(
        late=Sum("late", default=0), polled=Sum("polled", default=0)
    )
    return _assemble(
        campaign_id=campaign_id,
        totals=campaign_counts(campaign_id=campaign_id),
        opted_out=_opted_out(Message.objects.filter(campaign_id=campaign_id, is_test=False)),
        by_network=campaign_counts_by_network(campaign_id=campaign_id),
        failures=list(failures),
        minutes=list(minutes),
        latency=dict(latency),
        late=events["late"],
        polled=events["polled"],
    )


def _opted_out(messages) -> int:
    # The conditions of the partial index message_opted_out, word for word, so that it serves.
    return messages.filter(state=MessageState.CANCELLED, last_error=OPTED_OUT).count()


# --- counting the slow way --------------------------------------------------------------------


def _latency_bucket():
    return Case(
        *(
            When(latency__lte=timedelta(seconds=bound), then=Value(index))
            for index, bound in enumerate(LATENCY_BOUNDS_S)
        ),
        default=Value(len(LATENCY_BOUNDS_S)),
        output_field=IntegerField(),
    )


def campaign_dashboard_recount(*, campaign_id: int) -> CampaignDashboard:
    """The same figures as campaign_dashboard, counted from the messages and events (scans)."""
    messages = Message.objects.filter(campaign_id=campaign_id, is_test=False)
    by_network: dict[str, dict[str, int]] = {}
    rows = messages.values_list("network", "state").annotate(total=Count("id")).order_by()
    for network, state, n in rows:
        by_network.setdefault(network, dict.fromkeys(MessageState.values, 0))[state] += n
    failures = failure_rows(messages.filter(state=MessageState.FAILED))
    minutes = []
    for stage in SERIES:
        rows = (
            messages.filter(**{f"{stage}_at__isnull": False})
            .annotate(minute=Trunc(f"{stage}_at", "minute", tzinfo=UTC))
            .values_list("minute")
            .annotate(total=Count("id"))
            .order_by()
        )
        minutes += [(stage, minute, n) for minute, n in rows]
    latency = (
        messages.filter(submit_at__isnull=False, delivered_at__isnull=False)
        .annotate(latency=ExpressionWrapper(F("delivered_at") - F("submit_at"), DurationField()))
        .annotate(bucket=_latency_bucket())
        .values_list("bucket")
        .annotate(total=Count("id"))
        .order_by()
    )
    events = MessageEvent.objects.filter(
        message__campaign_id=campaign_id, message__is_test=False
    ).aggregate(
        late=Count("id", filter=Q(late_by_s__gt=0)),
        polled=Count("id", filter=Q(source=EventSource.POLL)),
    )
    return _assemble(
        campaign_id=campaign_id,
        totals=campaign_recount(campaign_id=campaign_id),
        opted_out=_opted_out(messages),
        by_network=dict(sorted(by_network.items())),
        failures=list(failures),
        minutes=minutes,
        latency=dict(latency),
        late=events["late"],
        polled=events["polled"],
    )


# --- the figures from the counts -------------------------------------------------------------


def _funnel(totals: dict[str, int], failures_by_stage: dict[str, int]) -> dict[str, int]:
    def reached(state: str) -> int:
        return sum(totals[s] for s in LAUNCHED[LAUNCHED.index(state) :])

    failed = failures_by_stage
    after_submission = sum(n for stage, n in failed.items() if stage != "submission")
    return {
        "queued": reached(MessageState.QUEUED) + sum(failed.values()),
        "submitted": reached(MessageState.SUBMITTED) + after_submission,
        "built": reached(MessageState.BUILT) + failed["delivered"],
        "sent": reached(MessageState.SENT) + failed["delivered"],
        "delivered": totals[MessageState.DELIVERED],
    }


def _series(minutes: list[tuple[str, datetime, int]], *, hourly: bool) -> tuple[TimePoint, ...]:
    points: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SERIES, 0))
    for stage, minute, n in minutes:
        at = minute.astimezone(UTC)
        points[at.replace(minute=0) if hourly else at][stage] += n
    return tuple(
        TimePoint(at=at, **{SERIES[stage]: n for stage, n in counts.items()})
        for at, counts in sorted(points.items())
        if any(counts.values())
    )


def _percentile(buckets: tuple[LatencyBucket, ...], fraction: float) -> int | None:
    """The upper bound of the bucket that holds the `fraction` quantile (None: no samples, or
    past the last bound)."""
    rank = math.ceil(fraction * sum(bucket.n for bucket in buckets))
    seen = 0
    for bucket in buckets:
        seen += bucket.n
        if rank and seen >= rank:
            return bucket.upper_s
    return None


def _assemble(
    *,
    campaign_id: int,
    totals: dict[str, int],
    by_network: dict[str, dict[str, int]],
    failures: list[tuple[str, int, str, int]],
    minutes: list[tuple[str, datetime, int]],
    latency: dict[int, int],
    late: int,
    polled: int,
    opted_out: int,
) -> CampaignDashboard:
    reasons = reasons_from_rows(failures)
    failures_by_stage = dict.fromkeys(FAILURE_STAGES, 0)
    for reason in reasons:
        failures_by_stage[reason.stage] += reason.n
    buckets = tuple(
        LatencyBucket(upper_s=upper, n=latency.get(index, 0))
        for index, upper in enumerate((*LATENCY_BOUNDS_S, None))
    )
    finished = totals[MessageState.DELIVERED] + totals[MessageState.FAILED]
    return CampaignDashboard(
        campaign_id=campaign_id,
        totals=totals,
        total=sum(totals.values()),
        funnel=_funnel(totals, failures_by_stage),
        delivery_rate=totals[MessageState.DELIVERED] / finished if finished else None,
        by_network=by_network,
        failures_by_stage=failures_by_stage,
        failure_reasons=reasons,
        top_failure_reasons=reasons[:TOP_REASONS],
        per_minute=_series(minutes, hourly=False),
        per_hour=_series(minutes, hourly=True),
        latency=buckets,
        latency_count=sum(bucket.n for bucket in buckets),
        latency_p50_s=_percentile(buckets, 0.50),
        latency_p95_s=_percentile(buckets, 0.95),
        late_postbacks=late,
        reconciled=polled,
        opted_out=opted_out,
        cancelled_otherwise=totals[MessageState.CANCELLED] - opted_out,
    )
