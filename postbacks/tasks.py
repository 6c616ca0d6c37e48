"""Celery tasks of the postbacks app: thin wrappers around its services."""

import logging
import time

from celery import shared_task
from django.conf import settings

from messaging.ratelimit import redis_client
from postbacks.drain import postbacks_drain, postbacks_pending
from postbacks.reconcile import messages_reconcile

logger = logging.getLogger(__name__)

# The drain key is set while a drain is queued or running, so that a burst of postbacks
# queues one drain, not one task each. It expires in case the drain's worker is lost; the
# sweeper covers that gap.
DRAIN_KEY_TTL_S = 60
# A web process asks for a drain at most this often, which keeps Redis off the webhook's
# path for most postbacks. A drain lingers for longer than that after the last row it saw,
# so the postback of a request that did not ask is still seen by the drain of one that did.
ASK_EVERY_S = 0.5
DRAIN_LINGER_S = 1.0
_asked_at = float("-inf")


def drain_key() -> str:
    # One per task queue: portals (or test runs) sharing a Redis do not share their drains.
    return f"postbacks:drain:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def drain_request() -> None:
    """Ask a worker to apply the stored postbacks soon (called by the webhook, per postback)."""
    global _asked_at
    now = time.monotonic()
    if now - _asked_at < ASK_EVERY_S:
        return
    _asked_at = now
    if redis_client().set(drain_key(), "1", nx=True, ex=DRAIN_KEY_TTL_S):
        drain.delay()


@shared_task(ignore_result=True)
def drain() -> int:
    """Apply the stored postbacks until none came for DRAIN_LINGER_S; answer how many failed
    (left for the sweeper)."""
    failed: frozenset[int] = frozenset()
    quiet_since = time.monotonic()
    while True:
        if postbacks_pending(skip=failed):
            failed |= postbacks_drain(skip=failed)
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since < DRAIN_LINGER_S:
            time.sleep(0.1)
        else:
            redis_client().delete(drain_key())
            # A postback stored just before the key went found it still set and asked for
            # nothing: look once more, and carry on unless another drain is now queued.
            if not postbacks_pending(skip=failed):
                return len(failed)
            if not redis_client().set(drain_key(), "1", nx=True, ex=DRAIN_KEY_TTL_S):
                return len(failed)


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Poll the status of messages whose postbacks are overdue (beat, every
    RECONCILE_POLL_INTERVAL_S)."""
    return messages_reconcile(limit=settings.RECONCILE_POLL_LIMIT)
