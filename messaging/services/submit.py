"""Submitting queued messages to iLiveIt, each at most once.

The database is the outbox: a message is written `queued` first and tasks are only hints to
submit it; each submission claims its row with a conditional update, so two workers never both
send. The answer settles the row."""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone

from iliveit import (
    APIUnavailable,
    BuildRequest,
    ILiveItError,
    RateLimited,
)
from iliveit_portal import metrics as portal_metrics
from iliveit_portal.bulk import rows_update, update_returning_pks
from messaging.clients import application_client
from messaging.models import (
    Campaign,
    CampaignState,
    Message,
    MessageState,
    OptOut,
)
from messaging.payloads import build_payload
from messaging.ratelimit import RateLimiter, limiter_for
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


@dataclass(frozen=True)
class _Accepted:
    message: Message
    iliveit_id: str
    at: datetime


@dataclass
class _ChunkLater:
    """What a chunk records a little later than each call, to spare a statement, a commit and a
    Redis round trip per message (they were most of the send path's time against iLiveIt's own):

    - `accepted`: the messages iLiveIt accepted since the last round's claim, settled together
      by one statement just before the next round's claim or at the chunk's end. A worker lost
      in between leaves them with an unknown outcome, as it would lose a message between its
      call and its own commit: at most a round's, whose postbacks settle them.
    - `latencies`: the calls' durations, recorded in one round trip at the chunk's end.
    """

    accepted: list[_Accepted] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # Messages whose calls were made since the last settle, whatever their answers.
    called: list[int] = field(default_factory=list)

    def settle_answered(self) -> None:
        accepted, self.accepted = self.accepted, []
        _settle_accepted(accepted)
        # Round by round, not at the chunk's end: under a low limit a chunk of 50 takes
        # seconds, and its first postbacks waited for it (apply lag p99 6.5 s at 25/s).
        called, self.called = self.called, []
        if called:
            announce_answered(called)


@dataclass
class _Grant:
    """The rate limiter's answer for a round of calls to one application: `taken` tokens, or
    none and the seconds to wait for one (`error` says why, when the limiter could not be
    reached)."""

    limiter: RateLimiter
    taken: int
    wait: float = 0.0
    error: str = ""

    @classmethod
    def ask(cls, message: Message, *, wanted: int) -> "_Grant":
        application = message.campaign.application
        limiter = limiter_for(application.pk, application.rate_limit)
        try:
            # Waits up to a second: longer, and the message is better handed back.
            taken, wait = limiter.take_up_to(wanted, max_wait=1.0)
        except redis.RedisError as error:
            return cls(limiter, 0, 2.0, f"rate limiter unavailable: {error}")
        return cls(limiter, taken, wait or (0.0 if taken else 0.5))

    def keep(self, used: int) -> None:
        """Give back the tokens beyond `used` (claims lost to another worker or an opt-out)."""
        if self.taken > used:
            try:
                self.limiter.give_back(self.taken - used)
            except redis.RedisError as error:
                # Only this round's spare tokens are lost: the rate dips, it is never exceeded.
                logger.warning("could not give tokens back to the rate limiter: %s", error)
            self.taken = used


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
    message_ids: list[int], *, campaign_checked: bool = False, application_id: int | None = None
) -> set[int]:
    """queued -> submitting, in one statement, for those of the messages that may be sent now;
    answers the ids we won.

    `campaign_checked` says the caller has just seen their campaigns sending, which spares the
    campaign lookup (the costliest part of a submission's database work).

    A recipient on the application's opt-out list is never claimed (unless the message was
    sent as transactional): the list is read by the claim's own statement, so an opt-out
    committed before the claim starts always stops it, even mid-chunk, and one committed
    later finds the message already on its way. _cancel_opted_out then settles the refusal.
    """
    claimable = Message.objects.filter(pk__in=message_ids, state=MessageState.QUEUED)
    if not campaign_checked:
        # EXISTS, not a join: Django writes an UPDATE over a join as `WHERE id IN (SELECT ...)`,
        # and PostgreSQL does not look at that subquery's `state = 'queued'` again after waiting
        # for a competing claim's row lock, so both claims would win and send the message twice.
        claimable = claimable.filter(Q(is_test=True) | Exists(_sending()))
    # NOT EXISTS for the same reason: the opt-out list stays inside a correlated subquery.
    claimable = claimable.filter(Q(is_transactional=True) | ~_opted_out(application_id))
    won = update_returning_pks(
        claimable,
        state=MessageState.SUBMITTING,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return set(won)


def _sending():
    return Campaign.objects.filter(pk=OuterRef("campaign_id"), state=CampaignState.SENDING)


def _cancel_opted_out(
    message_ids: list[int], *, campaign_checked: bool = False, application_id: int | None = None
) -> set[int]:
    """After lost claims: cancel the messages that their recipients' opt-outs stopped (and not
    another worker or a pause); answers the ids cancelled.

    The same conditions as the claim with the list's test turned round, in one conditional
    UPDATE, so that a message claimed meanwhile, or a recipient who opted back in, is left
    alone. Cancelled, not failed: nothing went wrong, and it must not count towards a
    campaign's automatic pause.
    """
    refused = Message.objects.filter(
        pk__in=message_ids, state=MessageState.QUEUED, is_transactional=False
    )
    if not campaign_checked:
        refused = refused.filter(Q(is_test=True) | Exists(_sending()))
    refused = refused.filter(_opted_out(application_id))
    cancelled = update_returning_pks(
        refused,
        state=MessageState.CANCELLED,
        last_error=OPTED_OUT,
        error_retryable=False,
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    return set(cancelled)


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
    if not _claim([message_id]):
        if _cancel_opted_out([message_id]):
            return OPTED_OUT_CANCELLED
        return NOT_CLAIMED
    message = Message.objects.select_related("campaign__application").get(pk=message_id)
    outcome = _submit_claimed(message, grant=_Grant.ask(message, wanted=1))
    announce_answered([message_id])
    return outcome


# Most messages claimed by one statement, whose accepted calls are then settled by one: claiming
# and settling message by message was half a sending worker's time (py-spy). A round claims only
# as many messages as it holds rate-limiter tokens for, so under a low limit it shrinks to one or
# two. A worker lost mid-round leaves at most a round with an unknown outcome; an opt-out or a
# pause takes effect from the next round. A whole chunk (tasks.CHUNK): rounds of 20 sent 3% fewer
# messages a second than rounds of 50 (bench/send.py --unlimited 40000).
CLAIM_ROUND = 50


def _next_round(pending: list[Message]) -> list[Message]:
    """The next messages to claim together: up to CLAIM_ROUND at the head of the chunk, all of
    one application (one rate limiter)."""
    application_id = pending[0].campaign.application_id
    round_ = []
    for message in pending[:CLAIM_ROUND]:
        if message.campaign.application_id != application_id:
            break
        round_.append(message)
    return round_


def _campaigns_stopped(messages: list[Message]) -> set[int]:
    """The campaigns of these (non-test) messages that are no longer sending, read now."""
    campaign_ids = {message.campaign_id for message in messages if not message.is_test}
    sending = Campaign.objects.filter(pk__in=campaign_ids, state=CampaignState.SENDING)
    return campaign_ids - set(sending.values_list("pk", flat=True))


def messages_submit(*, message_ids: list[int]) -> dict[int, SubmitOutcome]:
    """Submit a chunk of queued messages, each at most once.

    Reading the chunk in one query and claiming it in rounds of CLAIM_ROUND, each round just
    before its calls, is what lets a worker keep pace with iLiveIt: a worker lost mid-chunk
    leaves at most a round with an unknown outcome, and a pause stops the chunk within
    CAMPAIGN_RECHECK_S or a round, whichever is longer.
    """
    # Each campaign (with its application) read once and shared by its messages. Joined to
    # every row, a campaign and an application were built for each message: loading a chunk of
    # 50 took 164-177 µs of CPU a message that way, 89-115 µs this way.
    with_campaign = Prefetch("campaign", queryset=Campaign.objects.select_related("application"))
    chunk = list(
        Message.objects.filter(pk__in=message_ids, state=MessageState.QUEUED)
        .prefetch_related(with_campaign)
        .order_by("id")
    )
    outcomes = dict.fromkeys(message_ids, NOT_CLAIMED)
    # A chunk can take seconds under a low rate limit: the campaign's state is looked at again
    # every CAMPAIGN_RECHECK_S, so that a pause or cancel stops it part-way.
    stopped: set[int] = set()
    recheck_at = time.monotonic() + CAMPAIGN_RECHECK_S
    later = _ChunkLater()
    pending = chunk
    try:
        while pending:
            if time.monotonic() >= recheck_at:
                recheck_at = time.monotonic() + CAMPAIGN_RECHECK_S
                stopped |= _campaigns_stopped(pending)
            pending = [
                message
                for message in pending
                if message.is_test
                or (
                    message.campaign.state == CampaignState.SENDING
                    and message.campaign_id not in stopped
                )
            ]
            if not pending:
                break
            round_ = _next_round(pending)
            grant = _Grant.ask(round_[0], wanted=len(round_))
            # With no token, one message is claimed all the same, to be handed back for later.
            claiming, pending = pending[: grant.taken or 1], pending[grant.taken or 1 :]
            outcomes.update(_claim_and_submit(claiming, grant, later))
    finally:
        later.settle_answered()
        portal_metrics.send_latencies_observe(later.latencies)
    return outcomes


def _claim_and_submit(
    messages: list[Message], grant: _Grant, later: _ChunkLater
) -> dict[int, SubmitOutcome]:
    """Settle the last round's accepted messages, claim this round's in one statement, then
    call iLiveIt for each one claimed."""
    ids = [message.pk for message in messages]
    checked = {"campaign_checked": True, "application_id": messages[0].campaign.application_id}
    # Two transactions, not one: two workers each holding the counter rows their settle moved
    # while their claims wait for each other's would deadlock.
    later.settle_answered()
    claimed = _claim(ids, **checked)
    outcomes = {}
    if len(claimed) < len(ids):
        refused = [pk for pk in ids if pk not in claimed]
        outcomes = dict.fromkeys(_cancel_opted_out(refused, **checked), OPTED_OUT_CANCELLED)
    grant.keep(len(claimed))
    for message in messages:
        if message.pk in claimed:
            message.state = MessageState.SUBMITTING
            message.attempts += 1
            outcomes[message.pk] = _submit_claimed(message, grant=grant, later=later)
            # Only claimed messages are answered; one refused for an opt-out made no call.
            later.called.append(message.pk)
    return outcomes


def _submit_claimed(
    message: Message, *, grant: _Grant, later: _ChunkLater | None = None
) -> SubmitOutcome:
    """Spend one of the grant's tokens, call iLiveIt and record the answer; an accepted
    message's answer is left to `later` when a chunk gives one (see _ChunkLater)."""
    application = message.campaign.application
    if not grant.taken:
        # Nothing was sent: hand the message back rather than leave it looking lost mid-call
        # (which would hold it for the whole reconciliation window).
        return _requeue(message, delay=grant.wait, error=grant.error, count_attempt=False)
    grant.taken -= 1

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
        _report_rate_limited(grant.limiter)
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

    accepted = _Accepted(message, iliveit_id, timezone.now())
    if later is None:
        _settle_accepted([accepted])
    else:
        later.accepted.append(accepted)
    return SubmitOutcome(state=MessageState.SUBMITTED)


# What settling an accepted message writes: its MessageID and when, and the end of any run of
# 429s; a one-time PIN's body and fields as well.
_SETTLED = ["state", "iliveit_id", "submitted_at", "last_error", "next_attempt_at", "updated_at"]
_SETTLED_PIN = [*_SETTLED, "body", "fields"]


def _settle_accepted(accepted: list[_Accepted]) -> None:
    """Settle messages iLiveIt accepted, with their MessageIDs, in one statement (two when some
    are one-time PINs), each only if still ours (see settle)."""
    now = timezone.now()
    plain, pins = [], []
    for item in accepted:
        message = item.message
        message.state = MessageState.SUBMITTED
        message.iliveit_id = item.iliveit_id
        message.submitted_at = item.at
        message.last_error = ""
        message.next_attempt_at = None
        message.updated_at = now
        message.rate_limited_since = None
        if message.campaign.is_otp:
            # A PIN must not outlive its sending: neither a body of its own, nor the fields
            # that were rendered into the campaign's content (its "{{ pin }}").
            message.body = message.fields = None
            pins.append(message)
        else:
            plain.append(message)
    ours = Q(state__in=AWAITING_ANSWER, iliveit_id__isnull=True)
    for group, fields in ((plain, _SETTLED), (pins, _SETTLED_PIN)):
        if not group:
            continue
        # The rows are locked in id order first, as a drain locks them: in whatever order the
        # UPDATE met them, a drain applying their first postbacks could deadlock with it.
        settled = rows_update(group, [*fields, *ANSWERED], where=ours, lock_in_order=True)
        if settled < len(group):
            # A postback on a message's own URL got there first and adopted its id.
            logger.info(
                "%d of %d accepted messages were settled by their postbacks before their submits",
                len(group) - settled,
                len(group),
            )


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
