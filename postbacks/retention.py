"""Forgetting what is no longer needed: raw postbacks, per-message bodies and replies older
than RETENTION_DAYS. What a dashboard shows is kept: messages with their states, events and
counters, and each campaign's own content (what staff composed, not what a recipient wrote).
It lives in postbacks, the layer that sees both apps' tables."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from messaging.retention import BATCH, message_bodies_prune
from postbacks.models import InboxState, PostbackInbox, Reply

# Inbox rows that are finished with. Pending and waiting rows are never pruned, however old:
# they are postbacks not yet applied.
_INBOX_DONE = (
    InboxState.APPLIED,
    InboxState.DUPLICATE,
    InboxState.QUARANTINED,
    InboxState.SUSPICIOUS,
)


def retention_prune(*, days: int, now=None) -> dict[str, int]:
    """Prune everything older than `days` days; answer how many rows of each kind."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return {
        "inbox_rows": _prune_inbox(cutoff),
        "message_bodies": message_bodies_prune(cutoff),
        "replies": _prune_replies(cutoff),
    }


def _prune_inbox(cutoff) -> int:
    # Ids follow arrival, so the old rows are the ids below the first recent one; finding it
    # walks the primary key from the oldest row left, without an index on received_at (which
    # the webhook would pay for on every insert).
    first_recent = (
        PostbackInbox.objects.filter(received_at__gte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    old = PostbackInbox.objects.filter(state__in=_INBOX_DONE, received_at__lt=cutoff)
    if first_recent is not None:
        old = old.filter(id__lt=first_recent)
    pruned = 0
    while ids := list(old.order_by("id").values_list("id", flat=True)[:BATCH]):
        pruned += PostbackInbox.objects.filter(id__in=ids).delete()[0]
    return pruned


def _prune_replies(cutoff) -> int:
    old = Reply.objects.filter(received_at__lt=cutoff).exclude(text="", subject="", raw_email="")
    pruned = 0
    while batch := list(old.order_by("id")[:BATCH]):
        with transaction.atomic():
            Reply.objects.filter(id__in=[reply.pk for reply in batch]).update(
                text="", subject="", raw_email=""
            )
            files = [reply.raw_email for reply in batch if reply.raw_email]
            # The files go only once the rows no longer name them.
            transaction.on_commit(lambda files=files: [file.delete(save=False) for file in files])
        pruned += len(batch)
    return pruned
