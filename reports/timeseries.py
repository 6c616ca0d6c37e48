"""The charts' time series: counts per minute, hour or day, zero-filled, in TIME_ZONE.

The roll-ups list only minutes with something in them. Drawn as they are, a line runs
straight from a busy minute to the next one with anything in it, however long the gap, so a
chart is drawn from every bucket between its first and last, the empty ones as 0.

The bucket is chosen from the span, so that a chart has a few hundred points at most: minutes
up to MAX_MINUTE_SPAN, hours up to MAX_HOUR_SPAN, days beyond. Hours and days are TIME_ZONE's
(a day starts at local midnight), as every time on the pages is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

# The three series every chart draws, by the stage whose time is counted, and their names.
# "delivered" counts every delivery report, a failed delivery's too (CampaignMinute counts the
# delivered stage's own time), so it is named for what it counts.
SERIES = (
    ("submitted", "Submitted"),
    ("sent", "Sent"),
    ("delivered", "Delivery reports"),
)
MINUTE, HOUR, DAY = "minute", "hour", "day"
MAX_MINUTE_SPAN = timedelta(hours=3)
MAX_HOUR_SPAN = timedelta(days=7)
LABELS = {
    MINUTE: ("%Y-%m-%d %H:%M", "%H:%M"),
    HOUR: ("%Y-%m-%d %H:00", "%d %b %H:00"),
    DAY: ("%Y-%m-%d (%a)", "%d %b"),
}


@dataclass(frozen=True)
class Count:
    """`n` messages of a series (a SERIES key) in the minute, hour or day starting `at`."""

    at: datetime
    series: str
    n: int


@dataclass(frozen=True)
class TimeSeries:
    bucket: str  # MINUTE, HOUR or DAY
    starts: tuple[datetime, ...]  # each bucket's start, in TIME_ZONE, every bucket of the span
    values: dict[str, tuple[int, ...]]  # SERIES key -> one count per bucket

    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        """(the bucket's name, its counts in SERIES order) of each bucket with something in
        it: the chart's figures as a table, without its runs of zeros."""
        full, _ = LABELS[self.bucket]
        rows = []
        for index, start in enumerate(self.starts):
            counts = tuple(self.values[key][index] for key, _ in SERIES)
            if any(counts):
                rows.append((start.strftime(full), counts))
        return rows

    def chart_data(self) -> dict:
        """What static/portal/chart.js draws, embedded with json_script."""
        full, short = LABELS[self.bucket]
        return {
            "step": self.bucket,
            "labels": [start.strftime(full) for start in self.starts],
            "short": [start.strftime(short) for start in self.starts],
            "series": [list(pair) for pair in SERIES],
            **{key: list(values) for key, values in self.values.items()},
        }


def bucket_for_span(first: datetime, last: datetime) -> str:
    span = last - first
    if span <= MAX_MINUTE_SPAN:
        return MINUTE
    if span <= MAX_HOUR_SPAN:
        return HOUR
    return DAY


def bucket_start(moment: datetime, bucket: str) -> datetime:
    """The start, in TIME_ZONE, of the bucket that holds `moment`."""
    local = timezone.localtime(moment)
    if bucket == MINUTE:
        return local.replace(second=0, microsecond=0)
    if bucket == HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    return timezone.make_aware(datetime.combine(local.date(), time.min))


def _next_start(start: datetime, bucket: str) -> datetime:
    if bucket == DAY:
        # By the calendar, not 24 hours: a day with a clock change is 23 or 25 hours long.
        return timezone.make_aware(datetime.combine(start.date() + timedelta(days=1), time.min))
    step = timedelta(minutes=1) if bucket == MINUTE else timedelta(hours=1)
    return timezone.localtime(start.astimezone(UTC) + step)


def time_series(
    counts: Iterable[Count],
    *,
    bucket: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> TimeSeries:
    """Every bucket from `start` (else the first count) to `end` (else the last count), with
    the counts summed into them and 0 where there were none. The bucket is chosen from that
    span unless given. No counts and no span: no buckets."""
    counts = [count for count in counts if count.n]
    moments = [count.at for count in counts]
    first = start or (min(moments) if moments else None)
    last = end or (max(moments) if moments else None)
    if first is None or last is None or last < first:
        return TimeSeries(bucket=bucket or MINUTE, starts=(), values={k: () for k, _ in SERIES})
    bucket = bucket or bucket_for_span(first, last)
    sums: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(dict(SERIES), 0))
    for count in counts:
        sums[bucket_start(count.at, bucket)][count.series] += count.n
    starts = []
    at, last_start = bucket_start(first, bucket), bucket_start(last, bucket)
    while at <= last_start:
        starts.append(at)
        at = _next_start(at, bucket)
    values = {key: tuple(sums[at][key] if at in sums else 0 for at in starts) for key, _ in SERIES}
    return TimeSeries(bucket=bucket, starts=tuple(starts), values=values)
