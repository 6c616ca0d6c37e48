"""Submitting queued messages to iLiveIt, each at most once.

The database is the outbox: a message is written `queued` first and tasks are only hints to
submit it; each submission claims its row with a conditional update, so two workers never both
send. The answer settles the row."""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from iliveit import (
    APIUnavailable,
    BuildRequest,
    ILiveItError,
    RateLimited,
)
from iliveit_portal import metrics as portal_metrics
from messaging.clients import application_client
from messaging.models import (
    Campaign,
    CampaignState,
    Message,
    MessageState,
    OptOut,
)
from messaging.payloads import build_payload
from messaging.ratelimit import limiter_for
from messaging.services.upkeep import campaign_auto_pause
from messaging.signals import submissions_answered
from messaging.states import AWAITING_ANSWER, OPTED_OUT

logger = logging.getLogger(__name__)


# How often a chunk of submissions looks at its campaign's state again (see messages_submit).
CAMPAIGN_RECHECK_S = 0.5


@dataclass(frozen=True)
class SubmitOutcome:
    state: str
    retry_in: float = 0.0  # seconds until the task should run again; 0: no retry


NOT_CLAIMED = SubmitOutcome(state="not-claimed")


@dataclass
class _ChunkLater:
    """What a chunk records a little later than each call, to spare a commit and a Redis round
    trip per message (they were most of the send path's time against iLiveIt's own):

    - `answered`: the last accepted message and its fields, settled in the same transaction
      as the next message's claim (one commit for both) or at the chunk's end. A worker lost
      in between leaves that one message with an unknown outcome, as it would lose it between
      its call and its own commit: at most one per chunk, whose postback settles it.
    - `latencies`: the calls' durations, recorded in one round trip at the chunk's end.
    """

    answered: list[tuple[Message, dict]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def settle_answered(self) -> None:
        while self.answered:
            _settle_submitted(*self.answered.pop())


# Refused at the claim: the recipient is on the application's opt-out list.
OPTED_OUT_CANCELLED = SubmitOutcome(state=MessageState.CANCELLED)


def _opted_out(application_id: int | None = None) -> Exists:
    """EXISTS: the message's recipient is on its application's opt-out list.

    Correlated with the message row being updated, so the claim stays a single-table UPDATE
    (see _claim). `application_id` spares the join through the campaign when the caller knows
    it; the join otherwise goes inside the subquery, never into the outer statement.
    """
    entries = OptOut.objects.filter(recipient=OuterRef("recipient"))
    if application_id is not None:
        entries = entries.filter(application_id=application_id)
    else:
        entries = entries.filter(application__campaigns=OuterRef("campaign_id"))
    return Exists(entries)


def _claim(
    message_id: int, *, campaign_checked: bool = False, application_id: int | None = None
) -> bool:
    """queued -> submitting, only for a message that may be sent now; True if we won.

    `campaign_checked` says the caller has just seen the campaign sending, which spares the
    campaign lookup (the costliest part of a submission's database work).

    A recipient on the application's opt-out list is never claimed (unless the message was
    sent as transactional): the list is read by the claim's own statement, so an opt-out
    committed before the claim starts always stops it, even mid-chunk, and one committed
    later finds the message already on its way. _cancel_opted_out then settles the refusal.
    """
    claimable = Message.objects.filter(pk=message_id, state=MessageState.QUEUED)
    if not campaign_checked:
        # EXISTS, not a join: Django writes an UPDATE over a join as `WHERE id IN (SELECT ...)`,
        # and PostgreSQL does not look at that subquery's `state = 'queued'` again after waiting
        # for a competing claim's row lock, so both claims would win and send the message twice.
        claimable = claimable.filter(Q(is_test=True) | Exists(_sending()))
    # NOT EXISTS for the same reason: the opt-out list stays inside a correlated subquery.
    claimable = claimable.filter(Q(is_transactional=True) | ~_opted_out(application_id))
    won = claimable.update(
        state=MessageState.SUBMITTING,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return won == 1


def _sending():
    return Campaign.objects.filter(pk=OuterRef("campaign_id"), state=CampaignState.SENDING)


def _cancel_opted_out(
    message_id: int, *, campaign_checked: bool = False, application_id: int | None = None
) -> bool:
    """After a lost claim: cancel the message if what stopped it is its recipient's opt-out
    (and not another worker or a pause); True if it was cancelled.

    The same conditions as the claim with the list's test turned round, in one conditional
    UPDATE, so that a message claimed meanwhile, or a recipient who opted back in, is left
    alone. Cancelled, not failed: nothing went wrong, and it must not count towards a
    campaign's automatic pause.
    """
    refused = Message.objects.filter(
        pk=message_id, state=MessageState.QUEUED, is_transactional=False
    )
    if not campaign_checked:
        refused = refused.filter(Q(is_test=True) | Exists(_sending()))
    refused = refused.filter(_opted_out(application_id))
    cancelled = refused.update(
        state=MessageState.CANCELLED,
        last_error=OPTED_OUT,
        error_retryable=False,
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    return cancelled == 1


def settle(message: Message, **fields) -> bool:
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
    settle(message, **fields)
    return SubmitOutcome(state=MessageState.QUEUED, retry_in=delay)


def _fail(message: Message, error: str, *, retryable: bool, **fields) -> SubmitOutcome:
    settle(
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
        if _cancel_opted_out(message_id):
            return OPTED_OUT_CANCELLED
        return NOT_CLAIMED
    message = Message.objects.select_related("campaign__application").get(pk=message_id)
    outcome = _submit_claimed(message)
    announce_answered([message_id])
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
    later = _ChunkLater()
    try:
        for message in chunk.order_by("id"):
            if not message.is_test and time.monotonic() >= recheck_at:
                recheck_at = time.monotonic() + CAMPAIGN_RECHECK_S
                if not Campaign.objects.filter(
                    pk=message.campaign_id, state=CampaignState.SENDING
                ).exists():
                    stopped.add(message.campaign_id)
            sending = message.is_test or (
                message.campaign.state == CampaignState.SENDING
                and message.campaign_id not in stopped
            )
            if not sending:
                continue
            checked = {"campaign_checked": True, "application_id": message.campaign.application_id}
            with transaction.atomic():
                later.settle_answered()
                claimed = _claim(message.pk, **checked)
            if not claimed:
                if _cancel_opted_out(message.pk, **checked):
                    outcomes[message.pk] = OPTED_OUT_CANCELLED
                continue
            message.state = MessageState.SUBMITTING
            message.attempts += 1
            outcomes[message.pk] = _submit_claimed(message, later=later)
    finally:
        later.settle_answered()
        portal_metrics.send_latencies_observe(later.latencies)
    # Only calls made are answered; a message refused for an opt-out made none.
    called = (NOT_CLAIMED, OPTED_OUT_CANCELLED)
    announce_answered([pk for pk, outcome in outcomes.items() if outcome not in called])
    return outcomes


def _submit_claimed(message: Message, *, later: _ChunkLater | None = None) -> SubmitOutcome:
    """Take a token, call iLiveIt and record the answer; an accepted message's answer is left
    to `later` when a chunk gives one (see _ChunkLater)."""
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
        with portal_metrics.send_timer(later.latencies if later else None):
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
            # waits for its postback (see postbacks/sweep.py, messages_requeue_unheard).
            settle(message, state=MessageState.UNCERTAIN, last_error=str(error)[:2000])
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
        # A PIN must not outlive its sending: neither a body of its own, nor the fields that
        # were rendered into the campaign's content (its "{{ pin }}").
        fields["body"] = None
        fields["fields"] = None
    if later is None:
        _settle_submitted(message, fields)
    else:
        later.answered.append((message, fields))
    return SubmitOutcome(state=MessageState.SUBMITTED)


def _settle_submitted(message: Message, fields: dict) -> None:
    if not settle(message, **fields):
        # A postback on the message's own URL got here first and adopted the id.
        logger.info("message %s was settled by its postback before its submit returned", message.pk)


def _report_rate_limited(limiter) -> None:
    try:
        limiter.rate_limited()
    except redis.RedisError as error:
        # The message is handed back all the same; the bucket only misses one 429.
        logger.warning("could not count a 429 in the rate limiter: %s", error)


def announce_answered(message_ids: list[int]) -> None:
    # Postbacks that came while our calls were in flight waited for this moment; for an
    # unknown outcome they are the answer we did not get (their MessageID is adopted).
    submissions_answered.send(sender=Message, message_ids=message_ids)
