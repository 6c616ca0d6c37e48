"""The postback services: store, apply (idempotent, in batches), and status_apply for polls."""

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from iliveit import STAGES as STAGE_NAMES
from iliveit import StatusResult
from iliveit.types import ZERO_TIMESTAMP
from messaging.models import Channel, Message, MessageState
from messaging.postback_urls import sign
from postbacks import views
from postbacks.drain import postbacks_drain, postbacks_sweep
from postbacks.models import EventSource, InboxKind, InboxState, MessageEvent, PostbackInbox
from postbacks.services import (
    inbox_resolve_pending,
    postback_apply,
    postback_store,
    postbacks_apply,
    postbacks_release_waiting,
    status_apply,
)
from tests.messaging.services.helpers import in_open_transaction, needs_row_locks
from tests.postbacks.bodies import go_case, status_body
from tests.postbacks.webhook import (
    DELIVERED,
    DELIVERED_AT,
    NOW,
    SENT,
    SENT_AT,
    SUBMIT_AT,
    SUBMITTED,
    delivery,
    delivery_body,
    events_of,
    only_inbox_row,
    post,
    state_of,
    store,
)

pytestmark = pytest.mark.django_db


def apply_locked(message: Message, result: StatusResult, source: str) -> bool:
    with transaction.atomic():
        locked = Message.objects.filter(pk=message.pk).locked().get()
        return status_apply(message=locked, result=result, source=source)


# --- postback_store -----------------------------------------------------------------------


def test_store_commits_a_pending_row(message):
    row = store(message, delivery(message.iliveit_id))

    row.refresh_from_db()
    assert row.state == InboxState.PENDING
    assert row.kind == InboxKind.STATUS
    assert row.message_id == message.pk
    assert row.source_ip == "198.51.100.7"
    assert json.loads(bytes(row.body))["message_id"] == message.iliveit_id
    assert row.processed_at is None


# --- postback_apply -----------------------------------------------------------------------


def test_apply_merges_the_postback(message):
    row = store(message, delivery(message.iliveit_id))

    assert postback_apply(inbox_id=row.pk) == InboxState.APPLIED

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.events.count() == 3


def test_applying_the_same_row_again_changes_nothing(message):
    row = store(message, delivery(message.iliveit_id))
    postback_apply(inbox_id=row.pk)
    message.refresh_from_db()
    row.refresh_from_db()
    first_updated, first_processed = message.updated_at, row.processed_at

    assert postback_apply(inbox_id=row.pk) == InboxState.APPLIED
    assert postback_apply(inbox_id=row.pk) == InboxState.APPLIED

    message.refresh_from_db()
    row.refresh_from_db()
    assert message.updated_at == first_updated
    assert row.processed_at == first_processed
    assert message.events.count() == 3


def test_a_second_copy_of_a_postback_is_a_duplicate(message):
    body = delivery(message.iliveit_id)
    first, second = store(message, body), store(message, body)

    postback_apply(inbox_id=first.pk)

    assert postback_apply(inbox_id=second.pk) == InboxState.DUPLICATE
    assert state_of(second) == InboxState.DUPLICATE
    assert message.events.count() == 3


def test_an_older_postback_after_a_newer_one_keeps_the_newer_state(message):
    newer = store(message, delivery(message.iliveit_id))
    older = store(
        message, status_body(message.iliveit_id, "sent", stages={"submit": SUBMITTED, "sent": SENT})
    )

    postback_apply(inbox_id=newer.pk)
    postback_apply(inbox_id=older.pk)

    # Every stage in the older body was already an event: nothing new.
    assert state_of(older) == InboxState.DUPLICATE
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.delivered_code == 1


def test_a_quarantined_row_is_not_applied_again(message):
    row = postback_store(
        message=message,
        kind=InboxKind.STATUS,
        body=b"not json",
        truncated=False,
        headers={},
        source_ip=None,
    )

    assert postback_apply(inbox_id=row.pk) == InboxState.QUARANTINED
    reason = PostbackInbox.objects.get(pk=row.pk).reason
    assert postback_apply(inbox_id=row.pk) == InboxState.QUARANTINED
    assert PostbackInbox.objects.get(pk=row.pk).reason == reason


def test_a_truncated_row_is_quarantined_without_parsing(message):
    row = postback_store(
        message=message,
        kind=InboxKind.STATUS,
        body=json.dumps(delivery(message.iliveit_id)).encode(),
        truncated=True,
        headers={},
        source_ip=None,
    )

    assert postback_apply(inbox_id=row.pk) == InboxState.QUARANTINED
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED


# --- waiting for the MessageID --------------------------------------------------------------


def test_released_rows_of_that_message_alone_are_applied_by_the_next_drain(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    other = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    mine = store(early, delivery("MSG-EARLY"))
    theirs = store(other, delivery("MSG-OTHER"))
    postback_apply(inbox_id=mine.pk)
    postback_apply(inbox_id=theirs.pk)
    assert state_of(mine) == state_of(theirs) == InboxState.WAITING

    Message.objects.filter(pk=early.pk).update(iliveit_id="MSG-EARLY", state=MessageState.SUBMITTED)
    assert postbacks_release_waiting(message_ids=[early.pk]) == 1
    assert state_of(mine) == InboxState.PENDING
    postbacks_drain()

    assert state_of(mine) == InboxState.APPLIED
    assert state_of(theirs) == InboxState.WAITING
    early.refresh_from_db()
    assert early.state == MessageState.DELIVERED


def test_a_released_row_waits_again_while_the_id_is_unknown(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    row = store(early, delivery("MSG-EARLY"))
    postback_apply(inbox_id=row.pk)

    postbacks_release_waiting(message_ids=[early.pk])
    postbacks_drain()

    assert state_of(row) == InboxState.WAITING
    row.refresh_from_db()
    assert row.processed_at is None


def test_releasing_with_nothing_waiting_costs_one_query(make_message):
    # Each sending round announces its messages; almost always nothing waits for them.
    messages = [make_message() for _ in range(20)]
    store(messages[0], delivery(messages[0].iliveit_id))  # pending, not waiting

    with CaptureQueriesContext(connection) as queries:
        assert postbacks_release_waiting(message_ids=[message.pk for message in messages]) == 0

    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_releasing_skips_a_row_another_holds_and_the_sweep_applies_it(make_message):
    # The sweep's linking statement locks rows in no order; a release that waited for one of
    # them while holding another deadlocked with it, and the sending task failed.
    free, held = (make_message(state=MessageState.SUBMITTING, iliveit_id=None) for _ in range(2))
    rows = [store(message, delivery(f"MSG-{message.pk}")) for message in (free, held)]
    for row in rows:
        postback_apply(inbox_id=row.pk)
    for message in (free, held):
        Message.objects.filter(pk=message.pk).update(
            iliveit_id=f"MSG-{message.pk}", state=MessageState.SUBMITTED
        )
    holder = in_open_transaction(
        lambda: list(PostbackInbox.objects.filter(pk=rows[1].pk).select_for_update()), hold_s=3
    )

    started = time.monotonic()
    released = postbacks_release_waiting(message_ids=[free.pk, held.pk])
    took = time.monotonic() - started
    holder.join()

    assert took < 1.5, f"the release waited {took:.1f} s for another transaction's row"
    assert released == 1
    assert [state_of(row) for row in rows] == [InboxState.PENDING, InboxState.WAITING]
    postbacks_drain()
    assert [state_of(row) for row in rows] == [InboxState.APPLIED, InboxState.WAITING]
    # The sweep takes waiting rows whose message has its MessageID.
    postbacks_sweep()
    assert [state_of(row) for row in rows] == [InboxState.APPLIED, InboxState.APPLIED]


# --- linking postbacks stored by ref to their messages ---------------------------------------


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_linking_stored_postbacks_does_not_wait_for_a_drain_applying_their_message(make_message):
    # The sweep links every unlinked postback in one statement, in no order of messages: had it
    # waited for a drain's lock on a message, the two could deadlock (it did, in CI).
    message = make_message()
    applied = store(message, delivery(message.iliveit_id))
    by_ref = postback_store(
        ref=message.ref,
        kind=InboxKind.STATUS,
        body=json.dumps(delivery(message.iliveit_id)).encode(),
        truncated=False,
        headers={},
        source_ip=None,
    )
    drain = in_open_transaction(lambda: postbacks_apply(inbox_ids=[applied.pk]), hold_s=5)

    started = time.monotonic()
    assert inbox_resolve_pending() == 1
    took = time.monotonic() - started
    drain.join()

    assert took < 2.5, f"linking waited {took:.1f} s for the drain's transaction"
    by_ref.refresh_from_db()
    assert by_ref.message_id == message.pk


# --- status_apply -------------------------------------------------------------------------


def test_status_apply_from_a_poll_records_poll_events(message):
    long_ago = NOW - timedelta(hours=5)
    result = StatusResult.from_json(
        delivery(message.iliveit_id, submit=(2, "Submitted", long_ago), delivered=DELIVERED)
    )

    assert apply_locked(message, result, EventSource.POLL) is True

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.network == "vodacom"
    events = list(message.events.values_list("stage", "source", "late_by_s"))
    # A poll is not a late postback, however old the stage.
    assert sorted(events) == [("delivered", "poll", 0), ("submit", "poll", 0)]


def test_status_apply_answers_false_for_nothing_new(message):
    result = StatusResult.from_json(delivery(message.iliveit_id))
    apply_locked(message, result, EventSource.POLL)

    assert apply_locked(message, result, EventSource.POSTBACK) is False
    assert message.events.count() == 3


def test_status_apply_takes_the_id_for_a_message_without_one(make_message):
    message = make_message(state=MessageState.UNCERTAIN, iliveit_id=None)
    result = StatusResult.from_json(delivery("MSG-POLLED"))

    apply_locked(message, result, EventSource.POLL)

    message.refresh_from_db()
    assert message.iliveit_id == "MSG-POLLED"
    assert message.submitted_at is not None
    assert message.state == MessageState.DELIVERED


def test_a_stage_more_than_an_hour_old_is_counted_late(message):
    three_hours_ago = timezone.now() - timedelta(hours=3)
    result = StatusResult.from_json(
        delivery(message.iliveit_id, delivered=(1, "Delivered", three_hours_ago))
    )

    apply_locked(message, result, EventSource.POSTBACK)

    [event] = MessageEvent.objects.filter(message=message)
    # Two hours past the one-hour promise, give or take the test's own run time.
    assert 2 * 3600 - 60 <= event.late_by_s <= 2 * 3600 + 60


def test_a_stage_within_the_hour_is_not_late(message):
    result = StatusResult.from_json(
        delivery(
            message.iliveit_id, delivered=(1, "Delivered", timezone.now() - timedelta(minutes=59))
        )
    )

    apply_locked(message, result, EventSource.POSTBACK)

    assert list(message.events.values_list("late_by_s", flat=True)) == [0]


def test_a_stage_without_a_time_is_not_late(message):
    result = StatusResult.from_json(
        delivery(message.iliveit_id, delivered=(12, "Assumed Delivered", ZERO_TIMESTAMP))
    )

    apply_locked(message, result, EventSource.POSTBACK)

    [event] = message.events.all()
    assert (event.code, event.stage_at, event.late_by_s) == (12, None, 0)


def test_the_same_undated_stage_twice_is_one_event(message):
    # No time means a NULL stage_at, which the unique constraint cannot tell apart.
    result = StatusResult.from_json(
        delivery(message.iliveit_id, delivered=(12, "Assumed Delivered", ZERO_TIMESTAMP))
    )

    assert apply_locked(message, result, EventSource.POSTBACK) is True
    assert apply_locked(message, result, EventSource.POSTBACK) is False

    assert message.events.count() == 1


# --- concurrent delivery over HTTP ----------------------------------------------------------

T0 = NOW - timedelta(minutes=10)
# One video message's way through, as the five postbacks iLiveIt sends for it: each carries the
# whole StatusResult as it stood then (NOTES.md), so later ones repeat the earlier stages.
LIFECYCLE = {
    "build": {"build": (14, "RenderFarmSuccess", T0)},
    "submit": {
        "build": (14, "RenderFarmSuccess", T0),
        "submit": (1, "Received", T0 + timedelta(seconds=1)),
    },
    "archive": {
        "build": (14, "RenderFarmSuccess", T0),
        "submit": (1, "Received", T0 + timedelta(seconds=1)),
        "archive": (4, "Archived", T0 + timedelta(seconds=2)),
    },
    "sent": {
        "build": (14, "RenderFarmSuccess", T0),
        "submit": (2, "Submitted", T0 + timedelta(seconds=3)),
        "archive": (4, "Archived", T0 + timedelta(seconds=2)),
        "sent": (1, "Sent", T0 + timedelta(seconds=4)),
    },
    "delivery": {
        "build": (14, "RenderFarmSuccess", T0),
        "submit": (2, "Submitted", T0 + timedelta(seconds=3)),
        "archive": (4, "Archived", T0 + timedelta(seconds=2)),
        "sent": (1, "Sent", T0 + timedelta(seconds=4)),
        "delivered": (1, "Delivered", T0 + timedelta(seconds=5)),
    },
}
THREADS, PER_THREAD = 8, 50
# A fresh connection per post: Django's live server writes an answer in two small segments,
# which on a kept-alive connection waits ~40 ms for the client's delayed ACK each time.
HEADERS = {"Content-Type": "application/json", "Connection": "close"}
STATE_COLUMNS = ["state", "network", "iliveit_id"] + [
    f"{stage}_{suffix}"
    for stage in ("build", "archive", "submit", "sent", "delivered")
    for suffix in ("code", "description", "at")
]


def lifecycle_bodies(message_id: str, seed: int) -> list[list[bytes]]:
    """THREADS shuffled lists of PER_THREAD bodies, each of the five types equally often."""
    chooser = random.Random(seed)
    bodies = [
        json.dumps(status_body(message_id, kind, stages=stages, message_type="mms")).encode()
        for kind, stages in LIFECYCLE.items()
    ]
    batches = []
    for _ in range(THREADS):
        batch = bodies * (PER_THREAD // len(bodies))
        chooser.shuffle(batch)
        batches.append(batch)
    return batches


def postback_url(base: str, message: Message) -> str:
    return base + reverse("postbacks:status", kwargs={"ref": message.ref, "mac": sign(message.ref)})


def outcome(message: Message) -> tuple[dict, set]:
    message.refresh_from_db()
    status = {column: getattr(message, column) for column in STATE_COLUMNS}
    status["iliveit_id"] = "same"  # each message has its own
    events = set(message.events.values_list("stage", "code", "description", "stage_at"))
    assert message.events.count() == len(events)
    return status, events


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the whole database",
)
def test_eight_threads_posting_at_once_end_like_sequential_delivery(live_server, make_message):
    concurrent, sequential = make_message(), make_message()
    batches = lifecycle_bodies(concurrent.iliveit_id, seed=2025)
    url = postback_url(live_server.url, concurrent)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def deliver(batch: list[bytes]) -> None:
        start.wait()
        try:
            for raw in batch:
                answer = requests.post(url, data=raw, headers=HEADERS, timeout=30)
                with lock:
                    statuses.append(answer.status_code)
                # Eight drains racing each other for the same message's rows.
                postbacks_drain()
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    # The same bodies, one after another, in the same overall order, for the other message.
    seq_url = postback_url(live_server.url, sequential)
    for batch in lifecycle_bodies(sequential.iliveit_id, seed=2025):
        for raw in batch:
            assert requests.post(seq_url, data=raw, headers=HEADERS, timeout=30).status_code == 200
            postbacks_drain()

    assert len(statuses) == THREADS * PER_THREAD
    assert [code for code in statuses if code >= 500] == []
    assert set(statuses) == {200}
    assert outcome(concurrent) == outcome(sequential)
    status, events = outcome(concurrent)
    assert status["state"] == MessageState.DELIVERED
    assert len(events) == 6  # build 14, submit 1 and 2, archive 4, sent 1, delivered 1
    rows = PostbackInbox.objects.filter(message=concurrent)
    assert rows.count() == THREADS * PER_THREAD
    assert set(rows.values_list("state", flat=True)) == {InboxState.APPLIED, InboxState.DUPLICATE}


# --- through the webhook: what each stored postback does to its message -------------------


def test_a_build_postback_marks_the_video_built(client, make_message, empty_campaign):
    campaign = empty_campaign
    campaign.channel = Channel.VIDEO
    campaign.save()
    message = make_message()
    built = (14, "RenderFarmSuccess", SUBMIT_AT)
    body = status_body(message.iliveit_id, "build", stages={"build": built}, message_type="mms")

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.BUILT
    assert (message.build_code, message.build_description) == (14, "RenderFarmSuccess")
    assert message.build_at == SUBMIT_AT
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_submit_postback_records_the_submit_stage(client, message):
    response = post(
        client, message, status_body(message.iliveit_id, "submit", stages={"submit": SUBMITTED})
    )

    assert response.status_code == 200
    assert response.content == b"OK"
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert (message.submit_code, message.submit_description, message.submit_at) == SUBMITTED
    assert message.sent_code is None
    assert events_of(message) == [("submit", 2, SUBMIT_AT)]


def test_an_archive_postback_records_the_archive_stage(client, message):
    archived = (4, "Archived", SENT_AT)
    body = status_body(
        message.iliveit_id, "archive", stages={"submit": SUBMITTED, "archive": archived}
    )

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert (message.archive_code, message.archive_description, message.archive_at) == archived
    assert events_of(message) == [("archive", 4, SENT_AT), ("submit", 2, SUBMIT_AT)]


def test_a_sent_postback_marks_the_message_sent(client, message):
    body = status_body(message.iliveit_id, "sent", stages={"submit": SUBMITTED, "sent": SENT})

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert (message.sent_code, message.sent_description, message.sent_at) == SENT


def test_a_delivery_postback_marks_the_message_delivered(client, message):
    response = post(client, message, delivery_body(message, network="mtn"))

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.delivered_code, message.delivered_description) == (1, "Delivered")
    assert message.delivered_at == DELIVERED_AT
    assert message.network == "mtn"
    assert len(events_of(message)) == 3
    assert set(message.events.values_list("source", flat=True)) == {EventSource.POSTBACK}


def test_a_failed_delivery_postback_fails_the_message(client, message):
    body = status_body(
        message.iliveit_id,
        "delivery",
        stages={"submit": SUBMITTED, "sent": SENT, "delivered": (5, "Expired", DELIVERED_AT)},
    )

    post(client, message, body)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert (message.delivered_code, message.delivered_description) == (5, "Expired")


def test_it_reads_go_client_key_case(client, message):
    body = go_case(delivery_body(message, network="cellc"))
    assert {"MessageID", "MSISDN", "Network", "PostbackType", "DeliveredStatus"} <= body.keys()

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.network == "cellc"
    assert (message.sent_code, message.sent_at) == (1, SENT_AT)
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_zero_timestamp_is_stored_as_no_time(client, message):
    body = status_body(
        message.iliveit_id,
        "delivery",
        stages={"delivered": (12, "Assumed Delivered", ZERO_TIMESTAMP)},
    )

    post(client, message, body)

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.delivered_code, message.delivered_at) == (12, None)


def test_the_same_postback_three_times_gives_one_event_per_stage(client, message):
    body = delivery_body(message)

    for _ in range(3):
        assert post(client, message, body).status_code == 200

    assert events_of(message) == [
        ("delivered", 1, DELIVERED_AT),
        ("sent", 1, SENT_AT),
        ("submit", 2, SUBMIT_AT),
    ]
    states = list(PostbackInbox.objects.order_by("id").values_list("state", flat=True))
    assert states == [InboxState.APPLIED, InboxState.DUPLICATE, InboxState.DUPLICATE]
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_delivery_before_its_submit_ends_delivered_with_both_stages(client, message):
    delivery = status_body(message.iliveit_id, "delivery", stages={"delivered": DELIVERED})
    submit = status_body(message.iliveit_id, "submit", stages={"submit": SUBMITTED})

    post(client, message, delivery)
    post(client, message, submit)

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.submit_code, message.submit_at) == (2, SUBMIT_AT)
    assert (message.delivered_code, message.delivered_at) == (1, DELIVERED_AT)
    assert list(PostbackInbox.objects.values_list("state", flat=True)) == [InboxState.APPLIED] * 2


def test_a_body_naming_another_message_is_kept_as_suspicious(client, make_message):
    message, other = make_message(), make_message()

    response = post(client, message, delivery_body(other))

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.SUSPICIOUS
    assert other.iliveit_id in row.reason
    for each in (message, other):
        each.refresh_from_db()
        assert each.state == MessageState.SUBMITTED
        assert each.delivered_code is None
    assert not MessageEvent.objects.exists()


def test_an_early_postback_waits_until_the_message_id_is_known(client, make_message):
    message = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    body = status_body("MSG-EARLY", "submit", stages={"submit": SUBMITTED})

    response = post(client, message, body)

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.WAITING
    assert row.processed_at is None
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTING
    assert message.iliveit_id is None
    assert not MessageEvent.objects.exists()

    # The submit task records the MessageID, then hands back what waited to the drains.
    message.iliveit_id = "MSG-EARLY"
    message.state = MessageState.SUBMITTED
    message.save()
    postbacks_release_waiting(message_ids=[message.pk])
    postbacks_drain()

    row.refresh_from_db()
    assert row.state == InboxState.APPLIED
    message.refresh_from_db()
    assert (message.submit_code, message.submit_at) == (2, SUBMIT_AT)
    assert events_of(message) == [("submit", 2, SUBMIT_AT)]


@pytest.mark.parametrize("state", [MessageState.QUEUED, MessageState.UNCERTAIN])
def test_a_queued_or_uncertain_message_adopts_the_message_id(client, make_message, state):
    message = make_message(state=state, iliveit_id=None)
    body = status_body("MSG-ADOPTED", "sent", stages={"submit": SUBMITTED, "sent": SENT})

    post(client, message, body)

    message.refresh_from_db()
    assert message.iliveit_id == "MSG-ADOPTED"
    assert message.state == MessageState.SENT
    assert message.submitted_at is not None
    assert only_inbox_row().state == InboxState.APPLIED


def test_it_does_not_adopt_a_message_id_another_message_has(client, make_message):
    other = make_message()
    message = make_message(state=MessageState.UNCERTAIN, iliveit_id=None)

    response = post(client, message, delivery_body(other))

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.SUSPICIOUS
    message.refresh_from_db()
    assert message.iliveit_id is None
    assert message.state == MessageState.UNCERTAIN


def deeply_nested() -> bytes:
    return b'{"message_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


MALFORMED = {
    "bad JSON": b'{"message_id": "MSG-0001", "postback_type": ',
    "not UTF-8": b'{"message_id": "\xff\xfe"}',
    "empty": b"",
    "a JSON array": b'[{"message_id": "MSG-0001"}]',
    "a JSON string": b'"delivered"',
    "no message_id": json.dumps({"postback_type": "delivery", "delivered_status": 1}).encode(),
    "a numeric message_id": json.dumps({"message_id": 1234, "postback_type": "submit"}).encode(),
    "a text status code": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": "ok"}
    ).encode(),
    "a boolean status code": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": True}
    ).encode(),
    "a bad timestamp": json.dumps(
        {
            "message_id": "MSG-0001",
            "postback_type": "sent",
            "sent_status": 1,
            "sent_timestamp": "yesterday",
        }
    ).encode(),
    "a numeric postback_type": json.dumps({"message_id": "MSG-0001", "postback_type": 5}).encode(),
    "a code too large to store": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": 70000}
    ).encode(),
    "nesting too deep to parse": deeply_nested(),
    "bare arrays nested too deep to parse": b"[" * 100_000 + b"]" * 100_000,
    "arrays nested deep but parseable": b"[" * 900 + b"]" * 900,
    "a NUL character in a description": json.dumps(
        {
            "message_id": "MSG-0001",
            "postback_type": "sent",
            "sent_status": 1,
            "sent_status_description": "Sent\u0000",
        }
    ).encode(),
    # Valid JSON, but no character: PostgreSQL refuses to store it (found by the fuzz test).
    "a lone surrogate in the network": b'{"message_id": "MSG-0001", "network": "\\ud800"}',
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_quarantined_and_answered_200(client, message, raw):
    assert message.iliveit_id == "MSG-0001"

    response = post(client, message, raw)

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.QUARANTINED
    assert row.reason
    assert row.processed_at is not None
    assert bytes(row.body) == raw
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert not MessageEvent.objects.exists()


def test_a_postback_of_an_unknown_type_is_applied_by_its_stages(client, message):
    # StatusResult's rule (tests/iliveit/test_types.py): a newer iLiveIt's type is
    # dropped, not refused, so its report still reaches the message.
    body = {"MessageID": message.iliveit_id, "PostbackType": "teleport", "SentStatus": 1}

    response = post(client, message, json.dumps(body).encode())

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.APPLIED
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_a_late_postback_is_counted_late(client, message):
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    body = status_body(
        message.iliveit_id, "delivery", stages={"delivered": (1, "Delivered", long_ago)}
    )

    post(client, message, body)

    [event] = message.events.all()
    assert 2 * 3600 - 60 <= event.late_by_s <= 2 * 3600 + 60


def test_a_message_id_too_long_to_store_is_quarantined(client, make_message):
    message = make_message(state=MessageState.UNCERTAIN, iliveit_id=None)
    body = status_body("M" * 200, "submit", stages={"submit": SUBMITTED})

    response = post(client, message, body)

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.QUARANTINED
    message.refresh_from_db()
    assert message.iliveit_id is None
    assert message.state == MessageState.UNCERTAIN


FUZZ_TYPES = ("build", "submit", "archive", "sent", "delivery")


FUZZ_VALID_BASE = datetime(2031, 1, 1, tzinfo=UTC)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "0", " 1 ", "-1", "1e3", "\u0000", "\ud800", "0" * 5000])
)


json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


fuzz_moments = st.one_of(
    st.datetimes(timezones=st.timezones() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            ZERO_TIMESTAMP,
            "0001-01-01T00:00:00+01:00",
            "0001-01-02T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "yesterday",
            "",
        ]
    ),
    json_values,
)


fuzz_codes = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 12, 13, 14, 18, 32767, 32768, -32769]),
    st.integers(),
    st.floats(),
    st.integers(-5, 40).map(str),
    json_values,
)


def fuzz_key(key: str, style: int) -> str:
    """One key in the spellings the Go client, the reference, and careless servers use."""
    camel = "".join(part.capitalize() for part in key.split("_"))
    return [key, key.upper(), camel, camel.lower(), key.replace("_", ""), key.title()][style]


# Values of the right JSON type with random content: these reach the merge and the database.
typed_moments = st.one_of(
    st.datetimes(timezones=st.timezones() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from([ZERO_TIMESTAMP, "0001-01-02T00:00:00Z", "9999-12-31T23:59:59Z", ""]),
)


typed_codes = st.sampled_from([1, 2, 3, 4, 5, 12, 13, 14, 18]) | st.integers(-40_000, 40_000)


@st.composite
def status_shaped(draw, message_id: str) -> bytes:
    """A StatusResult with random keys, case and values; when `sloppy`, of random JSON types."""
    sloppy = draw(st.booleans())
    text = (st.text(max_size=300) | json_values) if sloppy else st.text(max_size=300)
    codes = fuzz_codes if sloppy else typed_codes
    moments = fuzz_moments if sloppy else typed_moments
    document = {}
    document["message_id"] = draw(st.just(message_id) | (text if sloppy else st.just(message_id)))
    if draw(st.booleans()):
        document["postback_type"] = draw(st.sampled_from(FUZZ_TYPES) | json_values)
    for key in ("type", "network", "msisdn", "campaign"):
        if draw(st.booleans()):
            document[key] = draw(text)
    if sloppy:
        for key in ("mvno", "template", "date_received"):
            if draw(st.booleans()):
                document[key] = draw(json_values | fuzz_moments)
    for stage in STAGE_NAMES:
        if draw(st.booleans()):
            document[f"{stage}_status"] = draw(codes)
            document[f"{stage}_status_description"] = draw(text)
            document[f"{stage}_timestamp"] = draw(moments)
    spelled = {fuzz_key(key, draw(st.integers(0, 5))): value for key, value in document.items()}
    return json.dumps(spelled).encode()


@st.composite
def fuzz_body(draw, message_id: str) -> bytes:
    kind = draw(st.sampled_from(["json", "status", "status", "status", "bytes", "huge", "deep"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "status":
        return draw(status_shaped(message_id))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "huge":
        size = draw(st.sampled_from([10_000, views.MAX_BODY_BYTES - 100, views.MAX_BODY_BYTES + 1]))
        return json.dumps(
            {"message_id": message_id, "sent_status_description": "x" * size}
        ).encode()
    depth = draw(st.sampled_from([10, 900, 5_000, 200_000]))
    nested = b"[" * depth + b"]" * depth
    return b'{"message_id": "' + message_id.encode() + b'", "sent_status": ' + nested + b"}"


@given(data=st.data())
@fuzz_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz_no_body_breaks_the_webhook_or_hides_a_valid_postback(client, message, data):
    # 8 to 16 bodies an example, 200 examples: about 2,300 bodies a run (counted once).
    bodies = data.draw(st.lists(fuzz_body(message.iliveit_id), min_size=8, max_size=16))
    forged = data.draw(st.lists(st.booleans(), min_size=len(bodies), max_size=len(bodies)))
    n = PostbackInbox.objects.count()
    valid_at = FUZZ_VALID_BASE + timedelta(seconds=n)
    valid = status_body(message.iliveit_id, "delivery", stages={"delivered": (1, "OK", valid_at)})
    position = data.draw(st.integers(0, len(bodies)))
    stream = [(raw, bad) for raw, bad in zip(bodies, forged, strict=True)]
    stream.insert(position, (json.dumps(valid).encode(), False))
    before = PostbackInbox.objects.count()
    last_id = PostbackInbox.objects.order_by("-id").values_list("id", flat=True).first() or 0
    valid_row = None

    for raw, bad in stream:
        count = PostbackInbox.objects.count()
        response = post(client, message, raw, mac="0" * 32 if bad else None)
        assert response.status_code == (404 if bad else 200)
        assert PostbackInbox.objects.count() == count + (0 if bad else 1)
        if raw == json.dumps(valid).encode():
            valid_row = PostbackInbox.objects.latest("id")

    authenticated = sum(1 for _, bad in stream if not bad)
    assert PostbackInbox.objects.count() == before + authenticated
    # Each body was parsed and judged: none left pending by an exception in the apply.
    assert not PostbackInbox.objects.filter(id__gt=last_id, state=InboxState.PENDING).exists()
    valid_row.refresh_from_db()
    assert valid_row.state == InboxState.APPLIED
    assert message.events.filter(stage="delivered", code=1, stage_at=valid_at).exists()


@pytest.mark.parametrize("stage_at", ["0001-01-02T00:00:00Z", "1950-01-01T00:00:00Z"])
def test_a_stage_dated_decades_back_is_applied_not_left_pending(client, message, stage_at):
    # Found by the fuzz test: its lateness overflowed late_by_s, so on PostgreSQL the apply
    # failed and the row stayed pending, retried by every sweep.
    body = status_body(message.iliveit_id, "sent", stages={"sent": (1, "Sent", stage_at)})

    response = post(client, message, body)

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.APPLIED
    [event] = message.events.all()
    assert event.late_by_s > 60 * 365 * 24 * 3600
    message.refresh_from_db()
    assert message.state == MessageState.SENT
