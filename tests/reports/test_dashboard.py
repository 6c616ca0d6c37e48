"""The campaign dashboard: roll-ups kept by database triggers, read by reports.dashboard, and
always equal to a recount of the campaign's messages and events."""

import importlib
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from iliveit import StatusResult
from messaging.models import (
    LATENCY_BOUNDS_S,
    Campaign,
    CampaignFailure,
    CampaignLatency,
    CampaignMinute,
    Channel,
    Message,
    MessageState,
)
from messaging.optouts import opt_out_record
from messaging.services import campaign_cancel, campaign_launch, message_submit
from messaging.states import OPTED_OUT
from postbacks.models import CampaignEventCount, EventSource
from postbacks.services import status_apply
from reports.dashboard import campaign_dashboard, campaign_dashboard_recount
from tests.messaging.test_counting import add_recipients, post, random_postbacks, submit_all
from tests.postbacks.bodies import status_body
from tests.support.threads import in_threads


@pytest.fixture
def campaign(make_campaign):
    """Without messages: each test adds the recipients it reports on."""
    return make_campaign()


def launched(campaign: Campaign, count: int) -> list[Message]:
    """`count` recipients, launched and accepted by iLiveIt (each has a MessageID)."""
    add_recipients(campaign, count)
    campaign_launch(campaign=campaign, user=None)
    return submit_all(campaign)


def report(message: Message, stages: dict, *, network: str = "vodacom") -> None:
    """One status postback for the message, stored and applied as the webhook's worker does."""
    body = status_body(message.iliveit_id, "delivery", stages=stages, network=network)
    post(message.pk, json.dumps(body).encode())


def poll(message: Message, stages: dict) -> None:
    """One status learned by polling, applied as reconciliation does."""
    result = StatusResult.from_json(status_body(message.iliveit_id, None, stages=stages))
    with transaction.atomic():
        locked = Message.objects.filter(pk=message.pk).locked().get()
        status_apply(message=locked, result=result, source=EventSource.POLL)


def refuse(message: Message, error: str) -> None:
    """The submission's answer: iLiveIt refused it (no MessageID, no stage codes)."""
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.FAILED, iliveit_id=None, last_error=error
    )


def assert_dashboard_matches(campaign: Campaign) -> None:
    assert campaign_dashboard(campaign_id=campaign.pk) == campaign_dashboard_recount(
        campaign_id=campaign.pk
    )


def minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def an_hour_ago() -> datetime:
    # Whole seconds, as iLiveIt's timestamps are.
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_recount_after_a_randomised_mix(campaign, application, seed):
    chooser = random.Random(seed)
    other = Campaign.objects.create(
        name="Other", channel=Channel.SMS, application=application, body_text="Hi"
    )
    add_recipients(campaign, 60)
    campaign_launch(campaign=campaign, user=None, canary_size=50)
    messages = submit_all(campaign)
    refused = chooser.sample(messages, 5)
    for message in refused:
        refuse(message, chooser.choice(("Invalid MSISDN", "Blocked number " + "x" * 300)))
    messages = [message for message in messages if message not in refused]
    test_send = Message.objects.create(
        campaign=campaign, recipient="+27829999999", is_test=True, iliveit_id="TEST-1"
    )
    doomed = launched(other, 10)

    bodies = random_postbacks([*messages, test_send, *doomed], chooser)
    for message_id, raw in bodies:
        post(message_id, raw)
    for message in chooser.sample(messages, 5):
        poll(message, {"delivered": (1, "Delivered", an_hour_ago())})
    for message in chooser.sample(messages, 4):
        message.delete()  # its events go with it
    campaign_cancel(campaign=campaign, user=None)
    other.delete()

    assert_dashboard_matches(campaign)
    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.total == 56
    assert dashboard.totals[MessageState.CANCELLED] == 10
    assert dashboard.failures_by_stage["submission"] == 5
    assert dashboard.late_postbacks > 0
    assert dashboard.reconciled >= 1
    for model in (CampaignMinute, CampaignLatency, CampaignFailure, CampaignEventCount):
        assert not model.objects.filter(campaign=other.pk).exists()


def test_a_message_delivered_40_s_after_submit_lands_in_the_30_to_60_s_bucket(campaign):
    (message,) = launched(campaign, 1)
    submitted = an_hour_ago()
    report(
        message,
        {
            "submit": (2, "Submitted", submitted),
            "delivered": (1, "Delivered", submitted + timedelta(seconds=40)),
        },
    )

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert [(b.upper_s, b.n) for b in dashboard.latency if b.n] == [(60, 1)]
    assert dashboard.latency_count == 1
    assert dashboard.latency_p50_s == 60
    assert dashboard.latency_p95_s == 60
    assert_dashboard_matches(campaign)


def test_p95_reads_the_upper_bound_of_the_bucket_holding_it(campaign):
    messages = launched(campaign, 20)
    submitted = an_hour_ago()
    for index, message in enumerate(messages):
        # 18 within 5 s, one at 100 s, one past 72 h.
        seconds = {18: 100, 19: 80 * 3600}.get(index, 4)
        report(
            message,
            {
                "submit": (2, "Submitted", submitted),
                "delivered": (1, "Delivered", submitted + timedelta(seconds=seconds)),
            },
        )

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.latency_p50_s == 5
    assert dashboard.latency_p95_s == 120
    assert dashboard.latency[-1].upper_s is None
    assert dashboard.latency[-1].n == 1
    assert_dashboard_matches(campaign)


def test_a_failure_at_the_sent_stage_shows_under_sent_with_its_code(campaign):
    first, second = launched(campaign, 2)
    moment = an_hour_ago()
    report(first, {"submit": (2, "Submitted", moment), "sent": (5, "Rejected", moment)})
    report(second, {"submit": (2, "Submitted", moment), "delivered": (1, "Delivered", moment)})

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.failures_by_stage["sent"] == 1
    assert [(r.stage, r.code, r.description, r.n) for r in dashboard.failure_reasons] == [
        ("sent", 5, "Rejected", 1)
    ]
    assert dashboard.delivery_rate == 0.5
    assert_dashboard_matches(campaign)


def test_the_first_failing_stage_is_the_one_counted(campaign):
    (message,) = launched(campaign, 1)
    moment = an_hour_ago()
    # A pipeline failure and a later delivery failure: the build failed first.
    report(message, {"build": (12, "RenderFarmFailed", moment), "delivered": (3, "Lost", moment)})

    (reason,) = campaign_dashboard(campaign_id=campaign.pk).failure_reasons
    assert (reason.stage, reason.code, reason.description) == ("build", 12, "RenderFarmFailed")
    assert_dashboard_matches(campaign)


def test_a_refused_submission_counts_under_submission_with_its_error(campaign):
    first, second = launched(campaign, 2)
    refuse(first, "Invalid MSISDN")
    refuse(second, "Invalid MSISDN")

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert [(r.stage, r.code, r.description, r.n) for r in dashboard.top_failure_reasons] == [
        ("submission", None, "Invalid MSISDN", 2)
    ]
    assert dashboard.funnel["queued"] == 2
    assert dashboard.funnel["submitted"] == 0
    assert_dashboard_matches(campaign)


def test_a_late_postback_counts_as_late(campaign):
    late, on_time = launched(campaign, 2)
    report(late, {"sent": (1, "Sent", timezone.now() - timedelta(hours=3))})
    report(on_time, {"sent": (1, "Sent", timezone.now() - timedelta(minutes=5))})

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.late_postbacks == 1
    assert dashboard.reconciled == 0
    assert_dashboard_matches(campaign)


def test_a_polled_status_counts_as_reconciled(campaign):
    (message,) = launched(campaign, 1)
    poll(
        message, {"sent": (1, "Sent", an_hour_ago()), "delivered": (1, "Delivered", an_hour_ago())}
    )

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.reconciled == 2
    assert dashboard.late_postbacks == 0
    assert_dashboard_matches(campaign)


def test_time_series_buckets_move_when_a_stage_time_changes(campaign):
    (message,) = launched(campaign, 1)
    first = an_hour_ago().replace(second=10)
    later = first + timedelta(minutes=3)
    report(message, {"sent": (1, "Sent", first)})
    # A newer report of the same stage moves its time.
    report(message, {"sent": (1, "Sent", later), "delivered": (1, "Delivered", later)})

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert [(p.at, p.submitted, p.sent, p.delivered) for p in dashboard.per_minute] == [
        (minute(later), 0, 1, 1)
    ]
    assert [(p.at, p.sent) for p in dashboard.per_hour] == [(minute(later).replace(minute=0), 1)]
    assert_dashboard_matches(campaign)


def test_hours_are_sums_of_minutes(campaign):
    messages = launched(campaign, 3)
    hour = an_hour_ago().replace(minute=0, second=0)
    for offset, message in zip((5, 6, 65), messages, strict=True):
        report(message, {"submit": (2, "Submitted", hour + timedelta(minutes=offset))})

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert [(p.at, p.submitted) for p in dashboard.per_minute] == [
        (hour + timedelta(minutes=5), 1),
        (hour + timedelta(minutes=6), 1),
        (hour + timedelta(minutes=65), 1),
    ]
    assert [(p.at, p.submitted) for p in dashboard.per_hour] == [
        (hour, 2),
        (hour + timedelta(hours=1), 1),
    ]


def test_the_funnel_counts_messages_that_reached_each_stage(campaign):
    messages = launched(campaign, 5)
    moment = an_hour_ago()
    report(messages[0], {"delivered": (1, "Delivered", moment)})
    report(messages[1], {"sent": (1, "Sent", moment)})
    report(messages[2], {"delivered": (3, "Expired", moment)})  # failed after it was sent
    refuse(messages[3], "Invalid MSISDN")
    # messages[4] stays submitted.

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.funnel == {
        "queued": 5,
        "submitted": 4,
        "built": 3,
        "sent": 3,
        "delivered": 1,
    }
    assert dashboard.by_network["vodacom"][MessageState.DELIVERED] == 1
    assert_dashboard_matches(campaign)


def test_messages_refused_for_an_opt_out_are_counted_apart_from_other_cancellations(
    campaign, django_assert_num_queries
):
    add_recipients(campaign, 4)
    campaign_launch(campaign=campaign, user=None)
    first, second, *_ = campaign.messages.order_by("id")
    opt_out_record(application=campaign.application, recipient=first.recipient, source="reply")
    # Refused at its claim: no call to iLiveIt is made.
    assert message_submit(message_id=first.pk).state == MessageState.CANCELLED
    Message.objects.filter(pk=second.pk).update(state=MessageState.SUBMITTED, iliveit_id="M-2")
    campaign_cancel(campaign=campaign, user=None)  # the last two

    # The roll-ups and one indexed count: never a scan of the campaign's messages.
    with django_assert_num_queries(7):
        dashboard = campaign_dashboard(campaign_id=campaign.pk)

    assert (dashboard.opted_out, dashboard.cancelled_otherwise) == (1, 2)
    assert dashboard.totals[MessageState.CANCELLED] == 3
    assert dashboard.funnel["queued"] == 1
    assert_dashboard_matches(campaign)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_opted_out_count_is_served_by_its_partial_index(campaign):
    # A campaign cancelled with many messages, of which a few were refused for an opt-out: the
    # count must read the few, not every cancelled one.
    Message.objects.bulk_create(
        Message(
            campaign=campaign,
            recipient=f"2782{n:07d}",
            state=MessageState.CANCELLED,
            last_error=OPTED_OUT if n < 3 else "",
        )
        for n in range(3000)
    )
    query = Message.objects.filter(campaign_id=campaign.pk, is_test=False).filter(
        state=MessageState.CANCELLED, last_error=OPTED_OUT
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_message")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few thousand rows: still small
    plan = query.explain()

    assert "message_opted_out" in plan, plan
    assert query.count() == 3


def test_test_sends_are_left_out(campaign):
    message = Message.objects.create(
        campaign=campaign, recipient="+27820000001", is_test=True, iliveit_id="TEST-1"
    )
    moment = an_hour_ago()
    report(message, {"submit": (2, "Submitted", moment), "sent": (5, "Rejected", moment)})
    poll(message, {"delivered": (3, "Lost", moment)})

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.total == 0
    assert dashboard.per_minute == ()
    assert dashboard.failure_reasons == ()
    assert (dashboard.late_postbacks, dashboard.reconciled) == (0, 0)
    assert_dashboard_matches(campaign)


def test_a_deleted_message_leaves_the_rollups(campaign):
    first, second = launched(campaign, 2)
    moment = timezone.now() - timedelta(hours=3)
    for message in (first, second):
        report(message, {"submit": (2, "Submitted", moment), "delivered": (3, "Lost", moment)})
    poll(first, {"sent": (1, "Sent", moment)})

    Message.objects.get(pk=first.pk).delete()

    dashboard = campaign_dashboard(campaign_id=campaign.pk)
    assert dashboard.latency_count == 1
    assert dashboard.failures_by_stage["delivered"] == 1
    assert dashboard.late_postbacks == 2  # the second message's two stages
    assert dashboard.reconciled == 0
    assert_dashboard_matches(campaign)


def test_an_empty_campaign_has_an_empty_dashboard(campaign):
    dashboard = campaign_dashboard(campaign_id=campaign.pk)

    assert dashboard.total == 0
    assert dashboard.delivery_rate is None
    assert dashboard.latency_p50_s is None
    assert dashboard == campaign_dashboard_recount(campaign_id=campaign.pk)


def test_the_migration_buckets_latency_by_the_models_bounds():
    migration = importlib.import_module("messaging.migrations.0004_campaign_rollups")

    assert migration.LATENCY_BOUNDS_S == LATENCY_BOUNDS_S


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the whole database",
)
def test_rollups_stay_exact_under_concurrent_postbacks(campaign):
    bodies = random_postbacks(launched(campaign, 200), random.Random(11))
    errors = in_threads(bodies, lambda body: post(*body))

    assert errors == []
    assert_dashboard_matches(campaign)
    assert campaign_dashboard(campaign_id=campaign.pk).late_postbacks > 0
