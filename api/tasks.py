"""Celery tasks of the api app: thin wrappers around its services."""

from celery import shared_task
from django.conf import settings

from api.pruning import portal_prune


@shared_task(ignore_result=True)
def prune_old_data() -> dict:
    """Beat, hourly."""
    return portal_prune(retention_days=settings.RETENTION_DAYS)
