"""The postback services: store, apply (idempotent, in batches), and status_apply for polls."""

import json
import random
import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from messaging.iliveit import StatusResult
from messaging.iliveit.types import ZERO_TIMESTAMP
from messaging.models import Message, MessageState
from postbacks.drain import postbacks_drain
from postbacks.models import EventSource, InboxKind, InboxState, MessageEvent, PostbackInbox
from postbacks.services import (
    postback_apply,
    postback_store,
    postbacks_apply_waiting,
    status_apply,
)
from postbacks.signing import sign
from tests.postbacks.bodies import status_body

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
SUBMITTED = (2, "Submitted", NOW - timedelta(minutes=3))
SENT = (1, "Sent", NOW - timedelta(minutes=2))
DELIVERED = (1, "Delivered", NOW - timedelta(minutes=1))


def delivery(message_id: str, **stages) -> dict:
    stages = stages or {"submit": SUBMITTED, "sent": SENT, "delivered": DELIVERED}
    return status_body(message_id, "delivery", stages=stages)


def store(message, body, *, age_s: float = 0.0) -> PostbackInbox:
    row = postback_store(
        message=message,
        kind=InboxKind.STATUS,
        body=json.dumps(body).encode(),
        truncated=False,
        headers={"Content-Type": "application/json"},
        source_ip="198.51.100.7",
    )
    if age_s:
        received = timezone.now() - timedelta(seconds=age_s)
        PostbackInbox.objects.filter(pk=row.pk).update(received_at=received)
    return row


def state_of(row: PostbackInbox) -> str:
    row.refresh_from_db()
    return row.state


def apply_locked(message: Message, result: StatusResult, source: str) -> bool:
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
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


def test_apply_waiting_applies_only_that_messages_waiting_rows(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    other = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    mine = store(early, delivery("MSG-EARLY"))
    theirs = store(other, delivery("MSG-OTHER"))
    postback_apply(inbox_id=mine.pk)
    postback_apply(inbox_id=theirs.pk)
    assert state_of(mine) == state_of(theirs) == InboxState.WAITING

    Message.objects.filter(pk=early.pk).update(iliveit_id="MSG-EARLY", state=MessageState.SUBMITTED)
    postbacks_apply_waiting(message_ids=[early.pk])

    assert state_of(mine) == InboxState.APPLIED
    assert state_of(theirs) == InboxState.WAITING
    early.refresh_from_db()
    assert early.state == MessageState.DELIVERED


def test_apply_waiting_leaves_the_row_waiting_while_the_id_is_unknown(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    row = store(early, delivery("MSG-EARLY"))
    postback_apply(inbox_id=row.pk)

    postbacks_apply_waiting(message_ids=[early.pk])

    assert state_of(row) == InboxState.WAITING
    row.refresh_from_db()
    assert row.processed_at is None


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
