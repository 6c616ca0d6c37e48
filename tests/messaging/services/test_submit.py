"""Submitting queued messages (messaging/services/submit.py), called inline against the sandbox
over HTTP: claims (a message is sent at most once), the postback URL each submission carries,
failures, 429s and 5xx with their back-off, an OTP's body erased once submitted, and an
uncertain submission settled by the postback it brings."""

import threading
import time
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.utils import timezone

from messaging.counting import campaign_counts
from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.optouts import opt_out_remove
from messaging.services import (
    NOT_CLAIMED,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
    message_send_single,
    message_submit,
    messages_submit,
    messages_sweep,
    retry_delay,
)
from messaging.services.submit import CLAIM_ROUND
from postbacks.drain import postbacks_sweep
from tests.messaging.services.helpers import (
    WithPostbacks,
    campaign_with,
    in_open_transaction,
    needs_row_locks,
    opt_out,
    submit_all,
)

pytestmark = pytest.mark.django_db


def test_a_message_is_submitted_once_however_often_its_task_runs(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED
    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    message.refresh_from_db()
    assert message.iliveit_id
    assert sandbox.submissions()["total"] == 1


def test_every_submission_carries_its_own_postback_url_and_all_five_types(
    application, sandbox, settings
):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    submit_all(campaign)
    urls = set()
    for message in campaign.messages.all():
        record = sandbox.message(message.iliveit_id)
        assert record["postback_status_url"].startswith(
            f"https://portal.example.com/postbacks/status/{message.ref}/"
        )
        assert set(record["postback_status_types"]) == {
            "build",
            "submit",
            "archive",
            "sent",
            "delivery",
        }
        urls.add(record["postback_status_url"])
    assert len(urls) == 2


def test_a_400_fails_the_message_at_once_with_the_apis_reason(application):
    application.mvno_id = 999
    application.save()
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    assert message_submit(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert "MVNOID" in message.last_error
    assert not message.error_retryable
    assert message.attempts == 1


def test_an_endpoint_that_would_leak_the_token_fails_the_message_with_the_reason(
    application, postback_receiver
):
    # Written past the admin's check (a row from before the rule, or the shell).
    application.endpoint = f"http://127.0.0.1:{postback_receiver.port}/internal#"
    application.save()
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()

    assert message_submit(message_id=message.pk).state == MessageState.FAILED

    message.refresh_from_db()
    assert "must not have a query (?) or a fragment (#)" in message.last_error
    # Once the endpoint is corrected, "Retry failed" sends it.
    assert message.error_retryable
    assert postback_receiver.posts == []


def test_a_429_backs_off_without_spending_an_attempt(application):
    campaign = campaign_with(application, ["27000000010"])  # the sandbox's always-429 number
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    outcome = message_submit(message_id=message.pk)
    assert outcome.state == MessageState.QUEUED
    assert outcome.retry_in > 0
    message.refresh_from_db()
    assert message.attempts == 0
    assert message.next_attempt_at > timezone.now()
    assert "Maximum messages per second exceeded" in message.last_error


def test_a_recipient_iliveit_always_rate_limits_backs_off_then_fails_and_can_be_retried(
    application, sandbox, settings
):
    settings.SUBMIT_RETRY_BASE_S = 1
    settings.SUBMIT_RATE_LIMITED_GIVE_UP_S = 3600
    campaign = campaign_with(application, ["27000000010"])  # the sandbox's always-429 number
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()

    delays = [message_submit(message_id=message.pk).retry_in for _ in range(4)]

    # Full jitter between half of and the whole of 1, 2, 4 and 8 s.
    for delay, ceiling in zip(delays, [1, 2, 4, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    message.refresh_from_db()
    assert (message.state, message.rate_limited_count, message.attempts) == ("queued", 4, 0)
    # An hour of nothing but 429s later, the message ends and its campaign can finish.
    Message.objects.filter(pk=message.pk).update(
        rate_limited_since=timezone.now() - timedelta(minutes=61)
    )
    assert message_submit(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert message.last_error.startswith(
        "iLiveIt answered 429 (rate limited) to all 5 tries over 61 min"
    )
    messages_sweep()
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.DONE
    assert sandbox.submissions()["total"] == 0

    assert campaign_retry_failed(campaign=campaign, user=None) == 1
    message.refresh_from_db()
    assert (message.state, message.rate_limited_since) == (MessageState.QUEUED, None)
    assert message_submit(message_id=message.pk).state == MessageState.QUEUED
    assert Message.objects.get(pk=message.pk).rate_limited_count == 6


def test_another_answer_ends_a_run_of_429s(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(
        rate_limited_count=3, rate_limited_since=timezone.now() - timedelta(minutes=30)
    )

    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED

    message.refresh_from_db()
    assert (message.rate_limited_count, message.rate_limited_since) == (3, None)


@responses.activate
def test_a_429_honours_retry_after(application):
    # The sandbox's 429s carry no Retry-After; iLiveIt's front end may send one.
    responses.post(
        f"{application.endpoint}/message/send",
        status=429,
        json={"Status": 5, "Error": "Maximum messages per second exceeded"},
        headers={"Retry-After": "30"},
    )
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()

    outcome = message_submit(message_id=message.pk)

    assert outcome.retry_in == 30
    message.refresh_from_db()
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=29)


def test_a_5xx_retries_with_growing_back_off_then_fails_with_the_reason(application, settings):
    settings.SUBMIT_MAX_ATTEMPTS = 3
    campaign = campaign_with(application, ["27000000004"])  # the sandbox's 500 number
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    delays = []
    for _ in range(2):
        outcome = message_submit(message_id=message.pk)
        assert outcome.state == MessageState.QUEUED
        delays.append(outcome.retry_in)
    assert message_submit(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert "gave up after 3 attempts" in message.last_error
    assert "Internal server error" in message.last_error
    assert message.error_retryable


def test_an_unreachable_rate_limiter_hands_the_message_back_unsent(application, sandbox, settings):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    message = campaign.messages.get()
    outcome = message_submit(message_id=message.pk)
    assert outcome.state == MessageState.QUEUED
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED
    assert message.attempts == 0
    assert "rate limiter unavailable" in message.last_error
    assert sandbox.submissions()["total"] == 0


def test_back_off_grows_exponentially_with_jitter(settings):
    settings.SUBMIT_RETRY_BASE_S = 1.0
    settings.SUBMIT_RETRY_MAX_S = 60.0
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (8, 60), (20, 60)]:
        delays = {retry_delay(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1


def test_an_otp_body_is_erased_once_submitted(application, sandbox):
    # An admin marks a single-sends campaign as one-time PINs; the sends named after it follow.
    campaign = Campaign.objects.create(
        name="OTP",
        channel=Channel.SMS,
        application=application,
        state=CampaignState.SENDING,
        is_otp=True,
        is_single_sends=True,
    )
    message = message_send_single(
        application=application,
        channel=Channel.SMS,
        recipient="27821000001",
        content={"body_text": "Your PIN is 123456"},
        campaign_name="OTP",
    )
    assert message.campaign == campaign
    message_submit(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert message.body is None
    assert sandbox.message(message.iliveit_id)["request"]["Data"]["text"] == "Your PIN is 123456"


@pytest.mark.django_db(transaction=True)
class TestWithPostbacks(WithPostbacks):
    """Cases that need iLiveIt's postbacks to reach the portal's live server."""

    def test_an_uncertain_submission_adopts_the_message_id_its_postback_brings(
        self, application, sandbox, settings
    ):
        settings.ILIVEIT_READ_TIMEOUT = 0.3
        sandbox.configure(slow_seconds=1.5)
        campaign = campaign_with(application, ["27000000005"])
        campaign_launch(campaign=campaign, user=None)
        message = campaign.messages.get()
        message_submit(message_id=message.pk)

        def settled():
            messages_sweep()
            postbacks_sweep(older_than_s=0)
            message.refresh_from_db()
            return message.state == MessageState.DELIVERED

        self.wait_for(settled)
        assert sandbox.message(message.iliveit_id)["recipient"] == "27000000005"
        assert sandbox.submissions()["total"] == 1


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_a_claim_that_waits_on_another_workers_claim_does_not_send_again(application, sandbox):
    # Both tasks of a message read it queued; the second then waits on the first's row lock.
    # Once the first commits, the second must see the message taken (it once sent it again).
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    first = in_open_transaction(lambda: message_submit(message_id=message.pk))

    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    first.join()

    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SUBMITTED, 1)
    assert sandbox.submissions()["total"] == 1


# --- the opt-out list ------------------------------------------------------------------------


def submit_one(campaign):
    return message_submit(message_id=campaign.messages.get().pk)


def test_a_recipient_who_opted_out_after_the_import_is_cancelled_not_sent(application, sandbox):
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    opt_out(application, "27821000002")

    outcomes = messages_submit(message_ids=list(campaign.messages.values_list("id", flat=True)))

    states = dict(campaign.messages.values_list("recipient", "state"))
    assert states == {"27821000001": MessageState.SUBMITTED, "27821000002": MessageState.CANCELLED}
    refused = campaign.messages.get(recipient="27821000002")
    assert (refused.last_error, refused.attempts, refused.iliveit_id) == ("opted out", 0, None)
    assert outcomes[refused.pk].state == MessageState.CANCELLED
    assert sandbox.submissions()["total"] == 1
    # Cancelled, not failed: nothing for the failure rate or Retry failed.
    assert campaign_counts(campaign_id=campaign.pk)[MessageState.FAILED] == 0


def test_one_message_submitted_on_its_own_checks_the_list_too(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    opt_out(application, "27821000001")
    message = campaign.messages.get()

    assert message_submit(message_id=message.pk).state == MessageState.CANCELLED

    message.refresh_from_db()
    assert (message.state, message.last_error) == (MessageState.CANCELLED, "opted out")
    assert sandbox.submissions()["total"] == 0


def test_an_opt_out_of_another_application_does_not_stop_a_message(application, sandbox):
    other = Application.objects.create(
        name="Other", endpoint=application.endpoint, token="other-token", mvno_id=9
    )
    opt_out(other, "27821000001")
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)

    assert submit_one(campaign).state == MessageState.SUBMITTED


def test_an_opted_out_message_of_a_paused_campaign_waits_for_the_resume(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    campaign_pause(campaign=campaign, user=None)
    opt_out(application, "27821000001")

    assert submit_one(campaign) == NOT_CLAIMED
    assert campaign.messages.get().state == MessageState.QUEUED

    campaign_resume(campaign=campaign, user=None)
    assert submit_one(campaign).state == MessageState.CANCELLED


def test_a_recipient_who_opted_back_in_is_sent_again(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    opt_out_remove(opt_out=opt_out(application, "27821000001"), reason="START")

    assert submit_one(campaign).state == MessageState.SUBMITTED


def _opt_out_during_the_first_call(application, slow: Message, recipient: str) -> threading.Thread:
    """A thread that opts `recipient` out as soon as the chunk has claimed `slow`, whose call
    the sandbox answers after a second."""

    def opt_out_then():
        try:
            deadline = time.monotonic() + 10
            while not Message.objects.filter(pk=slow.pk, state=MessageState.SUBMITTING).exists():
                assert time.monotonic() < deadline, "the chunk never claimed its first message"
                time.sleep(0.01)
            opt_out(application, recipient)
        finally:
            connection.close()

    thread = threading.Thread(target=opt_out_then)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_an_opt_out_committed_while_a_chunk_runs_stops_its_later_rounds(application, sandbox):
    # The chunk is read at its start, while the recipient is still allowed; the opt-out commits
    # while the first round's slow call is in flight. The recipient's message is in the next
    # round, whose claim must see it; the first round's were already on their way.
    sandbox.configure(slow_seconds=1.0)
    first_round = ["27000000005", *(f"2782100{n:04d}" for n in range(1, CLAIM_ROUND))]
    campaign = campaign_with(application, [*first_round, "27831000002"])
    campaign_launch(campaign=campaign, user=None)
    messages = list(campaign.messages.order_by("id"))
    later = messages[-1]

    thread = _opt_out_during_the_first_call(application, messages[0], "27831000002")
    outcomes = messages_submit(message_ids=[message.pk for message in messages])
    thread.join()

    assert {outcomes[message.pk].state for message in messages[:-1]} == {MessageState.SUBMITTED}
    later.refresh_from_db()
    assert (later.state, later.last_error) == (MessageState.CANCELLED, "opted out")
    assert sandbox.submissions()["total"] == CLAIM_ROUND


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_under_a_low_rate_limit_a_round_is_one_message_so_an_opt_out_stops_the_next(
    application, sandbox
):
    # At 4 messages a second the bucket holds one token: each round claims one message, so an
    # opt-out committed during one call stops the very next message.
    Application.objects.filter(pk=application.pk).update(rate_limit=4)
    sandbox.configure(slow_seconds=1.0)
    campaign = campaign_with(application, ["27000000005", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    slow, later = campaign.messages.order_by("id")

    thread = _opt_out_during_the_first_call(application, slow, "27821000002")
    outcomes = messages_submit(message_ids=[slow.pk, later.pk])
    thread.join()

    assert outcomes[slow.pk].state == MessageState.SUBMITTED
    assert outcomes[later.pk].state == MessageState.CANCELLED
    assert sandbox.submissions()["total"] == 1
