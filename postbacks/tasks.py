"""Celery tasks of the postbacks app: thin wrappers around its services."""

from celery import shared_task
from django.conf import settings

from postbacks.drain_slots import drain_wanted, postbacks_drain_slot
from postbacks.reconcile import messages_reconcile
from postbacks.sweep import portal_sweep


def drain_request() -> None:
    """Ask a worker to apply the stored postbacks soon (called by the webhook, per postback)."""
    if drain_wanted():
        drain.delay(0)


@shared_task(ignore_result=True)
def drain(slot: int = 0) -> int:
    """Apply stored postbacks until none is left; answer how many failed (left for the
    sweeper)."""
    return postbacks_drain_slot(slot=slot, queue_drain=drain.delay)


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Poll the status of messages whose postbacks are overdue (beat, every
    RECONCILE_POLL_INTERVAL_S)."""
    return messages_reconcile(limit=settings.RECONCILE_POLL_LIMIT)


@shared_task(ignore_result=True)
def sweep() -> dict:
    """Apply the postbacks and hand back the queued messages that no worker picked up (beat,
    every SWEEP_INTERVAL_S)."""
    return portal_sweep()
