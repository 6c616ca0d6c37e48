"""Campaign controls: checking content, launching (now, scheduled or as a canary), test sends,
pause, resume, cancel, and Retry failed."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from iliveit import (
    BuildRequest,
    InvalidMessage,
)
from iliveit.validation import validate_build_request, validate_new_message
from messaging.counting import campaign_counts
from messaging.failures import FailureReason, failure_reasons
from messaging.hints import hint_dispatch_campaign, hint_submit_message
from messaging.models import (
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.payloads import build_payload
from messaging.personalise import (
    ContentPlaceholderError,
    campaign_drafts_missing_fields,
    campaign_placeholders,
)
from messaging.placeholders import BUILT_INS
from messaging.services.errors import CampaignError, lock_campaign, refuse_opted_out
from messaging.states import LAUNCHABLE_STATES, LEFT_TO_SEND

logger = logging.getLogger(__name__)


def campaign_check_content(*, campaign: Campaign) -> None:
    """Refuse content iLiveIt would refuse, or whose placeholders do not compile, before any
    message is queued."""
    try:
        used = campaign_placeholders(campaign)
    except ContentPlaceholderError as error:
        raise CampaignError(f"The content is not ready to send: {error}") from None
    probe_recipient = "27820000000" if campaign.channel != Channel.EMAIL else "probe@example.com"
    # Each field stands in for itself: content that is only "{{ first_name }}" is not empty.
    probe_fields = {name: name for name in used.names - BUILT_INS} or None
    probe = Message(campaign=campaign, recipient=probe_recipient, fields=probe_fields)
    payload = build_payload(probe)
    try:
        if isinstance(payload, BuildRequest):
            validate_build_request(payload)
        else:
            validate_new_message(payload)
    except InvalidMessage as error:
        raise CampaignError(f"The content is not ready to send: {error}") from None


def campaign_check_fields(*, campaign: Campaign) -> None:
    """Refuse a launch in which some recipient would meet a placeholder with neither a value
    nor a fallback (a message would read "Dear ,"). Set-based over the drafts, in SQL."""
    missing = campaign_drafts_missing_fields(campaign)
    if missing:
        name = missing[0].name
        raise CampaignError(
            f"Some recipients have no value for a placeholder: "
            f"{'; '.join(str(field) for field in missing)}. Give the placeholder a fallback, as "
            f'in {{{{ {name}|default:"…" }}}}, or give those recipients the field.'
        )


def campaign_launch(
    *,
    campaign: Campaign,
    user,
    at: datetime | None = None,
    canary_size: int | None = None,
    canary_min_success: float | None = None,
) -> Campaign:
    """Queue every recipient now (one transaction), or schedule the launch for `at`.

    With a canary, only the first `canary_size` recipients are queued; the sweep releases the
    rest once `canary_min_success` of those were delivered (campaign_check_canary).
    """
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state not in LAUNCHABLE_STATES:
            raise CampaignError(f"A {campaign.get_state_display().lower()} campaign cannot launch.")
        drafts = campaign.messages.filter(state=MessageState.DRAFT, is_test=False)
        if not drafts.exists():
            raise CampaignError("The campaign has no recipients yet.")
        campaign_check_content(campaign=campaign)
        campaign_check_fields(campaign=campaign)
        if canary_size is not None:
            campaign.canary_size = canary_size
        if canary_min_success is not None:
            if not 0 < canary_min_success <= 1:
                raise CampaignError("The canary's success rate must be above 0% and at most 100%.")
            campaign.canary_min_success = canary_min_success
        now = timezone.now()
        if at is not None and at > now:
            campaign.state = CampaignState.SCHEDULED
            campaign.launch_at = at
            campaign.save(update_fields=["state", "launch_at", "canary_size", "canary_min_success"])
            audit_record(
                actor=user,
                action=AuditAction.CAMPAIGN_LAUNCH,
                target=campaign,
                detail={"scheduled_for": at.isoformat()},
            )
            return campaign
        if campaign.canary_size:
            first = list(drafts.order_by("id").values_list("id", flat=True)[: campaign.canary_size])
            drafts = Message.objects.filter(id__in=first)
        drafts.update(state=MessageState.QUEUED, updated_at=now)
        campaign.state = CampaignState.SENDING
        campaign.launched_at = now
        campaign.launch_at = None
        campaign.save(
            update_fields=[
                "state",
                "launched_at",
                "launch_at",
                "canary_size",
                "canary_min_success",
            ]
        )
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_LAUNCH,
            target=campaign,
            detail={"canary_size": campaign.canary_size} if campaign.canary_size else {},
        )
        hint_dispatch_campaign(campaign.pk)
    logger.info("campaign %s launched by %s", campaign.pk, getattr(user, "pk", None))
    return campaign


def campaign_test_send(
    *, campaign: Campaign, recipient: str, user, fields: dict[str, str] | None = None
) -> Message:
    """Send the campaign's content to one recipient, outside the campaign's counts, rendered
    with `fields`: a recipient's own, or sample values the composer typed. A placeholder with
    neither a value nor a fallback is refused, as a launch would refuse it."""
    campaign_check_content(campaign=campaign)
    needed = campaign_placeholders(campaign).fields
    lacking = sorted(name for name in needed if not (fields or {}).get(name))
    if lacking:
        names = ", ".join(f"{{{{ {name} }}}}" for name in lacking)
        raise CampaignError(
            f"{names} {'has' if len(lacking) == 1 else 'have'} no value and no fallback. "
            "Pick a recipient whose fields to use, or type a sample value."
        )
    refuse_opted_out(application_id=campaign.application_id, recipient=recipient)
    with transaction.atomic():
        message = Message.objects.create(
            campaign=campaign,
            recipient=recipient,
            fields=fields or None,
            is_test=True,
            state=MessageState.QUEUED,
        )
        hint_submit_message(message.pk)
    return message


def campaign_pause(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state != CampaignState.SENDING:
            raise CampaignError("Only a sending campaign can be paused.")
        campaign.state = CampaignState.PAUSED
        campaign.paused_reason = reason[:255]
        campaign.save(update_fields=["state", "paused_reason"])
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_PAUSE,
            target=campaign,
            detail={"reason": campaign.paused_reason} if reason else {},
        )
    return campaign


def campaign_resume(*, campaign: Campaign, user) -> Campaign:
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state != CampaignState.PAUSED:
            raise CampaignError("Only a paused campaign can be resumed.")
        campaign.state = CampaignState.SENDING
        campaign.paused_reason = ""
        campaign.save(update_fields=["state", "paused_reason"])
        audit_record(actor=user, action=AuditAction.CAMPAIGN_RESUME, target=campaign)
        hint_dispatch_campaign(campaign.pk)
    return campaign


def campaign_cancel(*, campaign: Campaign, user) -> Campaign:
    """Stop for good: messages not yet submitted are cancelled; those in flight finish."""
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state in (CampaignState.DONE, CampaignState.CANCELLED):
            raise CampaignError(f"The campaign is already {campaign.state}.")
        if campaign.is_single_sends:
            # Every later single send files here, so it must stay open; a pause stops it.
            raise CampaignError("Single sends cannot be cancelled for good; pause them instead.")
        cancelled = campaign.messages.filter(state__in=LEFT_TO_SEND).update(
            state=MessageState.CANCELLED, updated_at=timezone.now()
        )
        campaign.state = CampaignState.CANCELLED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["state", "finished_at"])
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_CANCEL,
            target=campaign,
            detail={"messages_cancelled": cancelled},
        )
    return campaign


def _failed(campaign_id: int):
    return Message.objects.filter(campaign_id=campaign_id, is_test=False, state=MessageState.FAILED)


# Failed messages that Retry failed queues again: refused before iLiveIt took them, for a reason
# that may pass (a 5xx, a timeout, rate limiting). A message iLiveIt accepted is never queued
# again (it would reach the recipient twice), nor one whose content iLiveIt refused (a 400 would
# only come back).
RETRYABLE = Q(error_retryable=True, iliveit_id__isnull=True)


@dataclass(frozen=True)
class CampaignFailures:
    retryable: int  # exactly what campaign_retry_failed would queue again now
    final: tuple[FailureReason, ...]  # failed for good, by reason, most frequent first

    @property
    def final_count(self) -> int:
        return sum(reason.n for reason in self.final)


def campaign_failures(*, campaign: Campaign) -> CampaignFailures:
    """The campaign's failed messages: how many Retry failed would send again, and why the
    others failed for good."""
    failed = _failed(campaign.pk)
    return CampaignFailures(
        retryable=failed.filter(RETRYABLE).count(),
        final=failure_reasons(failed.exclude(RETRYABLE)),
    )


def campaign_retry_failed(*, campaign: Campaign, user) -> int:
    """Re-queue the messages whose failure was temporary; answer how many."""
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        if campaign.state in (CampaignState.CANCELLED, CampaignState.DRAFT):
            raise CampaignError(f"A {campaign.state} campaign cannot retry messages.")
        count = (
            _failed(campaign.pk)
            .filter(RETRYABLE)
            .update(
                state=MessageState.QUEUED,
                attempts=0,
                next_attempt_at=None,
                rate_limited_since=None,
                updated_at=timezone.now(),
            )
        )
        if count and campaign.state in (CampaignState.DONE, CampaignState.SENDING):
            campaign.state = CampaignState.SENDING
            campaign.finished_at = None
            campaign.save(update_fields=["state", "finished_at"])
            hint_dispatch_campaign(campaign.pk)
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_RETRY_FAILED,
            target=campaign,
            detail={"messages_requeued": count},
        )
    return count


def campaign_progress(*, campaign: Campaign) -> dict[str, int]:
    """Messages by state, from the campaign's counters (never a scan of its messages)."""
    return campaign_counts(campaign_id=campaign.pk)


def messages_statistics_refresh() -> None:
    """Have PostgreSQL sample the messages table again, before a campaign's chunks go out.

    A launch moves thousands of rows to `queued` at once, and until autovacuum samples the table
    (a minute or more) the planner believes queued messages are rare: it then answers each
    chunk's claim by scanning every queued message through the state index, 2-3 ms for a 20,000
    message campaign, instead of looking its ten rows up by primary key (EXPLAIN ANALYZE; the
    claim is messaging/services/submit.py's _claim). ANALYZE reads a fixed-size sample, so it
    costs the same whatever the table's size.
    """
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # A vacuum of the table that will not yield (one against wraparound) would hold
            # the campaign's dispatch for its whole length: better to skip the sample.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute(f"ANALYZE {Message._meta.db_table}")
    except OperationalError as error:
        logger.warning("skipped refreshing the messages' statistics: %s", error)


def campaign_queued_ids(*, campaign_id: int):
    """Ids of messages a worker may submit now, for dispatching."""
    return (
        Message.objects.filter(campaign_id=campaign_id, state=MessageState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .order_by("id")
        .values_list("id", flat=True)
    )


# --- submitting one message -----------------------------------------------------------------
