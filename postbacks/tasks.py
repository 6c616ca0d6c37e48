"""Celery tasks of the postbacks app: thin wrappers around its services."""

import contextlib
import logging
import time

import redis
from celery import shared_task
from django.conf import settings

from messaging.ratelimit import redis_client
from postbacks.drain import BATCH, postbacks_drain_batch, postbacks_pending
from postbacks.reconcile import messages_reconcile

logger = logging.getLogger(__name__)

# A drain key is set while a drain is queued or running, so that a burst of postbacks queues
# one drain, not one task each. It expires in case the drain's worker is lost; the sweeper
# covers that gap.
DRAIN_KEY_TTL_S = 60
# A web process asks for a drain at most this often, which keeps Redis off the webhook's
# path for most postbacks. The first drain lingers for longer than that after the last row
# it took, so the postback of a request that did not ask is still seen by the drain of one
# that did.
ASK_EVERY_S = 0.5
DRAIN_LINGER_S = 1.0
_asked_at = float("-inf")


def drain_key(slot: int = 0) -> str:
    # One set per task queue: portals (or test runs) sharing a Redis do not share drains.
    return f"postbacks:drain:{settings.CELERY_TASK_DEFAULT_QUEUE}:{slot}"


def _take_slot(slot: int) -> bool:
    return bool(redis_client().set(drain_key(slot), "1", nx=True, ex=DRAIN_KEY_TTL_S))


def drain_request() -> None:
    """Ask a worker to apply the stored postbacks soon (called by the webhook, per postback)."""
    global _asked_at
    now = time.monotonic()
    if now - _asked_at < ASK_EVERY_S:
        return
    _asked_at = now
    if _take_slot(0):
        drain.delay(0)


def _call_for_help() -> None:
    # A full batch means a backlog: one more drain joins, up to POSTBACK_DRAINS at once.
    for slot in range(1, settings.POSTBACK_DRAINS):
        if _take_slot(slot):
            drain.delay(slot)
            return


@shared_task(ignore_result=True)
def drain(slot: int = 0) -> int:
    """Apply stored postbacks until none is left (the first drain, slot 0, lingers for
    DRAIN_LINGER_S more); answer how many failed (left for the sweeper)."""
    try:
        return _drain(slot)
    except Exception:
        # Most likely the database went away. Let go of the slot, so that the next postback
        # the webhook stores asks for a drain again: held until it expired, it left every
        # postback of the next DRAIN_KEY_TTL_S to the sweeper.
        with contextlib.suppress(redis.RedisError):
            redis_client().delete(drain_key(slot))
        raise


def _drain(slot: int) -> int:
    failed: frozenset[int] = frozenset()
    quiet_since = time.monotonic()
    while True:
        taken, failed_now = postbacks_drain_batch(skip=failed)
        failed |= failed_now
        if taken >= BATCH:
            _call_for_help()
        if taken:
            quiet_since = time.monotonic()
            continue
        if slot == 0 and time.monotonic() - quiet_since < DRAIN_LINGER_S:
            time.sleep(0.1)
            continue
        redis_client().delete(drain_key(slot))
        # A postback stored just before the key went found it still set and asked for
        # nothing: look once more, and carry on unless another drain is now queued.
        if slot or not postbacks_pending(skip=failed) or not _take_slot(slot):
            return len(failed)


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Poll the status of messages whose postbacks are overdue (beat, every
    RECONCILE_POLL_INTERVAL_S)."""
    return messages_reconcile(limit=settings.RECONCILE_POLL_LIMIT)
