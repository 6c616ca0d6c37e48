"""Applying stored postbacks after the webhook has answered.

The webhook only stores a postback and asks for a drain (postbacks.tasks.drain_request); a
worker then applies every pending row here, a batch per transaction. The sweeper runs the same
code for rows a lost drain left behind, and for postbacks that waited for a MessageID.
"""

import logging
from datetime import timedelta

from django.db import models
from django.utils import timezone

from postbacks.models import InboxKind, InboxState, PostbackInbox
from postbacks.replies import reply_apply
from postbacks.services import ADOPTS_ID, postback_apply, postbacks_apply

logger = logging.getLogger(__name__)

BATCH = 200


def _apply_rows(rows: list[tuple[int, str]]) -> set[int]:
    """Apply stored rows of either kind; answer the ids that raised (they stay as they were)."""
    failed = set()
    statuses = [pk for pk, kind in rows if kind == InboxKind.STATUS]
    try:
        postbacks_apply(inbox_ids=statuses)
    except Exception:
        logger.exception("a batch of %d postbacks failed; applying them one by one", len(statuses))
        for pk in statuses:
            try:
                postback_apply(inbox_id=pk)
            except Exception:
                logger.exception("postback %s could not be applied", pk)
                failed.add(pk)
    for pk in (pk for pk, kind in rows if kind == InboxKind.REPLY):
        try:
            reply_apply(inbox_id=pk)
        except Exception:
            logger.exception("reply postback %s could not be applied", pk)
            failed.add(pk)
    return failed


def _pending(skip: set[int]):
    return PostbackInbox.objects.filter(state=InboxState.PENDING).exclude(pk__in=skip)


def postbacks_drain(*, skip: frozenset[int] = frozenset(), batch: int = BATCH) -> set[int]:
    """Apply every pending postback but those in `skip`, oldest first, until none is left;
    answer the ids that failed (logged, left pending for the sweeper, not retried here)."""
    failed = set(skip)
    while rows := list(_pending(failed).order_by("pk").values_list("pk", "kind")[:batch]):
        failed |= _apply_rows(rows)
    return failed - skip


def postbacks_pending(*, skip: frozenset[int] = frozenset()) -> bool:
    return _pending(skip).exists()


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
    failed = set()
    for start in range(0, len(rows), BATCH):
        failed |= _apply_rows(rows[start : start + BATCH])
    return {"postbacks_applied": len(rows) - len(failed)}
