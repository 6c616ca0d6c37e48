"""Who drains the inbox, and when: drain slots held in Redis.

A slot's key is set while a drain is queued or running in it, so that a burst of postbacks
queues one drain, not one task each. Slot 0 is the webhook's; slots 1 to POSTBACK_DRAINS - 1
are for drains that a backlog calls to help. The applying itself is postbacks.drain's.
"""

import contextlib
import time
from collections.abc import Callable

import redis
from django.conf import settings

from iliveit_portal.redis_client import redis_client
from postbacks.drain import postbacks_drain, postbacks_pending

# A key expires in case the drain's worker is lost; the sweeper covers that gap.
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


def slot_take(slot: int) -> bool:
    return bool(redis_client().set(drain_key(slot), "1", nx=True, ex=DRAIN_KEY_TTL_S))


def drain_wanted() -> bool:
    """Whether the webhook should queue a drain (in slot 0, now taken) for its postback."""
    global _asked_at
    now = time.monotonic()
    if now - _asked_at < ASK_EVERY_S:
        return False
    _asked_at = now
    return slot_take(0)


def _helper_slot() -> int | None:
    # A full batch means a backlog: one more drain joins, up to POSTBACK_DRAINS at once.
    for slot in range(1, settings.POSTBACK_DRAINS):
        if slot_take(slot):
            return slot
    return None


def postbacks_drain_slot(*, slot: int, queue_drain: Callable[[int], object]) -> int:
    """Drain as the holder of `slot`, then give the slot up; answer how many rows failed
    (left for the sweeper). The first drain, slot 0, lingers for DRAIN_LINGER_S after its
    last row; `queue_drain(slot)` queues a helping drain in a slot taken for it."""
    try:
        return _drain(slot, queue_drain)
    except Exception:
        # Most likely the database went away. Let go of the slot, so that the next postback
        # the webhook stores asks for a drain again: held until it expired, it left every
        # postback of the next DRAIN_KEY_TTL_S to the sweeper.
        with contextlib.suppress(redis.RedisError):
            redis_client().delete(drain_key(slot))
        raise


def _drain(slot: int, queue_drain: Callable[[int], object]) -> int:
    def call_for_help() -> None:
        # A drain through a long backlog outlives its key's TTL: without this, its slot was
        # taken again and more drains ran than POSTBACK_DRAINS allows (101 queued in
        # bench/pipeline.py).
        redis_client().expire(drain_key(slot), DRAIN_KEY_TTL_S)
        helper = _helper_slot()
        if helper is not None:
            queue_drain(helper)

    failed: frozenset[int] = frozenset()
    while True:
        failed |= postbacks_drain(
            skip=failed, linger_s=DRAIN_LINGER_S if slot == 0 else 0.0, on_backlog=call_for_help
        )
        redis_client().delete(drain_key(slot))
        # A postback stored just before the key went found it still set and asked for
        # nothing: look once more, and carry on unless another drain is now queued.
        if slot or not postbacks_pending(skip=failed) or not slot_take(slot):
            return len(failed)
