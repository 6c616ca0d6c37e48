"""Reconciliation by polling: ask iLiveIt for the status of messages whose postbacks are overdue.

iLiveIt promises each postback within an hour of the change it reports. A message that has an
iLiveIt MessageID, is not final, and has shown no progress for longer than that is polled with
GET message/{id}/status, and the answer goes through the same merge as a postback
(status_apply), so polling and postbacks can never disagree or move a message backwards.
"""

import logging
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from iliveit import ILiveItError, RateLimited
from messaging.clients import application_client
from messaging.models import Campaign, Message
from messaging.ratelimit import limiter_for
from messaging.states import AWAITING_REPORT, FINAL
from postbacks.models import EventSource, MessageEvent
from postbacks.services import status_apply

logger = logging.getLogger(__name__)

# How long a poll waits for its application's rate-limit token: a little over one token's
# refill at 1 message a second. Submissions share the bucket; when it stays dry longer the
# application's polls are left for the next round.
TOKEN_MAX_WAIT_S = 1.5


def overdue_messages(*, now=None):
    """Messages with a MessageID, not final, untouched for RECONCILE_POLL_AFTER_S: oldest first.

    Served by the partial index `message_awaiting_report` on (updated_at).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RECONCILE_POLL_AFTER_S)
    return Message.objects.filter(
        iliveit_id__isnull=False,
        state__in=AWAITING_REPORT,
        updated_at__lt=cutoff,
    ).order_by("updated_at", "id")


def _touch(message_id: int) -> None:
    # Polled (or skipped for an error) but no news: it waits another RECONCILE_POLL_AFTER_S
    # instead of being polled every round and holding the head of the queue.
    Message.objects.filter(pk=message_id).update(updated_at=timezone.now())


def _apply(message_id: int, iliveit_id: str, result) -> bool:
    """Merge one polled StatusResult under the message's row lock; answer whether it was news."""
    with transaction.atomic():
        message = Message.objects.filter(pk=message_id).locked().first()
        if message is None or message.state in FINAL or message.iliveit_id != iliveit_id:
            return False  # settled (or changed) by a postback while we asked
        if result.message_id != iliveit_id:
            logger.warning(
                "status poll for message %s answered for MessageID %r; ignored",
                message_id,
                result.message_id,
            )
            _touch(message_id)
            return False
        # status_apply saves with updated_at, so a poll without news touches the row too.
        return status_apply(message=message, result=result, source=EventSource.POLL)


def messages_reconcile(*, limit: int = 500, budget_s: float | None = None) -> dict[str, int]:
    """Poll the status of up to `limit` overdue messages, within each application's rate limit.

    An application whose bucket is dry, or that iLiveIt answers 429, is done for this round;
    other applications carry on. A message the API will not answer for (another application's,
    unknown, a malformed answer) is logged, touched and skipped. The round ends after
    `budget_s` (default RECONCILE_POLL_INTERVAL_S), so that rounds never overlap.
    """
    counts = {"polled": 0, "changed": 0, "skipped": 0, "rate_limited": 0}
    budget_s = settings.RECONCILE_POLL_INTERVAL_S if budget_s is None else budget_s
    deadline = time.monotonic() + budget_s
    overdue = overdue_messages().select_related("campaign__application")[:limit]
    done_apps: set[int] = set()
    for message in overdue:
        application = message.campaign.application if message.campaign else None
        if application is None:
            counts["skipped"] += 1
            continue
        if application.pk in done_apps:
            continue
        if time.monotonic() > deadline:
            break
        limiter = limiter_for(application.pk, application.rate_limit)
        try:
            has_token = limiter.take(max_wait=TOKEN_MAX_WAIT_S)
        except redis.RedisError as error:
            logger.warning("reconcile stopped: rate limiter unavailable: %s", error)
            break
        if not has_token:
            done_apps.add(application.pk)
            counts["rate_limited"] += 1
            continue
        try:
            result = application_client(application).status(message.iliveit_id)
        except RateLimited:
            done_apps.add(application.pk)
            counts["rate_limited"] += 1
            continue
        except ILiveItError as error:
            logger.warning(
                "status poll for message %s (%s) failed: %s", message.pk, message.iliveit_id, error
            )
            _touch(message.pk)
            counts["skipped"] += 1
            continue
        counts["polled"] += 1
        if _apply(message.pk, message.iliveit_id, result):
            counts["changed"] += 1
    return counts


def late_postbacks_count(*, campaign: Campaign) -> int:
    """How many of a campaign's status changes came by postback later than the promised hour."""
    return MessageEvent.objects.filter(
        message__campaign=campaign, source=EventSource.POSTBACK, late_by_s__gt=0
    ).count()
