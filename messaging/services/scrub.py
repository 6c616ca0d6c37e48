"""Checking an MMS or video campaign's handsets before launch with iLiveIt's `scrub`.

Each draft recipient's number is scrubbed once, taking a token from the application's shared
rate-limit bucket first (messaging/ratelimit.py, the one the sender uses), so that a check and
a launch together stay under the application's limit. Short lists are checked while the page
waits; longer ones by a Celery task, which can stop and start again: it only asks about
recipients that have no HandsetCheck yet.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from iliveit import (
    APIUnavailable,
    AuthFailed,
    EndpointRefused,
    ILiveItError,
    RateLimited,
    ScrubResult,
)
from messaging.clients import application_client
from messaging.hints import hint_scrub_campaign
from messaging.models import Campaign, CampaignScrub, Channel, HandsetCheck, Message, MessageState
from messaging.ratelimit import limiter_for
from messaging.services.errors import CampaignError, lock_campaign
from messaging.states import EDITABLE_STATES

logger = logging.getLogger(__name__)

SCRUB_CHANNELS = (Channel.MMS, Channel.VIDEO)
# Up to this many recipients are checked while the page waits (a few seconds at the usual
# rate limits); more go to a worker.
INLINE_MAX = 25
# A check that has said nothing for this long lost its worker (or its hint): it may start again.
STALE_AFTER = timedelta(minutes=10)
# Rows written per batch, and how often the task looks whether it should stop.
BATCH = 50
# Answers that are worth asking again a little later: 429s and the API's 5xx or timeouts.
MAX_TRIES = 5


def _drafts(campaign_id: int):
    return Message.objects.filter(campaign_id=campaign_id, is_test=False, state=MessageState.DRAFT)


def campaign_scrub_start(*, campaign: Campaign, user) -> CampaignScrub:
    """Start checking the campaign's draft recipients afresh; answer the check's row (done
    already when the list was short enough to check at once)."""
    if campaign.channel not in SCRUB_CHANNELS:
        raise CampaignError("Only MMS and video campaigns are checked for MMS handsets.")
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state not in EDITABLE_STATES:
            raise CampaignError(
                f"A {campaign.get_state_display().lower()} campaign's recipients are no longer "
                "checked: the check is for before launch."
            )
        total = _drafts(campaign.pk).count()
        if not total:
            raise CampaignError("The campaign has no recipients to check yet.")
        scrub = CampaignScrub.objects.filter(campaign=campaign).first()
        if scrub and scrub.state == CampaignScrub.State.RUNNING and not _stale(scrub):
            raise CampaignError("The handsets are being checked already.")
        HandsetCheck.objects.filter(campaign=campaign).delete()
        scrub, _ = CampaignScrub.objects.update_or_create(
            campaign=campaign,
            defaults={
                "state": CampaignScrub.State.RUNNING,
                "total": total,
                "error": "",
                "started_by": user if getattr(user, "is_authenticated", False) else None,
                "started_at": timezone.now(),
                "finished_at": None,
            },
        )
        inline = total <= _inline_max(campaign.application.rate_limit)
        if not inline:
            hint_scrub_campaign(campaign.pk)
    if inline:
        scrub = campaign_scrub_run(campaign_id=campaign.pk)
    return scrub


def _inline_max(rate_limit: int) -> int:
    # What the bucket lets through in about three seconds, and never more than INLINE_MAX: a
    # page should not wait longer than that.
    return max(1, min(INLINE_MAX, rate_limit * 3))


def campaign_scrub_abandon(*, campaign: Campaign, reason: str) -> None:
    """Mark a running check stopped (its task never reached a worker), so that it can be
    started again at once rather than once it looks stale."""
    CampaignScrub.objects.filter(campaign=campaign, state=CampaignScrub.State.RUNNING).update(
        state=CampaignScrub.State.FAILED, error=reason[:255], finished_at=timezone.now()
    )


def _stale(scrub: CampaignScrub) -> bool:
    latest = (
        HandsetCheck.objects.filter(campaign_id=scrub.campaign_id)
        .order_by("-checked_at")
        .values_list("checked_at", flat=True)
        .first()
    )
    return (latest or scrub.started_at) < timezone.now() - STALE_AFTER


class _Stop(Exception):
    """The whole check cannot go on (the token refused, the endpoint refused)."""


def campaign_scrub_run(*, campaign_id: int) -> CampaignScrub:
    """Check every draft recipient that has no answer yet; safe to run twice."""
    scrub = CampaignScrub.objects.select_related("campaign__application").get(
        campaign_id=campaign_id
    )
    if scrub.state != CampaignScrub.State.RUNNING:
        return scrub
    application = scrub.campaign.application
    limiter = limiter_for(application.pk, application.rate_limit)
    try:
        client = application_client(application)
        while _still_running(scrub):
            pending = list(
                _drafts(campaign_id)
                .filter(handset__isnull=True)
                .order_by("id")
                .values_list("id", "recipient")[:BATCH]
            )
            if not pending:
                break
            checks = [
                _check(client, limiter, campaign_id, message_id, recipient)
                for message_id, recipient in pending
            ]
            # A rerun (acks_late) or a second worker may have written some meanwhile.
            HandsetCheck.objects.bulk_create(checks, ignore_conflicts=True)
    except _Stop as error:
        return _finish(scrub, CampaignScrub.State.FAILED, str(error))
    return _finish(scrub, CampaignScrub.State.DONE, "")


def _still_running(scrub: CampaignScrub) -> bool:
    # Launched, or started afresh by someone else: this run's answers are no longer wanted.
    row = (
        CampaignScrub.objects.filter(pk=scrub.pk)
        .values_list("state", "started_at", "campaign__state")
        .first()
    )
    return bool(
        row
        and row[0] == CampaignScrub.State.RUNNING
        and row[1] == scrub.started_at
        and row[2] in EDITABLE_STATES
    )


def _finish(scrub: CampaignScrub, state: str, error: str) -> CampaignScrub:
    CampaignScrub.objects.filter(
        pk=scrub.pk, state=CampaignScrub.State.RUNNING, started_at=scrub.started_at
    ).update(state=state, error=error[:255], finished_at=timezone.now())
    scrub.refresh_from_db()
    return scrub


def _check(client, limiter, campaign_id: int, message_id: int, recipient: str) -> HandsetCheck:
    row = HandsetCheck(message_id=message_id, campaign_id=campaign_id)
    for attempt in range(1, MAX_TRIES + 1):
        try:
            while not limiter.take(max_wait=5.0):
                pass  # the bucket is shared with sending: wait for our turn, however long
        except redis.RedisError as error:
            # Without the bucket the check could crowd out sending: stop rather than guess.
            raise _Stop(f"the rate limiter (Redis) cannot be reached: {error}") from None
        try:
            return _answered(row, client.scrub(recipient))
        except (AuthFailed, EndpointRefused) as error:
            raise _Stop(f"iLiveIt refused the application: {error}") from None
        except RateLimited as error:
            limiter.rate_limited()
            time.sleep(error.retry_after or min(2.0, 0.2 * attempt))
            last: ILiveItError = error
        except APIUnavailable as error:
            time.sleep(min(2.0, 0.2 * attempt))
            last = error
        except ILiveItError as error:
            # This number alone: a 400 for it, say. Recorded, and the check goes on.
            last = error
            break
    row.checked = False
    row.error = f"Not checked: {last}"[:255]
    return row


def _answered(row: HandsetCheck, result: ScrubResult) -> HandsetCheck:
    row.allow_send = result.allow_send
    row.is_mms_capable = result.is_mms_capable
    row.is_mms_provisioned = result.is_mms_provisioned
    row.network = result.network[:64]
    row.handset = f"{result.handset_make} {result.handset_model}".strip()[:200]
    row.error_code = result.error_code
    row.error = result.error[:255]
    return row


@dataclass(frozen=True)
class ScrubSummary:
    state: str
    state_label: str
    total: int
    answered: int  # recipients with a HandsetCheck
    no_mms: int  # checked, and iLiveIt would not send them MMS: what the drop removes
    not_capable: int
    not_provisioned: int
    unknown: int  # iLiveIt could not say (its scrub failed for the number)
    not_checked: int  # the scrub call itself failed
    unasked: int  # draft recipients without an answer: added since, or still to check
    error: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.state == CampaignScrub.State.RUNNING


def campaign_scrub_summary(*, campaign: Campaign) -> ScrubSummary | None:
    """What the latest check found, counted over the campaign's HandsetCheck rows (an index
    of their own); None before the first check."""
    scrub = CampaignScrub.objects.filter(campaign=campaign).first()
    if scrub is None:
        return None
    refused = Q(checked=True, allow_send=False)
    counts = HandsetCheck.objects.filter(campaign=campaign).aggregate(
        answered=Count("id"),
        no_mms=Count("id", filter=refused),
        not_capable=Count("id", filter=refused & Q(is_mms_capable=False, error_code=0)),
        not_provisioned=Count(
            "id", filter=refused & Q(is_mms_capable=True, is_mms_provisioned=False)
        ),
        unknown=Count("id", filter=refused & ~Q(error_code=0)),
        not_checked=Count("id", filter=Q(checked=False)),
    )
    # Answers go with their messages, so drafts with none are those added since (or, while
    # it runs, those still to check).
    unasked = _drafts(campaign.pk).count() - counts["answered"]
    return ScrubSummary(
        unasked=max(0, unasked),
        state=scrub.state,
        state_label=scrub.get_state_display(),
        total=scrub.total,
        error=scrub.error,
        started_at=scrub.started_at,
        finished_at=scrub.finished_at,
        **counts,
    )
