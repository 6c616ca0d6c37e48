"""Launching, controlling and submitting campaigns and messages.

Every operation here is a plain function that views, tasks, commands and the API call. The
database is the outbox: a message is written `queued` first and tasks are only hints to submit
it; each submission claims its row with a conditional update, so two workers never both send.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from iliveit import (
    ALL_POSTBACK_TYPES,
    APIUnavailable,
    BuildRequest,
    EndpointRefused,
    ILiveItError,
    InvalidMessage,
    RateLimited,
    ResendRequest,
)
from iliveit.validation import validate_build_request, validate_new_message
from iliveit_portal import metrics as portal_metrics
from messaging.applications import application_save
from messaging.clients import application_client
from messaging.counting import campaign_counts
from messaging.dashboard import FailureReason, failure_reasons
from messaging.endpoints import endpoint_refusal
from messaging.hints import hint_on_commit
from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.payloads import build_payload
from messaging.ratelimit import limiter_for
from messaging.states import AWAITING_ANSWER, LEFT_TO_SEND, OUTCOMES, UNFINISHED

logger = logging.getLogger(__name__)


class CampaignError(ValueError):
    """A campaign operation was refused; the text says why, for the person who asked."""


# How often a chunk of submissions looks at its campaign's state again (see messages_submit).
CAMPAIGN_RECHECK_S = 0.5


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _enqueue_campaign(campaign_id: int) -> None:
    from messaging.tasks import dispatch_campaign

    hint_on_commit(dispatch_campaign, campaign_id)


def _enqueue_message(message_id: int, countdown: float = 0) -> None:
    from messaging.tasks import submit_message

    hint_on_commit(submit_message, message_id, countdown=countdown)


def campaign_check_content(*, campaign: Campaign) -> None:
    """Refuse content iLiveIt would refuse, before any message is queued."""
    probe_recipient = "27820000000" if campaign.channel != Channel.EMAIL else "probe@example.com"
    probe = Message(campaign=campaign, recipient=probe_recipient)
    payload = build_payload(probe)
    try:
        if isinstance(payload, BuildRequest):
            validate_build_request(payload)
        else:
            validate_new_message(payload)
    except InvalidMessage as error:
        raise CampaignError(f"The content is not ready to send: {error}") from None


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
        campaign = _locked(campaign)
        if campaign.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
            raise CampaignError(f"A {campaign.get_state_display().lower()} campaign cannot launch.")
        drafts = campaign.messages.filter(state=MessageState.DRAFT, is_test=False)
        if not drafts.exists():
            raise CampaignError("The campaign has no recipients yet.")
        campaign_check_content(campaign=campaign)
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
        _enqueue_campaign(campaign.pk)
    logger.info("campaign %s launched by %s", campaign.pk, getattr(user, "pk", None))
    return campaign


def campaign_test_send(*, campaign: Campaign, recipient: str, user) -> Message:
    """Send the campaign's content to one recipient, outside the campaign's counts."""
    campaign_check_content(campaign=campaign)
    with transaction.atomic():
        message = Message.objects.create(
            campaign=campaign, recipient=recipient, is_test=True, state=MessageState.QUEUED
        )
        _enqueue_message(message.pk)
    return message


def campaign_pause(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign)
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
        campaign = _locked(campaign)
        if campaign.state != CampaignState.PAUSED:
            raise CampaignError("Only a paused campaign can be resumed.")
        campaign.state = CampaignState.SENDING
        campaign.paused_reason = ""
        campaign.save(update_fields=["state", "paused_reason"])
        audit_record(actor=user, action=AuditAction.CAMPAIGN_RESUME, target=campaign)
        _enqueue_campaign(campaign.pk)
    return campaign


def campaign_cancel(*, campaign: Campaign, user) -> Campaign:
    """Stop for good: messages not yet submitted are cancelled; those in flight finish."""
    with transaction.atomic():
        campaign = _locked(campaign)
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
        campaign = _locked(campaign)
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
            _enqueue_campaign(campaign.pk)
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


def campaign_queued_ids(*, campaign_id: int):
    """Ids of messages a worker may submit now, for dispatching."""
    return (
        Message.objects.filter(campaign_id=campaign_id, state=MessageState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .order_by("id")
        .values_list("id", flat=True)
    )


# --- submitting one message -----------------------------------------------------------------


@dataclass(frozen=True)
class SubmitOutcome:
    state: str
    retry_in: float = 0.0  # seconds until the task should run again; 0: no retry


NOT_CLAIMED = SubmitOutcome(state="not-claimed")


def _claim(message_id: int, *, campaign_checked: bool = False) -> bool:
    """queued -> submitting, only for a message that may be sent now; True if we won.

    `campaign_checked` says the caller has just seen the campaign sending, which spares the
    campaign lookup (the costliest part of a submission's database work).
    """
    claimable = Message.objects.filter(pk=message_id, state=MessageState.QUEUED)
    if not campaign_checked:
        # EXISTS, not a join: Django writes an UPDATE over a join as `WHERE id IN (SELECT ...)`,
        # and PostgreSQL does not look at that subquery's `state = 'queued'` again after waiting
        # for a competing claim's row lock, so both claims would win and send the message twice.
        sending = Campaign.objects.filter(pk=OuterRef("campaign_id"), state=CampaignState.SENDING)
        claimable = claimable.filter(Q(is_test=True) | Exists(sending))
    won = claimable.update(
        state=MessageState.SUBMITTING,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return won == 1


def _settle(message: Message, **fields) -> bool:
    """Record the result of our call, only if the row is still ours.

    It is ours while `submitting`, and also once the sweeper took a slow call for a lost one
    and marked it `uncertain`: nothing else submits an uncertain message, so our answer is the
    one it is waiting for. Dropping it there would let the sweeper send the message again.
    """
    fields["updated_at"] = timezone.now()
    ours = Message.objects.filter(
        pk=message.pk,
        state__in=AWAITING_ANSWER,
        iliveit_id__isnull=True,
    )
    return ours.update(**fields) == 1


def retry_delay(attempt: int) -> float:
    """Exponential back-off with full jitter, so that retries of a burst spread out."""
    ceiling = min(settings.SUBMIT_RETRY_MAX_S, settings.SUBMIT_RETRY_BASE_S * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


# Fields to settle with once iLiveIt answered something other than 429: a run of 429s is over.
ANSWERED = {"rate_limited_since": None}


def _requeue(
    message: Message, *, delay: float, error: str, count_attempt: bool, **fields
) -> SubmitOutcome:
    fields.update(
        state=MessageState.QUEUED,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=error[:2000],
        error_retryable=True,
    )
    if not count_attempt:
        fields["attempts"] = F("attempts") - 1
    _settle(message, **fields)
    return SubmitOutcome(state=MessageState.QUEUED, retry_in=delay)


def _fail(message: Message, error: str, *, retryable: bool, **fields) -> SubmitOutcome:
    _settle(
        message,
        state=MessageState.FAILED,
        last_error=error[:2000],
        error_retryable=retryable,
        **fields,
    )
    campaign_auto_pause(campaign_id=message.campaign_id)
    return SubmitOutcome(state=MessageState.FAILED)


def _rate_limited(message: Message, error: RateLimited) -> SubmitOutcome:
    """iLiveIt refused the message for rate. Nothing was accepted, so another try is safe,
    but each comes later than the last (honouring Retry-After), and a message refused for
    longer than SUBMIT_RATE_LIMITED_GIVE_UP_S fails: iLiveIt may refuse one recipient for
    rate for good, and its campaign must still finish."""
    now = timezone.now()
    since = message.rate_limited_since or now
    count = message.rate_limited_count + 1
    fields = {"rate_limited_count": count, "rate_limited_since": since}
    limited_for = now - since
    if limited_for.total_seconds() >= settings.SUBMIT_RATE_LIMITED_GIVE_UP_S:
        minutes = round(limited_for.total_seconds() / 60)
        return _fail(
            message,
            f"iLiveIt answered 429 (rate limited) to all {count} tries over {minutes} min; "
            f"Retry failed queues it again. Last answer: {error}",
            retryable=True,
            **fields,
        )
    delay = max(error.retry_after or 0.0, retry_delay(count))
    return _requeue(message, delay=delay, error=str(error), count_attempt=False, **fields)


def message_submit(*, message_id: int) -> SubmitOutcome:
    """Submit one queued message to iLiveIt, at most once."""
    if not _claim(message_id):
        return NOT_CLAIMED
    message = Message.objects.select_related("campaign__application").get(pk=message_id)
    outcome = _submit_claimed(message)
    _apply_waiting_postbacks([message_id])
    return outcome


def messages_submit(*, message_ids: list[int]) -> dict[int, SubmitOutcome]:
    """Submit a chunk of queued messages, each at most once.

    Reading the chunk in one query is what lets a worker keep up with a high rate limit; each
    message is still claimed on its own just before its call, so a worker lost mid-chunk leaves
    at most one message with an unknown outcome, and a pause stops the chunk within
    CAMPAIGN_RECHECK_S.
    """
    chunk = Message.objects.select_related("campaign__application").filter(
        pk__in=message_ids, state=MessageState.QUEUED
    )
    outcomes = dict.fromkeys(message_ids, NOT_CLAIMED)
    # A chunk can take seconds under a low rate limit: the campaign's state is looked at again
    # every CAMPAIGN_RECHECK_S, so that a pause or cancel stops it part-way.
    stopped: set[int] = set()
    recheck_at = time.monotonic() + CAMPAIGN_RECHECK_S
    for message in chunk.order_by("id"):
        if not message.is_test and time.monotonic() >= recheck_at:
            recheck_at = time.monotonic() + CAMPAIGN_RECHECK_S
            if not Campaign.objects.filter(
                pk=message.campaign_id, state=CampaignState.SENDING
            ).exists():
                stopped.add(message.campaign_id)
        sending = message.is_test or (
            message.campaign.state == CampaignState.SENDING and message.campaign_id not in stopped
        )
        if not sending or not _claim(message.pk, campaign_checked=True):
            continue
        message.state = MessageState.SUBMITTING
        message.attempts += 1
        outcomes[message.pk] = _submit_claimed(message)
    _apply_waiting_postbacks([pk for pk, outcome in outcomes.items() if outcome is not NOT_CLAIMED])
    return outcomes


def _submit_claimed(message: Message) -> SubmitOutcome:
    message_id = message.pk
    application = message.campaign.application
    limiter = limiter_for(application.pk, application.rate_limit)
    try:
        wait = 0.0 if limiter.take(max_wait=1.0) else limiter.try_take() or 0.5
    except redis.RedisError as error:
        # Nothing was sent: hand the message back rather than leave it looking lost mid-call
        # (which would hold it for the whole reconciliation window).
        return _requeue(
            message, delay=2.0, error=f"rate limiter unavailable: {error}", count_attempt=False
        )
    if wait:
        return _requeue(message, delay=wait, error="", count_attempt=False)

    try:
        payload = build_payload(message)
        client = application_client(application)
        with portal_metrics.send_timer():
            if isinstance(payload, BuildRequest):
                iliveit_id = client.generate_video(payload)
            else:
                iliveit_id = client.send(payload)
    except RateLimited as error:
        portal_metrics.iliveit_rate_limited()
        # Most answers 429 means another system shares the token: the bucket slows for all.
        _report_rate_limited(limiter)
        # Not counted as an attempt: iLiveIt says nothing was accepted.
        return _rate_limited(message, error)
    except APIUnavailable as error:
        if error.request_sent and error.status_code is None:
            # Sent, but no answer: iLiveIt may have it. Resubmitting could send it twice, so it
            # waits for its postback (see messages_reconcile_uncertain).
            _settle(message, state=MessageState.UNCERTAIN, last_error=str(error)[:2000])
            return SubmitOutcome(state=MessageState.UNCERTAIN)
        if message.attempts >= settings.SUBMIT_MAX_ATTEMPTS:
            return _fail(
                message,
                f"gave up after {message.attempts} attempts: {error}",
                retryable=True,
                **ANSWERED,
            )
        return _requeue(
            message,
            delay=retry_delay(message.attempts),
            error=str(error),
            count_attempt=True,
            **ANSWERED,
        )
    except ILiveItError as error:
        # A 400, an auth failure or content the client refused: trying again cannot help.
        return _fail(message, error.error, retryable=error.retryable, **ANSWERED)

    fields = {
        "state": MessageState.SUBMITTED,
        "iliveit_id": iliveit_id,
        "submitted_at": timezone.now(),
        "last_error": "",
        "next_attempt_at": None,
        **ANSWERED,
    }
    if message.campaign.is_otp:
        fields["body"] = None
    if not _settle(message, **fields):
        # A postback on the message's own URL got here first and adopted the id.
        logger.info("message %s was settled by its postback before its submit returned", message_id)
    return SubmitOutcome(state=MessageState.SUBMITTED)


def _report_rate_limited(limiter) -> None:
    try:
        limiter.rate_limited()
    except redis.RedisError as error:
        # The message is handed back all the same; the bucket only misses one 429.
        logger.warning("could not count a 429 in the rate limiter: %s", error)


def _apply_waiting_postbacks(message_ids: list[int]) -> None:
    # Postbacks that came while our calls were in flight waited for this moment; for an
    # unknown outcome they are the answer we did not get (their MessageID is adopted).
    from postbacks.services import postbacks_apply_waiting

    postbacks_apply_waiting(message_ids=message_ids)


# --- keeping campaigns moving -----------------------------------------------------------------


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
    canary = campaign.messages.filter(is_test=False).exclude(state=MessageState.DRAFT)
    counts = canary.aggregate(
        total=Count("id"),
        delivered=Count("id", filter=Q(state=MessageState.DELIVERED)),
        open=Count("id", filter=~Q(state__in=OUTCOMES)),
    )
    waited = timezone.now() - (campaign.launched_at or timezone.now())
    if counts["open"] and waited < timedelta(seconds=settings.CANARY_WAIT_S):
        return "waiting"
    rate = counts["delivered"] / counts["total"] if counts["total"] else 0.0
    if rate < campaign.canary_min_success:
        campaign_pause(
            campaign=campaign,
            user=None,
            reason=(
                f"Canary delivered {rate:.0%}, below the {campaign.canary_min_success:.0%} needed."
            ),
        )
        return "failed"
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.canary_released_at is None and locked.state == CampaignState.SENDING:
            locked.messages.filter(state=MessageState.DRAFT, is_test=False).update(
                state=MessageState.QUEUED, updated_at=timezone.now()
            )
            locked.canary_released_at = timezone.now()
            locked.save(update_fields=["canary_released_at"])
            _enqueue_campaign(locked.pk)
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
    """Hand work that no task holds back to the workers; safe to run at any time, since
    every submission still has to win its claim."""
    from messaging.tasks import submit_message

    now = timezone.now()
    stale_submitting = Message.objects.filter(
        state=MessageState.SUBMITTING,
        updated_at__lt=now - timedelta(seconds=settings.SUBMITTING_STALE_AFTER_S),
    ).update(
        state=MessageState.UNCERTAIN,
        last_error="The worker stopped during the call; waiting for iLiveIt's postback.",
        updated_at=now,
    )
    # An unknown outcome with no postback within the provider's promise was never accepted.
    # Postbacks the drains have not reached yet still count as heard.
    from postbacks.models import PostbackInbox
    from postbacks.services import inbox_resolve_pending

    inbox_resolve_pending()
    # Any postback on its own URL proves it was accepted. NOT EXISTS rather than a join, so
    # that the state and MessageID are checked again on a row a postback adopts meanwhile
    # (see _claim).
    heard = PostbackInbox.objects.filter(message_id=OuterRef("pk"))
    requeued = Message.objects.filter(
        ~Exists(heard),
        state=MessageState.UNCERTAIN,
        iliveit_id__isnull=True,
        # Queued again, a resend would go out as a new message instead; it stays unknown.
        resent_from__isnull=True,
        updated_at__lt=now - timedelta(seconds=settings.RECONCILE_UNCERTAIN_AFTER_S),
    ).update(state=MessageState.QUEUED, next_attempt_at=None, updated_at=now)

    forgotten = Message.objects.filter(
        Q(is_test=True) | Q(campaign__state=CampaignState.SENDING),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        state=MessageState.QUEUED,
        updated_at__lt=now - timedelta(seconds=settings.SWEEP_QUEUED_AFTER_S),
    )
    ids = list(forgotten.values_list("id", flat=True)[:10_000])
    Message.objects.filter(id__in=ids).update(updated_at=now)
    for message_id in ids:
        submit_message.delay(message_id)

    launched = 0
    for campaign in Campaign.objects.filter(state=CampaignState.SCHEDULED, launch_at__lte=now):
        try:
            campaign_launch(campaign=campaign, user=None)
            launched += 1
        except CampaignError as error:
            logger.warning("scheduled campaign %s did not launch: %s", campaign.pk, error)
    for campaign in Campaign.objects.filter(
        state=CampaignState.SENDING, canary_size__gt=0, canary_released_at__isnull=True
    ):
        campaign_check_canary(campaign=campaign)
    return {
        "stale_submitting": stale_submitting,
        "uncertain_requeued": requeued,
        "requeued": len(ids),
        "launched": launched,
        "finished": campaigns_finish(),
    }


# --- single sends ---------------------------------------------------------------------------

SINGLE_SENDS = "Single sends"


def application_default() -> Application:
    """The application single sends use: the only one there is, or one made from the
    ILIVEIT_* settings."""
    applications = list(Application.objects.order_by("pk")[:2])
    if len(applications) == 1:
        return applications[0]
    if applications:
        raise CampaignError("Several applications exist; name the one to send with.")
    if not settings.ILIVEIT_ACCESS_TOKEN or not settings.ILIVEIT_MVNO_ID:
        raise CampaignError("No application exists; set ILIVEIT_ACCESS_TOKEN and ILIVEIT_MVNO_ID.")
    refusal = endpoint_refusal(settings.ILIVEIT_ENDPOINT)
    if refusal:
        # Made now, it would fail every message it sends.
        raise CampaignError(f"ILIVEIT_ENDPOINT is refused: it {refusal}.")
    application = Application(
        name=f"Default ({settings.ILIVEIT_ENVIRONMENT})",
        environment=settings.ILIVEIT_ENVIRONMENT,
        endpoint=settings.ILIVEIT_ENDPOINT,
        token=settings.ILIVEIT_ACCESS_TOKEN,
        mvno_id=settings.ILIVEIT_MVNO_ID,
    )
    return application_save(application=application, actor=None)


def single_sends_campaign(*, application: Application, channel: str, name: str) -> Campaign:
    """The application's single-sends campaign of this name and channel, made on first use.

    Only campaigns made for single sends are looked at, so an ordinary campaign of the same
    name is never picked, and the partial unique constraint allows one per application, name
    and channel. When two sends make it at once, get_or_create's INSERT (in a savepoint) fails
    for one of them on that constraint, and that one reads the row the other made.
    """
    campaign, _ = Campaign.objects.get_or_create(
        application=application,
        channel=channel,
        name=name,
        is_single_sends=True,
        defaults={"state": CampaignState.SENDING, "launched_at": timezone.now()},
    )
    if campaign.state != CampaignState.SENDING:
        # Paused by a person or by campaign_auto_pause: refused rather than held, since a
        # single send (a PIN, say) is often useless by the time the campaign resumes.
        raise CampaignError(
            f'The single-sends campaign "{name}" is {campaign.get_state_display().lower()}; '
            "resume it to send."
        )
    return campaign


def message_send_single(
    *,
    application: Application,
    channel: str,
    recipient: str,
    content: dict[str, str],
    campaign_name: str = "",
    enqueue: bool = True,
) -> Message:
    """Queue one message outside any recipient list, in the application's single-sends
    campaign named `campaign_name` ("Single sends" if empty) for its channel."""
    if channel not in (Channel.SMS, Channel.EMAIL, Channel.MMS):
        raise CampaignError(f"Single sends support sms, email and mms, not {channel}.")
    if channel == Channel.MMS:
        raise CampaignError("MMS needs slides: compose an MMS campaign instead.")
    with transaction.atomic():
        campaign = single_sends_campaign(
            application=application, channel=channel, name=campaign_name or SINGLE_SENDS
        )
        message = Message(
            campaign=campaign,
            recipient=recipient,
            is_single=True,
            state=MessageState.QUEUED,
            body={k: v for k, v in content.items() if v},
        )
        payload = build_payload(message)
        try:
            validate_new_message(payload)
        except InvalidMessage as error:
            raise CampaignError(str(error)) from None
        message.save()
        if enqueue:
            _enqueue_message(message.pk)
    return message


# --- resending one message ------------------------------------------------------------------


def message_resend(*, message: Message, user) -> Message:
    """Send an archived message again to its recipient through iLiveIt's message/resend.

    The resend is a message row of its own (saved before the call, linked to the original),
    with its own postback URL, so its delivery is followed like any other.
    """
    from postbacks.signing import status_url

    campaign = message.campaign
    if not message.iliveit_id or campaign is None:
        raise CampaignError("iLiveIt never accepted this message, so there is nothing to resend.")
    if campaign.is_otp:
        raise CampaignError("One-time PINs cannot be resent.")
    application = campaign.application
    try:
        client = application_client(application)
    except EndpointRefused as error:
        raise CampaignError(error.error) from None
    try:
        if not limiter_for(application.pk, application.rate_limit).take(max_wait=2.0):
            raise CampaignError("iLiveIt's rate limit is taken up by sending; try again shortly.")
    except redis.RedisError as error:
        raise CampaignError(f"The rate limiter is unavailable: {error}") from None
    with transaction.atomic():
        copy = Message.objects.create(
            campaign=campaign,
            recipient=message.recipient,
            is_single=True,
            resent_from=message,
            state=MessageState.SUBMITTING,
            attempts=1,
        )
        # Recorded before the call: an attempt that ends in an unknown outcome still counts.
        audit_record(
            actor=user,
            action=AuditAction.MESSAGE_RESEND,
            target=message,
            detail={"resent_as": copy.pk, "campaign_id": campaign.pk},
        )
    is_email = campaign.channel == Channel.EMAIL
    request = ResendRequest(
        message_id=message.iliveit_id,
        msisdn="" if is_email else message.recipient,
        email=message.recipient if is_email else "",
        postback_status_url=status_url(copy.ref),
        postback_status_types=ALL_POSTBACK_TYPES,
    )
    try:
        iliveit_id = client.resend(request)
    except APIUnavailable as error:
        if error.request_sent and error.status_code is None:
            # iLiveIt may have it: its first postback on the copy's URL will tell.
            _settle(copy, state=MessageState.UNCERTAIN, last_error=str(error)[:2000])
            copy.refresh_from_db()
            return copy
        _settle(copy, state=MessageState.FAILED, last_error=str(error)[:2000])
        raise CampaignError(f"iLiveIt could not take the resend: {error}") from None
    except ILiveItError as error:
        _settle(copy, state=MessageState.FAILED, last_error=error.error[:2000])
        raise CampaignError(f"iLiveIt refused the resend: {error.error}") from None
    _settle(copy, state=MessageState.SUBMITTED, iliveit_id=iliveit_id, submitted_at=timezone.now())
    _apply_waiting_postbacks([copy.pk])
    logger.info("message %s resent as %s by %s", message.pk, copy.pk, getattr(user, "pk", None))
    copy.refresh_from_db()
    return copy
