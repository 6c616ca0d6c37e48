"""Keeping campaigns moving: what the beat's sweep does for messaging each round, the
canary's release and the automatic pause."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from messaging.counting import campaign_counts
from messaging.hints import hint_dispatch_campaign, hint_submit_message
from messaging.models import (
    Campaign,
    CampaignState,
    Message,
    MessageState,
)
from messaging.services.campaigns import campaign_launch, campaign_pause
from messaging.services.errors import CampaignError, lock_campaign
from messaging.states import AWAITING_REPORT, LEFT_TO_SEND, OPTED_OUT, OUTCOMES, UNFINISHED

logger = logging.getLogger(__name__)


def campaign_auto_pause(*, campaign_id: int) -> bool:
    """Pause a sending campaign whose failure rate crossed the configured limit.

    Judged on each new failure, against the messages whose outcome is final (delivered or
    failed): those still on their way would otherwise dilute the rate until everything had
    been sent. A campaign with nothing left to send is not paused; it finishes.
    """
    limit = settings.AUTO_PAUSE_FAILURE_RATE
    if not limit:
        return False
    # Read on every new failure, so from the counters: a scan here would grow with the campaign.
    counts = campaign_counts(campaign_id=campaign_id)
    failed = counts[MessageState.FAILED]
    finished = counts[MessageState.DELIVERED] + failed
    if finished < settings.AUTO_PAUSE_MIN_MESSAGES:
        return False
    rate = failed / finished
    if rate < limit or not any(counts[state] for state in LEFT_TO_SEND):
        return False
    reason = (
        f"Paused automatically: {failed} of the {finished} messages with a final outcome "
        f"failed ({rate:.0%}, the limit is {limit:.0%})."
    )
    with transaction.atomic():
        paused = Campaign.objects.filter(pk=campaign_id, state=CampaignState.SENDING).update(
            state=CampaignState.PAUSED, paused_reason=reason[:255]
        )
        if paused:
            audit_record(
                actor=None,
                action=AuditAction.CAMPAIGN_PAUSE,
                target=Campaign.objects.get(pk=campaign_id),
                detail={"reason": reason},
            )
    if paused:
        logger.warning("campaign %s paused: failure rate %.2f", campaign_id, rate)
    return bool(paused)


def campaign_check_canary(*, campaign: Campaign) -> str:
    """Release the rest of a canary campaign once its canary delivered well enough.

    It judges when every canary message has a final report, or once CANARY_WAIT_S has passed
    since the launch (some networks never report delivery): unreported messages then count
    as not delivered.
    """
    # A canary message refused because its recipient opted out was never sent: it is no
    # evidence either way, and would otherwise stay "open" until CANARY_WAIT_S.
    canary = (
        campaign.messages.filter(is_test=False)
        .exclude(state=MessageState.DRAFT)
        .exclude(state=MessageState.CANCELLED, last_error=OPTED_OUT)
    )
    counts = canary.aggregate(
        total=Count("id"),
        delivered=Count("id", filter=Q(state=MessageState.DELIVERED)),
        open=Count("id", filter=~Q(state__in=OUTCOMES)),
    )
    waited = timezone.now() - (campaign.launched_at or timezone.now())
    if counts["open"] and waited < timedelta(seconds=settings.CANARY_WAIT_S):
        return "waiting"
    rate = counts["delivered"] / counts["total"] if counts["total"] else 0.0
    # Kept for the pages (messaging.canary): after a release the counters mix the canary
    # with the rest.
    judged = {"canary_delivered": counts["delivered"], "canary_judged": counts["total"]}
    if rate < campaign.canary_min_success:
        try:
            campaign_pause(
                campaign=campaign,
                user=None,
                reason=(
                    f"Canary delivered {rate:.0%}, below the "
                    f"{campaign.canary_min_success:.0%} needed."
                ),
            )
        except CampaignError:
            # Paused or cancelled by hand since the sweep listed it: nothing left to judge
            # now, and the rest of the sweep must still run.
            return "waiting"
        Campaign.objects.filter(pk=campaign.pk).update(**judged)
        return "failed"
    with transaction.atomic():
        locked = lock_campaign(campaign)
        if locked.canary_released_at is None and locked.state == CampaignState.SENDING:
            locked.messages.filter(state=MessageState.DRAFT, is_test=False).update(
                state=MessageState.QUEUED, updated_at=timezone.now()
            )
            locked.canary_released_at = timezone.now()
            locked.canary_delivered = judged["canary_delivered"]
            locked.canary_judged = judged["canary_judged"]
            locked.save(update_fields=["canary_released_at", *judged])
            hint_dispatch_campaign(locked.pk)
    return "released"


def campaigns_finish() -> int:
    """Mark sending or paused campaigns with nothing left to submit as done (a paused one
    would otherwise wait for a resume that has nothing to send). Single-sends campaigns stay
    open: the next single send files under the same one."""
    finished = 0
    live = (CampaignState.SENDING, CampaignState.PAUSED)
    for campaign in Campaign.objects.filter(state__in=live, is_single_sends=False):
        if campaign.canary_size and campaign.canary_released_at is None:
            continue
        counts = campaign_counts(campaign_id=campaign.pk)
        if any(counts[state] for state in UNFINISHED):
            continue
        updated = Campaign.objects.filter(pk=campaign.pk, state=campaign.state).update(
            state=CampaignState.DONE, finished_at=timezone.now(), paused_reason=""
        )
        if updated and campaign.is_otp:
            # One-time PINs must not outlive their sending.
            Campaign.objects.filter(pk=campaign.pk).update(body_text="", body_html="", subject="")
        finished += updated
    return finished


def messages_sweep() -> dict[str, int]:
    """Messaging's part of the beat's sweep (postbacks/sweep.py runs the whole round): hand
    back work no task holds. Safe to run at any time, since every submission still has to win
    its claim."""
    return {
        "stale_submitting": messages_mark_stale_submitting(),
        "requeued": messages_hint_forgotten(),
        "launched": campaigns_launch_scheduled(),
        **campaigns_check_canaries(),
        "finished": campaigns_finish(),
    }


def messages_mark_stale_submitting() -> int:
    """A message claimed longer ago than SUBMITTING_STALE_AFTER_S lost its worker mid-call: its
    outcome is unknown until a postback (or the reconciliation window) says."""
    now = timezone.now()
    return Message.objects.filter(
        state=MessageState.SUBMITTING,
        updated_at__lt=now - timedelta(seconds=settings.SUBMITTING_STALE_AFTER_S),
    ).update(
        state=MessageState.UNCERTAIN,
        last_error="The worker stopped during the call; waiting for iLiveIt's postback.",
        updated_at=now,
    )


def _campaigns_submitting_since(moment) -> set[int]:
    """Campaigns with a message submitted since `moment` (read from the partial index of
    messages awaiting a report, so only the last moments' submissions are looked at)."""
    recent = Message.objects.filter(
        iliveit_id__isnull=False, state__in=AWAITING_REPORT, updated_at__gte=moment
    ).exclude(campaign=None)
    return set(recent.values_list("campaign_id", flat=True).distinct())


def messages_hint_forgotten(limit: int = 10_000) -> int:
    """Hint again the queued messages whose hint was lost (a worker died, the broker was down).

    A campaign still submitting is not forgetting its messages: a large one's are queued for
    as long as its rate takes to reach them (200 s for 20,000 at 100/s), and hinting them all
    again every sweep queued thousands of tasks that only lost their claims (bench/pipeline.py).
    Its lost hints are found once it stops submitting.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SWEEP_QUEUED_AFTER_S)
    forgotten = Message.objects.filter(
        Q(is_test=True) | Q(campaign__state=CampaignState.SENDING),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        state=MessageState.QUEUED,
        updated_at__lt=cutoff,
    ).exclude(is_test=False, campaign_id__in=_campaigns_submitting_since(cutoff))
    ids = list(forgotten.values_list("id", flat=True)[:limit])
    Message.objects.filter(id__in=ids).update(updated_at=now)
    for message_id in ids:
        hint_submit_message(message_id)
    return len(ids)


def campaigns_launch_scheduled() -> int:
    launched = 0
    due = Campaign.objects.filter(state=CampaignState.SCHEDULED, launch_at__lte=timezone.now())
    for campaign in due:
        try:
            campaign_launch(campaign=campaign, user=None)
            launched += 1
        except CampaignError as error:
            logger.warning("scheduled campaign %s did not launch: %s", campaign.pk, error)
    return launched


def campaigns_check_canaries() -> dict[str, int]:
    """Judge every canary still held; answer how many were released and how many paused."""
    judged = {"released": 0, "failed": 0, "waiting": 0}
    for campaign in Campaign.objects.filter(
        state=CampaignState.SENDING, canary_size__gt=0, canary_released_at__isnull=True
    ):
        judged[campaign_check_canary(campaign=campaign)] += 1
    return {"canaries_released": judged["released"], "canaries_paused": judged["failed"]}
