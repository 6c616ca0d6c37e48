"""Forgetting per-message bodies older than RETENTION_DAYS (postbacks/retention.py runs the
whole prune). What a dashboard shows is kept: messages with their states, and each campaign's
own content."""

from messaging.models import Message
from messaging.states import UNFINISHED

# Rows deleted or blanked per statement, so that no prune holds long locks on busy tables.
BATCH = 2000


def message_bodies_prune(cutoff) -> int:
    # Served by the partial index on messages that have a body of their own.
    old = Message.objects.filter(body__isnull=False, created_at__lt=cutoff).exclude(
        state__in=UNFINISHED
    )
    pruned = 0
    while ids := list(old.order_by("id").values_list("id", flat=True)[:BATCH]):
        pruned += Message.objects.filter(id__in=ids).update(body=None)
    return pruned
