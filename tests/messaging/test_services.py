"""The sending services, called inline against the sandbox over HTTP (no worker): claims,
failures, retries, campaign control, canary, auto-pause and OTP scrubbing."""

import json
import threading
import time
from datetime import timedelta

import pytest
import responses
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import Application, Campaign, CampaignState, Channel, Message, MessageState
from messaging.services import (
    NOT_CLAIMED,
    CampaignError,
    application_default,
    campaign_auto_pause,
    campaign_cancel,
    campaign_check_canary,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
    campaign_test_send,
    message_resend,
    message_send_single,
    message_submit,
    messages_sweep,
    retry_delay,
)
from postbacks.drain import postbacks_drain, postbacks_sweep
from postbacks.models import InboxKind
from postbacks.services import postback_apply, postback_store
from postbacks.sweep import portal_sweep
from tests.postbacks.bodies import status_body
from tests.support.threads import in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_workers(empty_task_queue):
    pass


@pytest.fixture
def application(sandbox_application):
    """The services are called inline, against the sandbox."""
    return sandbox_application


def campaign_with(application, recipients, channel=Channel.SMS, **fields) -> Campaign:
    defaults = {"body_text": "Hello", "subject": "Hi", "body_html": ""}
    campaign = Campaign.objects.create(
        name="Test", channel=channel, application=application, **{**defaults, **fields}
    )
    Message.objects.bulk_create(Message(campaign=campaign, recipient=r) for r in recipients)
    return campaign


def submit_all(campaign: Campaign) -> None:
    for message_id in campaign.messages.values_list("id", flat=True):
        message_submit(message_id=message_id)


def test_launch_queues_every_recipient_at_once(application):
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    assert set(campaign.messages.values_list("state", flat=True)) == {MessageState.QUEUED}


def test_launch_refuses_a_campaign_without_recipients(application):
    campaign = campaign_with(application, [])
    with pytest.raises(CampaignError, match="no recipients"):
        campaign_launch(campaign=campaign, user=None)


def test_launch_refuses_content_iliveit_would_refuse(application):
    campaign = campaign_with(application, ["a@example.com"], channel=Channel.EMAIL, subject="")
    with pytest.raises(CampaignError, match="subject: required"):
        campaign_launch(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert campaign.messages.get().state == MessageState.DRAFT


def test_launch_refuses_recipients_missing_a_field_and_queues_nothing(application):
    campaign = campaign_with(
        application, [], body_text='Hi {{ first_name }}, R{{ amount }} {{ city|default:"" }}'
    )
    rows = [
        ("27821000001", {"first_name": "A", "amount": "1"}),
        ("27821000002", {"amount": "2"}),
        ("27821000003", None),
    ]
    Message.objects.bulk_create(Message(campaign=campaign, recipient=r, fields=f) for r, f in rows)

    with pytest.raises(CampaignError) as refused:
        campaign_launch(campaign=campaign, user=None)

    assert str(refused.value) == (
        "Some recipients have no value for a placeholder: {{ amount }} has no fallback and 1 "
        "recipient has no amount: 27821000003; {{ first_name }} has no fallback and 2 "
        "recipients have no first_name: 27821000002, 27821000003. Give the placeholder a "
        'fallback, as in {{ amount|default:"…" }}, or give those recipients the field.'
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert set(campaign.messages.values_list("state", flat=True)) == {MessageState.DRAFT}


def test_launch_refuses_placeholders_that_do_not_compile_naming_the_field_and_line(application):
    # Saved past the compose form's check (the admin, an old campaign).
    campaign = campaign_with(application, ["27821000001"], body_text="Hi\n{{ name.upper }}")
    with pytest.raises(CampaignError, match=r"not ready to send: Text: Line 2: \{\{ name.upper"):
        campaign_launch(campaign=campaign, user=None)
    assert campaign.messages.get().state == MessageState.DRAFT


def test_content_that_is_only_a_placeholder_launches(application):
    campaign = campaign_with(application, [], body_text="{{ note }}")
    Message.objects.create(campaign=campaign, recipient="27821000001", fields={"note": "Hi"})
    campaign_launch(campaign=campaign, user=None)
    assert campaign.messages.get().state == MessageState.QUEUED


def test_a_launched_campaign_cannot_launch_again(application):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    with pytest.raises(CampaignError, match="sending campaign cannot launch"):
        campaign_launch(campaign=campaign, user=None)


def test_a_scheduled_launch_waits_for_its_time(application):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None, at=timezone.now() + timedelta(hours=1))
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED
    messages_sweep()
    assert campaign.messages.get().state == MessageState.DRAFT

    Campaign.objects.filter(pk=campaign.pk).update(launch_at=timezone.now())
    assert messages_sweep()["launched"] == 1
    assert campaign.messages.get().state == MessageState.QUEUED


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


def test_the_default_application_comes_from_the_settings_and_is_audited(db, settings):
    settings.ILIVEIT_ACCESS_TOKEN = "settings-token-1234"
    settings.ILIVEIT_MVNO_ID = 7

    application = application_default()

    assert (application.endpoint, application.mvno_id) == (settings.ILIVEIT_ENDPOINT, 7)
    created = AuditEntry.objects.get(action=AuditAction.APPLICATION_CREATE)
    assert (created.actor_name, created.detail["token_hint"]) == ("", "…1234")


def test_no_default_application_is_made_for_a_refused_endpoint(db, settings):
    settings.ILIVEIT_ACCESS_TOKEN = "settings-token-1234"
    settings.ILIVEIT_MVNO_ID = 7
    settings.ILIVEIT_ENDPOINT = "http://127.0.0.1:8765#"

    with pytest.raises(CampaignError, match="ILIVEIT_ENDPOINT is refused: it must not have"):
        application_default()

    assert not Application.objects.exists()


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


def test_a_timeout_after_sending_is_uncertain_and_never_blindly_resent(
    application, sandbox, settings
):
    settings.ILIVEIT_READ_TIMEOUT = 0.3
    sandbox.configure(slow_seconds=1.0)
    campaign = campaign_with(application, ["27000000005"])  # stored, answered slowly
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    assert message_submit(message_id=message.pk).state == MessageState.UNCERTAIN
    # The sweep does not re-queue it while its postback may still come...
    portal_sweep()
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    assert sandbox.submissions()["total"] == 1


def test_an_uncertain_message_with_no_postback_in_the_window_is_sent_again(
    application, sandbox, settings
):
    settings.RECONCILE_UNCERTAIN_AFTER_S = 1
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.UNCERTAIN, updated_at=timezone.now() - timedelta(seconds=5)
    )
    assert portal_sweep()["uncertain_requeued"] == 1
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED


def test_a_submission_whose_worker_died_becomes_uncertain(application, settings):
    settings.SUBMITTING_STALE_AFTER_S = 1
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SUBMITTING, updated_at=timezone.now() - timedelta(seconds=5)
    )
    assert messages_sweep()["stale_submitting"] == 1
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_comes_after_the_sweep_gave_the_call_up_is_still_recorded(
    application, sandbox, settings
):
    # The call outlives SUBMITTING_STALE_AFTER_S, so the sweep marks the message uncertain
    # while it is in flight; the MessageID that then comes back must not be thrown away, or
    # the reconciliation would later send the message a second time.
    settings.ILIVEIT_READ_TIMEOUT = 5.0
    settings.SUBMITTING_STALE_AFTER_S = 1
    settings.RECONCILE_UNCERTAIN_AFTER_S = 1
    sandbox.configure(slow_seconds=1.5)
    campaign = campaign_with(application, ["27000000005"])  # answered after 1.5 s
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    call = threading.Thread(target=message_submit, kwargs={"message_id": message.pk})
    call.start()
    time.sleep(1.1)
    assert portal_sweep()["stale_submitting"] == 1
    call.join()

    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert message.iliveit_id
    time.sleep(1.1)
    assert portal_sweep()["uncertain_requeued"] == 0
    assert sandbox.submissions()["total"] == 1


def test_the_sweep_hands_forgotten_queued_messages_back(application, settings):
    settings.SWEEP_QUEUED_AFTER_S = 1
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    Message.objects.update(updated_at=timezone.now() - timedelta(seconds=5))
    assert messages_sweep()["requeued"] == 2


def test_pause_stops_claims_and_resume_allows_them(application):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    campaign_pause(campaign=campaign, user=None)
    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    campaign_resume(campaign=campaign, user=None)
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED


def test_cancel_cancels_what_was_not_submitted(application):
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    first = campaign.messages.order_by("id").first()
    message_submit(message_id=first.pk)
    campaign_cancel(campaign=campaign, user=None)
    states = dict(campaign.messages.values_list("recipient", "state"))
    assert states == {"27821000001": MessageState.SUBMITTED, "27821000002": MessageState.CANCELLED}
    with pytest.raises(CampaignError, match="already cancelled"):
        campaign_cancel(campaign=campaign, user=None)


def test_retry_failed_requeues_only_temporary_failures(application):
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None)
    first, second, third = campaign.messages.order_by("id")
    Message.objects.filter(pk=first.pk).update(state=MessageState.FAILED, error_retryable=True)
    Message.objects.filter(pk=second.pk).update(state=MessageState.FAILED, error_retryable=False)
    Message.objects.filter(pk=third.pk).update(
        state=MessageState.FAILED, error_retryable=True, iliveit_id="accepted-then-failed"
    )
    assert campaign_retry_failed(campaign=campaign, user=None) == 1
    assert Message.objects.get(pk=first.pk).state == MessageState.QUEUED
    assert Message.objects.get(pk=second.pk).state == MessageState.FAILED


def test_a_high_failure_rate_pauses_the_campaign(application, settings):
    settings.AUTO_PAUSE_MIN_MESSAGES = 5
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    application.mvno_id = 999  # every submission answers 400
    application.save()
    campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(10)])
    campaign_launch(campaign=campaign, user=None)
    submit_all(campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "failed" in campaign.paused_reason
    assert campaign.messages.filter(state=MessageState.FAILED).count() == 5
    assert campaign.messages.filter(state=MessageState.QUEUED).count() == 5


def _set_states(campaign: Campaign, **counts: int) -> None:
    """Move the campaign's queued messages, in id order, into the given states."""
    ids = list(campaign.messages.order_by("id").values_list("id", flat=True))
    for state, n in counts.items():
        Message.objects.filter(pk__in=ids[:n]).update(state=state)
        ids = ids[n:]


def test_auto_pause_judges_the_failure_rate_on_final_outcomes_while_sending(application, settings):
    settings.AUTO_PAUSE_MIN_MESSAGES = 4
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(20)])
    campaign_launch(campaign=campaign, user=None)
    # Six on their way with no report yet must not dilute the four that failed.
    _set_states(campaign, submitted=6, failed=4)

    assert campaign_auto_pause(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert campaign.paused_reason == (
        "Paused automatically: 4 of the 4 messages with a final outcome failed "
        "(100%, the limit is 50%)."
    )
    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_PAUSE)
    assert str(entry).endswith(f"portal campaign.pause {campaign}")
    assert entry.detail == {"reason": campaign.paused_reason}


def test_auto_pause_leaves_a_campaign_with_nothing_left_to_send_to_finish(application, settings):
    settings.AUTO_PAUSE_MIN_MESSAGES = 4
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(10)])
    campaign_launch(campaign=campaign, user=None)
    _set_states(campaign, delivered=4, failed=6)

    assert not campaign_auto_pause(campaign_id=campaign.pk)
    messages_sweep()

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE


def test_a_paused_campaign_with_nothing_left_to_send_finishes(application):
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    _set_states(campaign, queued=1, submitted=1)
    campaign_pause(campaign=campaign, user=None, reason="Checking the copy")
    messages_sweep()
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.PAUSED

    _set_states(campaign, submitted=1)
    messages_sweep()

    campaign.refresh_from_db()
    assert (campaign.state, campaign.paused_reason) == (CampaignState.DONE, "")


def test_a_test_send_goes_out_before_launch_and_stays_out_of_the_counts(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    test = campaign_test_send(campaign=campaign, recipient="27829999999", user=None)
    assert message_submit(message_id=test.pk).state == MessageState.SUBMITTED
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert campaign.messages.filter(is_test=False).get().state == MessageState.DRAFT


def test_a_canary_without_delivery_reports_is_judged_when_its_wait_is_over(application, settings):
    settings.CANARY_WAIT_S = 60
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None, canary_size=2, canary_min_success=0.5)
    Message.objects.filter(state=MessageState.QUEUED).update(state=MessageState.SENT)
    campaign.refresh_from_db()
    assert campaign_check_canary(campaign=campaign) == "waiting"

    Campaign.objects.filter(pk=campaign.pk).update(
        launched_at=timezone.now() - timedelta(seconds=61)
    )
    campaign.refresh_from_db()
    assert campaign_check_canary(campaign=campaign) == "failed"
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "Canary delivered 0%" in campaign.paused_reason


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


def test_an_otp_campaigns_content_is_erased_when_it_is_done(application):
    campaign = campaign_with(application, ["27821000001"], is_otp=True, body_text="PIN 4321")
    campaign_launch(campaign=campaign, user=None)
    submit_all(campaign)
    assert messages_sweep()["finished"] == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE
    assert campaign.body_text == ""


@pytest.mark.django_db(transaction=True)
class TestWithPostbacks:
    """Cases that need iLiveIt's postbacks to reach the portal's live server."""

    @pytest.fixture(autouse=True)
    def _portal(self, live_server, settings):
        settings.PORTAL_BASE_URL = live_server.url

    def wait_for(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            postbacks_drain()  # what a worker does with the postbacks the webhook stored
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError("not in time")

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

    def test_delivery_failures_reported_by_postbacks_pause_the_campaign(
        self, application, sandbox, settings
    ):
        settings.AUTO_PAUSE_MIN_MESSAGES = 3
        settings.AUTO_PAUSE_FAILURE_RATE = 0.5
        # Sandbox numbers that fail after acceptance: delivery, network, no network, invalid.
        failing = ["27000000001", "27000000006", "27000000007", "27000000014"]
        campaign = campaign_with(application, [*failing, "27821000001", "27821000002"])
        campaign_launch(campaign=campaign, user=None)
        first_four = list(campaign.messages.order_by("id").values_list("id", flat=True)[:4])
        for message_id in first_four:
            message_submit(message_id=message_id)
        self.wait_for(lambda: Campaign.objects.get(pk=campaign.pk).state == CampaignState.PAUSED)
        campaign.refresh_from_db()
        assert "failed" in campaign.paused_reason
        assert campaign.messages.filter(state=MessageState.QUEUED).count() == 2

    def test_a_canary_that_delivers_releases_the_rest(self, application, sandbox):
        campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(8)])
        campaign_launch(campaign=campaign, user=None, canary_size=3, canary_min_success=0.9)
        assert campaign.messages.filter(state=MessageState.QUEUED).count() == 3
        submit_all(campaign)
        self.wait_for(lambda: campaign.messages.filter(state=MessageState.DELIVERED).count() == 3)
        messages_sweep()
        campaign.refresh_from_db()
        assert campaign.canary_released_at is not None
        assert campaign.messages.filter(state=MessageState.QUEUED).count() == 5

    def test_a_canary_that_fails_pauses_the_campaign(self, application, sandbox):
        # 27000000001 fails delivery: one of three is 33%, under the 90% asked for.
        campaign = campaign_with(
            application, ["27000000001", "27821000002", "27821000003", "27821000004"]
        )
        campaign_launch(campaign=campaign, user=None, canary_size=3, canary_min_success=0.9)
        submit_all(campaign)
        self.wait_for(
            lambda: (
                campaign.messages.filter(
                    state__in=[MessageState.DELIVERED, MessageState.FAILED]
                ).count()
                == 3
            )
        )
        messages_sweep()
        campaign.refresh_from_db()
        assert campaign.state == CampaignState.PAUSED
        assert "Canary delivered 67%" in campaign.paused_reason
        assert campaign.messages.filter(state=MessageState.DRAFT).count() == 1


# --- resending one message ------------------------------------------------------------------


def sent_and_archived(application, recipient="27821000001", **fields) -> Message:
    campaign = campaign_with(application, [recipient], **fields)
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    message_submit(message_id=message.pk)
    message.refresh_from_db()
    return message


def wait_archived(sandbox, iliveit_id: str) -> None:
    deadline = time.monotonic() + 10
    while sandbox.message(iliveit_id)["status"]["archive_status"] != 4:
        assert time.monotonic() < deadline, "the sandbox did not archive it"
        time.sleep(0.05)


def test_a_resend_is_a_new_message_linked_to_the_original(application, sandbox):
    original = sent_and_archived(application)
    wait_archived(sandbox, original.iliveit_id)

    copy = message_resend(message=original, user=None)

    assert copy.pk != original.pk
    assert (copy.resent_from, copy.recipient, copy.campaign) == (
        original,
        original.recipient,
        original.campaign,
    )
    assert copy.state == MessageState.SUBMITTED
    assert copy.iliveit_id.startswith(original.iliveit_id)
    assert copy.iliveit_id != original.iliveit_id
    assert sandbox.message(copy.iliveit_id)["recipient"] == original.recipient
    assert list(original.resends.all()) == [copy]


def test_an_email_is_resent_to_its_address(application, sandbox):
    original = sent_and_archived(application, "ann@example.com", channel=Channel.EMAIL)
    wait_archived(sandbox, original.iliveit_id)

    copy = message_resend(message=original, user=None)

    assert sandbox.message(copy.iliveit_id)["recipient"] == "ann@example.com"


def test_a_message_not_yet_archived_is_refused_and_the_attempt_kept(application, sandbox):
    sandbox.configure(step_seconds=60)
    original = sent_and_archived(application)

    with pytest.raises(CampaignError, match="refused the resend"):
        message_resend(message=original, user=None)

    attempt = original.resends.get()
    assert attempt.state == MessageState.FAILED
    assert "archived" in attempt.last_error


def test_a_resend_through_a_refused_endpoint_is_refused_before_anything_is_made(application):
    campaign = campaign_with(application, ["27821000001"])
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(iliveit_id="MSG-1", state=MessageState.SENT)
    application.endpoint = "https://localhost:9"
    application.save()
    message = Message.objects.select_related("campaign__application").get(pk=message.pk)

    with pytest.raises(CampaignError, match="must be on an iLiveIt host"):
        message_resend(message=message, user=None)

    assert not Message.objects.filter(resent_from__isnull=False).exists()


def test_a_message_iliveit_never_accepted_cannot_be_resent(application):
    campaign = campaign_with(application, ["27821000001"])

    with pytest.raises(CampaignError, match="nothing to resend"):
        message_resend(message=campaign.messages.get(), user=None)
    assert not Message.objects.filter(resent_from__isnull=False).exists()


def test_a_one_time_pin_cannot_be_resent(application):
    campaign = campaign_with(application, ["27821000001"], is_otp=True)
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(iliveit_id="MSG-OTP", state=MessageState.SENT)
    message.refresh_from_db()

    with pytest.raises(CampaignError, match="One-time PINs"):
        message_resend(message=message, user=None)


# --- unknown outcomes and postbacks the drains have not reached --------------------------------


def uncertain_for_a_while(application) -> Message:
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    long_ago = timezone.now() - timedelta(hours=2)
    Message.objects.filter(pk=message.pk).update(state=MessageState.UNCERTAIN, updated_at=long_ago)
    return message


def test_an_unknown_outcome_with_nothing_heard_is_queued_again(application):
    message = uncertain_for_a_while(application)

    portal_sweep()

    message.refresh_from_db()
    assert message.state == MessageState.QUEUED


def test_a_postback_stored_but_not_yet_applied_keeps_it_from_being_sent_again(application):
    message = uncertain_for_a_while(application)
    # Stored by the webhook (by its URL's ref alone); no drain has run yet.
    row = postback_store(
        ref=message.ref,
        kind=InboxKind.STATUS,
        body=b"{}",
        truncated=False,
        headers={},
        source_ip=None,
    )

    portal_sweep()

    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    row.refresh_from_db()
    assert row.message_id == message.pk


# --- single sends --------------------------------------------------------------------------------


def send_one(application, channel=Channel.SMS, campaign_name="", recipient="27821000001"):
    content = {"body_text": "Hi", "subject": "Hi"}
    return message_send_single(
        application=application,
        channel=channel,
        recipient=recipient if channel == Channel.SMS else "a@example.com",
        content=content,
        campaign_name=campaign_name,
        enqueue=False,
    )


def test_single_sends_share_one_campaign_even_after_it_had_nothing_left(application):
    first = send_one(application)
    message_submit(message_id=first.pk)
    messages_sweep()  # nothing left to send: an ordinary campaign would be done now

    second = send_one(application)

    assert second.campaign == first.campaign
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.state) == ("Single sends", CampaignState.SENDING)
    assert message_submit(message_id=second.pk).state == MessageState.SUBMITTED


def test_single_sends_have_one_campaign_per_application_and_channel(application):
    other = Application.objects.create(
        name="Other", endpoint=application.endpoint, token="other-token", mvno_id=9
    )
    sms = send_one(application)
    email = send_one(application, Channel.EMAIL)
    elsewhere = send_one(other)

    assert len({sms.campaign_id, email.campaign_id, elsewhere.campaign_id}) == 3
    assert send_one(application).campaign == sms.campaign
    assert send_one(application, Channel.EMAIL).campaign == email.campaign
    assert send_one(other).campaign == elsewhere.campaign


def test_a_named_single_send_never_files_under_an_ordinary_campaign_of_that_name(application):
    ordinary = [
        Campaign.objects.create(
            name="Welcome", channel=Channel.SMS, application=application, state=state
        )
        for state in (CampaignState.SENDING, CampaignState.SENDING, CampaignState.DONE)
    ]

    first = send_one(application, campaign_name="Welcome")
    second = send_one(application, campaign_name="Welcome")

    assert first.campaign == second.campaign
    assert first.campaign not in ordinary
    assert first.campaign.is_single_sends
    assert not any(campaign.messages.exists() for campaign in ordinary)


def test_a_paused_single_sends_campaign_refuses_sends_until_resumed(application):
    campaign = send_one(application).campaign
    campaign_pause(campaign=campaign, user=None)

    with pytest.raises(CampaignError, match="paused"):
        send_one(application)

    campaign_resume(campaign=campaign, user=None)
    assert send_one(application).campaign == campaign
    assert Campaign.objects.count() == 1


def test_single_sends_cannot_be_cancelled_for_good(application):
    campaign = send_one(application).campaign

    with pytest.raises(CampaignError, match="pause"):
        campaign_cancel(campaign=campaign, user=None)

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING


# --- races between workers (PostgreSQL: SQLite lets one writer in at a time) ---------------------

needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the database",
)


def in_open_transaction(work, *, hold_s: float = 0.5) -> threading.Thread:
    """Run `work` in a thread inside a transaction that stays open for `hold_s` after it: the
    moment in which another worker's write is made but not yet committed."""
    done = threading.Event()

    def run():
        try:
            with transaction.atomic():
                work()
                done.set()
                time.sleep(hold_s)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert done.wait(10)
    return thread


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


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_a_postback_that_settles_an_unknown_outcome_during_the_sweep_keeps_it_sent(application):
    message = uncertain_for_a_while(application)
    submitted = (1, "Submitted", timezone.now())
    body = status_body("f" * 32, "submit", stages={"submit": submitted})

    def postback_arrives():
        row = postback_store(
            message=message,
            kind=InboxKind.STATUS,
            body=json.dumps(body).encode(),
            truncated=False,
            headers={},
            source_ip=None,
        )
        postback_apply(inbox_id=row.pk)

    adopting = in_open_transaction(postback_arrives)
    messages_sweep()
    adopting.join()

    message.refresh_from_db()
    assert message.iliveit_id == "f" * 32
    assert message.state == MessageState.SUBMITTED


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_single_sends_at_the_same_moment_share_one_campaign(application):
    # Each thread finds no campaign yet and creates one; all but one must lose and use it.
    def send(number):
        with transaction.atomic():
            send_one(application, campaign_name="Burst", recipient=f"2782100{number:04d}")

    errors = in_threads(range(24), send)

    assert errors == []
    campaign = Campaign.objects.get()
    assert campaign.messages.count() == 24
    assert campaign.name == "Burst"
