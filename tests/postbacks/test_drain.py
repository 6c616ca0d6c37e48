"""Applying stored postbacks after the answer: the worker's drain, and the sweeper."""

import base64
import json
import math
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iliveit_portal.redis_client import redis_client
from messaging.models import Message, MessageState
from postbacks import drain, drain_slots
from postbacks.drain import (
    BATCH,
    postbacks_drain,
    postbacks_drain_batch,
    postbacks_pending,
    postbacks_sweep,
)
from postbacks.drain_slots import DRAIN_KEY_TTL_S, drain_key, postbacks_drain_slot
from postbacks.models import InboxState, MessageEvent
from postbacks.services import STATUS_FIELDS, postback_apply
from postbacks.tasks import drain as drain_task
from postbacks.tasks import drain_request
from tests.postbacks.bodies import status_body
from tests.postbacks.webhook import DELIVERED, delivery, only_inbox_row, post, state_of, store
from tests.support.queries import insert_batches

pytestmark = pytest.mark.django_db


# --- the drain ------------------------------------------------------------------------------


def test_the_drain_applies_every_pending_postback(make_message):
    messages = [make_message() for _ in range(5)]
    rows = [store(message, delivery(message.iliveit_id)) for message in messages * 3]

    assert postbacks_drain() == set()

    assert {state_of(row) for row in rows[:5]} == {InboxState.APPLIED}
    assert {state_of(row) for row in rows[5:]} == {InboxState.DUPLICATE}
    assert not postbacks_pending()
    for message in messages:
        message.refresh_from_db()
        assert message.state == MessageState.DELIVERED


def test_the_drain_takes_rows_in_batches(make_message):
    messages = [make_message() for _ in range(7)]
    rows = [store(message, delivery(message.iliveit_id)) for message in messages]

    postbacks_drain(batch=3)

    assert {state_of(row) for row in rows} == {InboxState.APPLIED}


def _batch_queries(make_message, count: int) -> tuple[int, int]:
    """The queries a drain batch of `count` delivery postbacks makes, and how many of them are
    only its statements split to fit SQLite's limit on parameters (none on PostgreSQL)."""
    messages = [make_message() for _ in range(count)]
    for message in messages:
        store(message, delivery(message.iliveit_id))
    events_before = MessageEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        postbacks_drain_batch()
    events = MessageEvent.objects.count() - events_before
    assert Message.objects.filter(state=MessageState.DELIVERED).count() >= count
    updated = [Message._meta.get_field(name) for name in ("id", *STATUS_FIELDS, "updated_at")]
    splits = insert_batches(MessageEvent, events, batch=events) - 1
    splits += math.ceil(count / connection.ops.bulk_batch_size(updated, messages)) - 1
    return len(queries), splits


def test_a_batch_costs_the_same_queries_for_fifty_postbacks_as_for_two(make_message):
    # A query per row (a column left unloaded, say) would make the drain fall behind iLiveIt.
    few, few_splits = _batch_queries(make_message, 2)
    many, many_splits = _batch_queries(make_message, 50)
    assert many - many_splits == few - few_splits


def test_the_drain_leaves_an_early_postback_waiting(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    row = store(early, delivery("MSG-EARLY"))

    postbacks_drain()

    assert state_of(row) == InboxState.WAITING
    assert not postbacks_pending()


def test_the_drain_skips_a_row_that_fails_and_leaves_it_pending(message, make_message, monkeypatch):
    broken = store(message, delivery(message.iliveit_id))
    other = make_message()
    fine = store(other, delivery(other.iliveit_id))
    real_apply = drain.postback_apply

    def batch(**kwargs):
        raise RuntimeError("database hiccup")

    def apply(*, inbox_id):
        if inbox_id == broken.pk:
            raise RuntimeError("database hiccup")
        return real_apply(inbox_id=inbox_id)

    monkeypatch.setattr(drain, "postbacks_apply_next", batch)
    monkeypatch.setattr(drain, "postback_apply", apply)

    assert postbacks_drain() == {broken.pk}

    assert state_of(broken) == InboxState.PENDING
    assert state_of(fine) == InboxState.APPLIED
    assert postbacks_pending()
    assert not postbacks_pending(skip=frozenset({broken.pk}))


@pytest.fixture
def drain_queue(monkeypatch):
    """The Celery queue drains are sent to, empty, with no drain asked for yet."""
    monkeypatch.setattr(drain_slots, "_asked_at", float("-inf"))
    client = redis_client()
    keys = [drain_key(slot) for slot in range(settings.POSTBACK_DRAINS)]
    client.delete(*keys, settings.CELERY_POSTBACKS_QUEUE)
    yield settings.CELERY_POSTBACKS_QUEUE
    client.delete(*keys, settings.CELERY_POSTBACKS_QUEUE)


def queued_drains(queue: str) -> list:
    """The slot argument of each drain task waiting in the queue."""
    bodies = [json.loads(raw) for raw in redis_client().lrange(queue, 0, -1)]
    return [json.loads(base64.b64decode(body["body"]))[0] for body in bodies]


def test_a_burst_of_postbacks_queues_one_drain(drain_queue):
    for _ in range(5):
        drain_request()

    assert redis_client().llen(drain_queue) == 1
    assert 0 < redis_client().ttl(drain_key()) <= DRAIN_KEY_TTL_S


def test_a_process_asks_redis_again_only_after_a_pause(drain_queue, monkeypatch):
    drain_request()
    redis_client().delete(drain_key())  # that drain has finished
    drain_request()
    assert redis_client().llen(drain_queue) == 1

    monkeypatch.setattr(drain_slots, "_asked_at", drain_slots._asked_at - drain_slots.ASK_EVERY_S)
    drain_request()

    assert redis_client().llen(drain_queue) == 2


def test_the_drain_task_applies_and_lets_the_next_burst_queue_a_drain(message, drain_queue):
    row = store(message, delivery(message.iliveit_id))
    redis_client().set(drain_key(), "1")

    assert drain_task(0) == 0

    assert state_of(row) == InboxState.APPLIED
    assert not redis_client().exists(drain_key())


def test_a_backlog_calls_one_more_drain_to_help(message, drain_queue):
    body = delivery(message.iliveit_id)
    rows = [store(message, body) for _ in range(BATCH + 1)]
    redis_client().set(drain_key(0), "1")

    drain_task(0)

    assert {state_of(row) for row in rows[1:]} == {InboxState.DUPLICATE}
    assert queued_drains(drain_queue) == [[1]]
    assert redis_client().exists(drain_key(1))


def test_a_drain_through_a_backlog_keeps_its_slot_past_the_keys_ttl(message, drain_queue):
    body = delivery(message.iliveit_id)
    for _ in range(BATCH + 1):
        store(message, body)
    # Held for nearly its TTL when the backlog's full batch is taken.
    redis_client().set(drain_key(0), "1", ex=1)
    ttls = []

    def queue_drain(slot: int) -> None:
        ttls.append(redis_client().ttl(drain_key(0)))

    postbacks_drain_slot(slot=0, queue_drain=queue_drain)

    assert ttls and ttls[0] > 1


def test_a_helping_drain_stops_as_soon_as_the_inbox_is_empty(message, drain_queue):
    redis_client().set(drain_key(1), "1")
    started = time.monotonic()

    drain_task(1)

    assert time.monotonic() - started < drain_slots.DRAIN_LINGER_S
    assert not redis_client().exists(drain_key(1))


def test_a_drain_that_fails_gives_up_its_slot(drain_queue, monkeypatch):
    # The database went away mid-drain: the next postback stored must ask for a new drain,
    # not wait DRAIN_KEY_TTL_S for the key to expire.
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(drain_slots, "postbacks_drain", broken)
    redis_client().set(drain_key(), "1")

    with pytest.raises(RuntimeError):
        drain_task(0)

    assert not redis_client().exists(drain_key())
    drain_request()
    assert queued_drains(drain_queue) == [[0]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SKIP LOCKED needs PostgreSQL's row locks; SQLite serialises the whole database",
)
def test_two_drains_side_by_side_take_different_rows(make_message):
    messages = [make_message() for _ in range(40)]
    rows = [store(message, delivery(message.iliveit_id)) for message in messages * 5]
    taken: list[int] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            while True:
                n, failed = postbacks_drain_batch(batch=20)
                assert failed == set()
                if not n and not postbacks_pending():
                    return
                taken.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(taken) == len(rows)
    assert {state_of(row) for row in rows[:40]} == {InboxState.APPLIED}
    assert {state_of(row) for row in rows[40:]} == {InboxState.DUPLICATE}
    assert MessageEvent.objects.count() == 40 * 3
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.DELIVERED}


@pytest.mark.django_db(transaction=True)
def test_the_drain_lingers_for_a_postback_whose_request_did_not_ask(make_message, drain_queue):
    first, second = make_message(), make_message()
    early = store(first, delivery(first.iliveit_id))
    redis_client().set(drain_key(), "1")
    finished = threading.Event()

    def run_drain() -> None:
        try:
            drain_task()
        finally:
            connection.close()
            finished.set()

    threading.Thread(target=run_drain).start()
    time.sleep(drain_slots.ASK_EVERY_S / 2)
    # Stored by a web process that asked for a drain a moment ago, so it asks for none now.
    late = store(second, delivery(second.iliveit_id))
    assert finished.wait(timeout=10)

    assert state_of(early) == state_of(late) == InboxState.APPLIED


# --- the sweeper --------------------------------------------------------------------------


def test_the_sweeper_reruns_a_pending_row(message):
    # Stored and answered, then the process died before applying it.
    row = store(message, delivery(message.iliveit_id), age_s=60)

    assert postbacks_sweep() == {"postbacks_applied": 1}

    assert state_of(row) == InboxState.APPLIED
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_the_sweeper_leaves_a_row_the_view_may_still_be_applying(message):
    row = store(message, delivery(message.iliveit_id))

    assert postbacks_sweep(older_than_s=10) == {"postbacks_applied": 0}

    assert state_of(row) == InboxState.PENDING


def test_the_sweeper_applies_a_waiting_row_once_the_id_is_known(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    row = store(early, delivery("MSG-EARLY"))
    postback_apply(inbox_id=row.pk)
    postbacks_sweep()
    assert state_of(row) == InboxState.WAITING

    Message.objects.filter(pk=early.pk).update(iliveit_id="MSG-EARLY", state=MessageState.SUBMITTED)
    postbacks_sweep()

    assert state_of(row) == InboxState.APPLIED


def test_the_sweeper_lets_an_uncertain_message_adopt_its_id(make_message):
    early = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    row = store(early, delivery("MSG-EARLY"))
    postback_apply(inbox_id=row.pk)

    # The worker died mid-call; messages_sweep marks the message uncertain.
    Message.objects.filter(pk=early.pk).update(state=MessageState.UNCERTAIN)
    postbacks_sweep()

    assert state_of(row) == InboxState.APPLIED
    early.refresh_from_db()
    assert early.iliveit_id == "MSG-EARLY"
    assert early.state == MessageState.DELIVERED


def test_the_sweeper_carries_on_past_a_row_that_fails(message, make_message, monkeypatch):
    broken = store(message, delivery(message.iliveit_id), age_s=60)
    other = make_message()
    fine = store(other, delivery(other.iliveit_id), age_s=60)
    real_apply = drain.postback_apply

    def apply(*, inbox_id):
        if inbox_id == broken.pk:
            raise RuntimeError("database hiccup")
        return real_apply(inbox_id=inbox_id)

    def batch(*, inbox_ids):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(drain, "postbacks_apply", batch)
    monkeypatch.setattr(drain, "postback_apply", apply)

    postbacks_sweep()

    assert state_of(broken) == InboxState.PENDING
    assert state_of(fine) == InboxState.APPLIED


# --- through the webhook ------------------------------------------------------------------


def test_a_waiting_postback_is_applied_by_the_sweeper(client, make_message):
    message = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    post(client, message, status_body("MSG-SWEPT", "delivery", stages={"delivered": DELIVERED}))
    assert postbacks_sweep()["postbacks_applied"] == 0

    message.iliveit_id = "MSG-SWEPT"
    message.state = MessageState.SUBMITTED
    message.save()
    postbacks_sweep()

    assert only_inbox_row().state == InboxState.APPLIED
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
