"""The charts' time series: zero-filled buckets of a size chosen from the span, in TIME_ZONE."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from reports.timeseries import DAY, HOUR, MINUTE, Count, time_series


def utc(hour: int, minute: int = 0, day: int = 6) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def test_empty_minutes_between_two_busy_ones_are_zeros_not_skipped():
    series = time_series([Count(utc(2, 14), "submitted", 484), Count(utc(2, 19), "submitted", 1)])

    assert series.bucket == MINUTE
    assert series.values["submitted"] == (484, 0, 0, 0, 0, 1)
    assert series.values["sent"] == (0,) * 6
    assert len(series.starts) == 6


def test_a_one_minute_campaign_is_one_bucket_with_every_series():
    series = time_series([Count(utc(9, 30), "submitted", 3), Count(utc(9, 30), "delivered", 2)])

    assert series.bucket == MINUTE
    assert series.values == {"submitted": (3,), "sent": (0,), "delivered": (2,)}


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(hours=3), MINUTE),
        (timedelta(hours=3, minutes=1), HOUR),
        (timedelta(days=7), HOUR),
        (timedelta(days=8), DAY),
    ],
)
def test_the_bucket_is_chosen_from_the_span(span, bucket):
    start = utc(1)
    series = time_series([Count(start, "sent", 1), Count(start + span, "sent", 1)])

    assert series.bucket == bucket
    assert sum(series.values["sent"]) == 2


def test_hours_and_days_are_the_time_zones(settings):
    settings.TIME_ZONE = "Africa/Johannesburg"  # UTC+2
    with timezone.override("Africa/Johannesburg"):
        # 21:30 and 22:30 UTC are 23:30 on the 6th and 00:30 on the 7th in Johannesburg.
        series = time_series(
            [Count(utc(21, 30), "submitted", 1), Count(utc(22, 30), "submitted", 1)], bucket=DAY
        )
        assert series.chart_data()["labels"] == ["2026-12-06 (Sun)", "2026-12-07 (Mon)"]
        assert series.values["submitted"] == (1, 1)


def test_a_given_span_is_filled_even_where_nothing_happened():
    series = time_series([], bucket=DAY, start=utc(12, day=1), end=utc(12, day=5))

    assert series.values["delivered"] == (0, 0, 0, 0, 0)
    assert series.rows() == []


def test_the_table_rows_leave_out_the_empty_buckets():
    series = time_series([Count(utc(2, 14), "sent", 5), Count(utc(2, 16), "delivered", 4)])

    assert [counts for _, counts in series.rows()] == [(0, 5, 0), (0, 0, 4)]


def test_nothing_yet_is_no_buckets():
    series = time_series([])

    assert series.starts == ()
    assert series.chart_data()["labels"] == []
