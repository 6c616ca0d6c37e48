"""Celery tasks of the postbacks app: thin wrappers around its services."""

from celery import shared_task
from django.conf import settings

from postbacks.reconcile import messages_reconcile


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Poll the status of messages whose postbacks are overdue (beat, every
    RECONCILE_POLL_INTERVAL_S)."""
    return messages_reconcile(limit=settings.RECONCILE_POLL_LIMIT)
