"""Applying stored postbacks after the webhook has answered.

The webhook only stores a postback and asks for a drain (postbacks.drain_slots); a worker then
applies the pending rows here, a batch per transaction. Batches claim their rows
with SKIP LOCKED, so several workers drain side by side. The sweeper runs the same code for
rows a lost drain left behind, and for postbacks that waited for a MessageID.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import models
from django.utils import timezone

from messaging.states import ADOPTS_ID
from postbacks.models import InboxKind, InboxState, PostbackInbox
from postbacks.replies import reply_apply
from postbacks.services import postback_apply, postbacks_apply, postbacks_apply_next

logger = logging.getLogger(__name__)

BATCH = 200


def _one_by_one(ids: list[int], apply: Callable[..., str]) -> set[int]:
    """Apply rows singly; answer the ids that raised (they stay as they were)."""
    failed = set()
    for pk in ids:
        try:
            apply(inbox_id=pk)
        except Exception:
            logger.exception("postback %s could not be applied", pk)
            failed.add(pk)
    return failed


def _pending(kind: str, skip) -> models.QuerySet:
    return (
        PostbackInbox.objects.filter(state=InboxState.PENDING, kind=kind)
        .exclude(pk__in=skip)
        .order_by("pk")
    )


def postbacks_drain_batch(
    *, skip: frozenset[int] = frozenset(), batch: int = BATCH
) -> tuple[int, set[int]]:
    """Apply the next batch of pending postbacks (status and reply) that no other worker holds
    and that are not in `skip`; answer how many rows were taken and the ids that failed."""
    try:
        taken = postbacks_apply_next(batch=batch, skip=skip)
        failed = set()
    except Exception:
        logger.exception("a batch of postbacks failed; applying them one by one")
        ids = list(_pending(InboxKind.STATUS, skip).values_list("pk", flat=True)[:batch])
        failed = _one_by_one(ids, postback_apply)
        taken = len(ids)
    # Replies are few; each is applied on its own.
    replies = list(_pending(InboxKind.REPLY, skip | failed).values_list("pk", flat=True)[:batch])
    failed |= _one_by_one(replies, reply_apply)
    return taken + len(replies), failed


def postbacks_drain(
    *,
    skip: frozenset[int] = frozenset(),
    batch: int = BATCH,
    linger_s: float = 0.0,
    on_backlog: Callable[[], object] | None = None,
) -> set[int]:
    """Apply pending postbacks, oldest first, until none is left that no other worker holds
    and none has come for `linger_s`; answer the ids that failed (logged, left pending for the
    sweeper, not retried here). `on_backlog` is called after each full batch."""
    failed = set(skip)
    quiet_since = time.monotonic()
    while True:
        taken, failed_now = postbacks_drain_batch(skip=frozenset(failed), batch=batch)
        failed |= failed_now
        if taken >= batch and on_backlog is not None:
            on_backlog()
        if taken:
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since < linger_s:
            time.sleep(0.1)
            continue
        return failed - skip


def postbacks_pending(*, skip: frozenset[int] = frozenset()) -> bool:
    return PostbackInbox.objects.filter(state=InboxState.PENDING).exclude(pk__in=skip).exists()


def postbacks_sweep(*, older_than_s: float = 10.0) -> dict[str, int]:
    """Apply stored postbacks that no drain applied (a lost drain or a crash after the 200)
    and those that waited for a message whose MessageID has since become known."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    pending = PostbackInbox.objects.filter(state=InboxState.PENDING, received_at__lt=cutoff)
    waiting = PostbackInbox.objects.filter(state=InboxState.WAITING, kind=InboxKind.STATUS).filter(
        models.Q(message__iliveit_id__isnull=False) | models.Q(message__state__in=ADOPTS_ID)
    )
    rows = [
        *pending.order_by("pk").values_list("pk", "kind")[:5000],
        *waiting.order_by("pk").values_list("pk", "kind")[:5000],
    ]
    statuses = [pk for pk, kind in rows if kind == InboxKind.STATUS]
    failed = set()
    for start in range(0, len(statuses), BATCH):
        chunk = statuses[start : start + BATCH]
        try:
            postbacks_apply(inbox_ids=chunk)
        except Exception:
            logger.exception("a batch of %d postbacks failed; applying them one by one", len(chunk))
            failed |= _one_by_one(chunk, postback_apply)
    failed |= _one_by_one([pk for pk, kind in rows if kind == InboxKind.REPLY], reply_apply)
    return {"postbacks_applied": len(rows) - len(failed)}
