"""The status merge is a pure function, so these tests need no database: a message's status
and a StatusResult in, the new status out."""

import json
import time
from datetime import UTC, datetime
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iliveit import STAGES, StatusResult
from iliveit import STAGES as STAGE_NAMES
from iliveit.types import ZERO_TIMESTAMP
from messaging.models import Application, Campaign, CampaignState, Channel, Message, MessageState
from messaging.services import message_submit
from messaging.states import ORDER, OUTCOMES, TERMINAL
from postbacks.merge import MessageStatus, Stage, merge_status
from postbacks.models import InboxKind, InboxState, PostbackInbox
from postbacks.services import status_of
from tests.conftest import APP_A
from tests.support.worker import CeleryWorker, database_url_for_workers

T0 = "2025-03-01T10:00:00Z"
T1 = "2025-03-01T10:00:05Z"
T2 = "2025-03-01T10:01:00Z"
T3 = "2025-03-01T12:00:00Z"


def report(postback_type: str | None = None, **stages: tuple) -> StatusResult:
    """A StatusResult read from JSON, as the webhook reads it; each keyword names a stage and
    gives (code, description, timestamp)."""
    document = {"message_id": "MSG-1", "type": "sms", "network": "vodacom"}
    if postback_type:
        document["postback_type"] = postback_type
    for name, (code, description, timestamp) in stages.items():
        document[f"{name}_status"] = code
        document[f"{name}_status_description"] = description
        document[f"{name}_timestamp"] = timestamp
    return StatusResult.from_json(document)


def merge_all(reports, state=MessageState.SUBMITTED) -> MessageStatus:
    return reduce(merge_status, reports, MessageStatus(state=state))


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp).astimezone(UTC)


SUBMITTED = report("submit", submit=(2, "Submitted", T0))
SENT = report("sent", submit=(2, "Submitted", T0), sent=(1, "Sent", T1))
DELIVERED = report(
    "delivery", submit=(2, "Submitted", T0), sent=(1, "Sent", T1), delivered=(1, "Delivered", T2)
)

# --- each stage taken from the postback -----------------------------------------------------


def test_it_sets_each_stage_from_the_postback():
    merged = merge_all([DELIVERED])

    assert merged.state == MessageState.DELIVERED
    assert merged.submit == Stage(code=2, description="Submitted", at=at(T0))
    assert merged.sent == Stage(code=1, description="Sent", at=at(T1))
    assert merged.delivered == Stage(code=1, description="Delivered", at=at(T2))
    assert merged.build is None
    assert merged.archive is None


def test_it_reads_a_zero_timestamp_as_no_time():
    merged = merge_all([report("submit", submit=(2, "Submitted", ZERO_TIMESTAMP))])

    assert merged.submit == Stage(code=2, description="Submitted", at=None)


def test_it_ignores_stages_with_code_zero():
    merged = merge_all(
        [report("submit", submit=(2, "Submitted", T0), sent=(0, "", ZERO_TIMESTAMP))]
    )

    assert merged.sent is None
    assert merged.state == MessageState.SUBMITTED


def test_a_dated_report_replaces_an_undated_one():
    merged = merge_all(
        [report(submit=(2, "Submitted", ZERO_TIMESTAMP)), report(submit=(2, "Submitted", T0))]
    )

    assert merged.submit.at == at(T0)


def test_an_undated_report_does_not_replace_a_dated_one():
    merged = merge_all(
        [report(submit=(2, "Submitted", T0)), report(submit=(1, "Received", ZERO_TIMESTAMP))]
    )

    assert merged.submit == Stage(code=2, description="Submitted", at=at(T0))


# --- the overall state ---------------------------------------------------------------------


def test_build_14_means_built():
    merged = merge_all([report("build", build=(14, "RenderFarmSuccess", T0))])

    assert merged.state == MessageState.BUILT
    assert merged.build.code == 14


def test_a_build_still_rendering_is_only_submitted():
    merged = merge_all([report("build", build=(13, "RenderFarmSent", T0))])

    assert merged.state == MessageState.SUBMITTED


def test_assumed_delivered_12_counts_as_delivered():
    merged = merge_all(
        [report("delivery", sent=(1, "Sent", T0), delivered=(12, "Assumed Delivered", T3))]
    )

    assert merged.state == MessageState.DELIVERED
    assert merged.delivered == Stage(code=12, description="Assumed Delivered", at=at(T3))


def test_build_12_is_a_render_failure_not_assumed_delivered():
    merged = merge_all([report("build", build=(12, "RenderFarmFailed", T0))])

    assert merged.state == MessageState.FAILED


def test_it_keeps_unknown_codes_and_their_descriptions():
    merged = merge_all(
        [
            report("submit", submit=(77, "Some new pipeline state", T0)),
            report("delivery", delivered=(401, "Absent subscriber", T2)),
        ]
    )

    assert merged.submit == Stage(code=77, description="Some new pipeline state", at=at(T0))
    assert merged.delivered == Stage(code=401, description="Absent subscriber", at=at(T2))


def test_an_unknown_pipeline_code_does_not_fail_the_message():
    merged = merge_all([report("submit", submit=(77, "Some new pipeline state", T0))])

    assert merged.state == MessageState.SUBMITTED


def test_a_pipeline_failure_fails_the_message():
    merged = merge_all([report("submit", submit=(9, "NotMMS", T0))])

    assert merged.state == MessageState.FAILED


def test_a_network_failure_fails_the_message():
    merged = merge_all([SENT, report("delivery", delivered=(5, "Expired", T2))])

    assert merged.state == MessageState.FAILED


# --- forward only, failures terminal --------------------------------------------------------


def test_the_state_never_moves_back():
    merged = merge_all([DELIVERED, SENT, SUBMITTED])

    assert merged.state == MessageState.DELIVERED


def test_an_older_report_does_not_replace_a_newer_one():
    newer = report("submit", submit=(2, "Submitted", T2))
    older = report("submit", submit=(1, "Received", T0))

    assert merge_all([newer, older]) == merge_all([newer])


def test_a_duplicate_report_changes_nothing():
    once = merge_all([DELIVERED])

    assert merge_status(once, DELIVERED) == once


def test_a_failed_message_stays_failed():
    failed = merge_all([report("sent", submit=(2, "Submitted", T0), sent=(40, "Rejected", T1))])
    merged = merge_status(failed, report("delivery", delivered=(1, "Delivered", T3)))

    assert merged.state == MessageState.FAILED
    # The news is still recorded.
    assert merged.delivered.code == 1


def test_a_failure_older_than_a_success_still_fails_the_message():
    # Whichever comes first, the message failed at some point: failures are terminal.
    failure = report("sent", sent=(40, "Rejected", T0))
    success = report("sent", sent=(1, "Sent", T2))

    assert merge_all([failure, success]).state == MessageState.FAILED
    assert merge_all([success, failure]).state == MessageState.FAILED
    assert merge_all([success, failure]).sent.code == 1


def test_a_cancelled_message_stays_cancelled():
    merged = merge_all([DELIVERED], state=MessageState.CANCELLED)

    assert merged.state == MessageState.CANCELLED
    assert merged.delivered.code == 1


def test_a_queued_or_uncertain_message_moves_to_submitted():
    for state in (MessageState.QUEUED, MessageState.UNCERTAIN, MessageState.SUBMITTING):
        assert merge_all([SUBMITTED], state=state).state == MessageState.SUBMITTED


def test_a_delivery_before_its_submit_ends_delivered_with_both_stages():
    delivery = report("delivery", delivered=(1, "Delivered", T2))
    submit = report("submit", submit=(2, "Submitted", T0))

    merged = merge_all([delivery, submit])

    assert merged.state == MessageState.DELIVERED
    assert merged.submit == Stage(code=2, description="Submitted", at=at(T0))
    assert merged.delivered == Stage(code=1, description="Delivered", at=at(T2))
    assert merged == merge_all([submit, delivery])


def test_a_build_success_older_than_a_rendering_report_still_means_built():
    # Built at T0, then (reordered, or a late retry) "rendering" stamped T2: the video was built.
    built = report("build", build=(14, "RenderFarmSuccess", T0))
    rendering = report("build", build=(13, "RenderFarmSent", T2))

    assert merge_all([built, rendering]).state == MessageState.BUILT
    assert merge_all([rendering, built]).state == MessageState.BUILT


# --- order does not matter ------------------------------------------------------------------

CODES = {
    "build": [1, 12, 13, 14, 99],
    "archive": [4, 5, 15, 99],
    "submit": [1, 2, 3, 77],
    "sent": [1, 2, 40],
    "delivered": [1, 12, 5, 401],
}
TIMESTAMPS = [
    ZERO_TIMESTAMP,
    "",
    T0,
    "2025-03-01T12:00:00+02:00",  # the same instant as T0, written in another zone
    T1,
    "2025-03-01T10:00:05.250Z",
    T2,
    "2025-03-01T10:01:00",  # no zone: UTC
    T3,
]
DESCRIPTIONS = ["", "OK", "Delivered", "Something new"]


@st.composite
def status_results(draw) -> StatusResult:
    document = {
        "message_id": "MSG-1",
        "postback_type": draw(st.sampled_from(["build", "submit", "archive", "sent", "delivery"])),
    }
    for name in draw(st.lists(st.sampled_from(STAGES), min_size=1, max_size=3, unique=True)):
        document[f"{name}_status"] = draw(st.sampled_from(CODES[name]))
        document[f"{name}_status_description"] = draw(st.sampled_from(DESCRIPTIONS))
        document[f"{name}_timestamp"] = draw(st.sampled_from(TIMESTAMPS))
    return StatusResult.from_json(document)


START_STATES = [
    MessageState.QUEUED,
    MessageState.UNCERTAIN,
    MessageState.SUBMITTED,
    MessageState.SENT,
    MessageState.CANCELLED,
]


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    reports=st.lists(status_results(), min_size=1, max_size=6),
    start=st.sampled_from(START_STATES),
)
def test_the_same_reports_in_any_order_give_the_same_status(data, reports, start):
    shuffled = data.draw(st.permutations(reports))

    assert merge_all(shuffled, state=start) == merge_all(reports, state=start)


def _rank(state: str) -> int:
    return len(ORDER) if state in TERMINAL else ORDER.index(state)


@settings(max_examples=200, deadline=None)
@given(
    reports=st.lists(status_results(), min_size=1, max_size=6),
    start=st.sampled_from(START_STATES),
)
def test_every_step_moves_forward_or_stays(reports, start):
    status = MessageStatus(state=start)
    for result in reports:
        merged = merge_status(status, result)
        assert _rank(merged.state) >= _rank(status.state)
        if status.state in TERMINAL:
            assert merged.state == status.state
        for name in STAGES:
            before, after = status.stage(name), merged.stage(name)
            if before is not None and before.at is not None:
                # A stage never goes back to an earlier time.
                assert after.at is not None and after.at >= before.at
        # The same report again changes nothing.
        assert merge_status(merged, result) == merged
        status = merged


# --- end to end: the sandbox sends every postback twice, newest first ---------------------


E2E_FAILS_DELIVERY, E2E_FAILS_SENT = "27000000001", "27000000006"


def received_results(message) -> list[StatusResult]:
    rows = PostbackInbox.objects.filter(message=message, kind=InboxKind.STATUS)
    return [StatusResult.from_json(json.loads(bytes(row.body))) for row in rows]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_duplicated_and_reordered_postbacks_from_the_sandbox_end_each_message_right(
    live_server, sandbox, settings, request
):
    settings.PORTAL_BASE_URL = live_server.url
    sandbox.configure(duplicate_postbacks=True, reorder_postbacks=True)
    application = Application.objects.create(
        name="Sandbox", endpoint=sandbox.url, token=APP_A.token, mvno_id=APP_A.mvno_id
    )
    campaign = Campaign.objects.create(
        name="Out of order",
        channel=Channel.SMS,
        application=application,
        body_text="Hello from the portal",
        state=CampaignState.SENDING,
    )
    # The worker applies what the webhook stores, as in production.
    worker = CeleryWorker(
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        env={"DATABASE_URL": database_url_for_workers()},
        concurrency=1,
    )
    request.addfinalizer(worker.stop)
    recipients = [f"2782{n:07d}" for n in range(18)] + [E2E_FAILS_DELIVERY, E2E_FAILS_SENT]
    messages = Message.objects.bulk_create(
        Message(campaign=campaign, recipient=r, state=MessageState.QUEUED) for r in recipients
    )
    for message in messages:
        message_submit(message_id=message.pk)
    ids = dict(campaign.messages.values_list("iliveit_id", "pk"))
    assert len(ids) == 20 and None not in ids

    def all_in() -> bool:
        deliveries = sandbox.postbacks()
        return (
            not campaign.messages.exclude(state__in=OUTCOMES).exists()
            and all(d["delivered"] for d in deliveries)
            and PostbackInbox.objects.count() == len(deliveries)
            and not PostbackInbox.objects.filter(state=InboxState.PENDING).exists()
        )

    deadline = time.monotonic() + 30
    while not all_in():
        assert time.monotonic() < deadline, dict(
            campaign.messages.values_list("recipient", "state")
        )
        time.sleep(0.1)

    deliveries = sandbox.postbacks()
    for message in campaign.messages.all():
        sent = [d["body"] for d in deliveries if d["message_id"] == message.iliveit_id]
        rows = list(PostbackInbox.objects.filter(message=message).order_by("id"))
        expected = {
            E2E_FAILS_DELIVERY: MessageState.FAILED,
            E2E_FAILS_SENT: MessageState.FAILED,
        }.get(message.recipient, MessageState.DELIVERED)
        assert message.state == expected, message.recipient
        # Each postback came twice; the copy that came second changed nothing.
        assert len(rows) == len(sent) >= 8
        # Held back and released newest first: the last postback arrived first.
        assert json.loads(bytes(rows[0].body))["postback_type"] == sent[-1]["postback_type"]
        seen = set()
        for row in rows:
            body = bytes(row.body)
            if body in seen:
                assert row.state == InboxState.DUPLICATE
            else:
                assert row.state in (InboxState.APPLIED, InboxState.DUPLICATE)
            seen.add(body)
        assert len(seen) * 2 == len(rows)
        # One event per distinct stage report among the bodies received.
        results = received_results(message)
        reports = {
            (name, report.code, report.timestamp)
            for result in results
            for name in STAGE_NAMES
            if (report := getattr(result, name)) is not None
        }
        events = list(message.events.values_list("stage", "code", "stage_at"))
        assert sorted(events, key=str) == sorted(reports, key=str)
        # Nothing went backwards: the stored status is the merge of everything received.
        merged = reduce(merge_status, results, MessageStatus(state=MessageState.SUBMITTED))
        assert status_of(message) == merged
