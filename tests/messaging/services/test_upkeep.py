"""Keeping campaigns moving (messaging/services/upkeep.py): messaging's steps of the sweep
(scheduled launches, submissions whose worker died, forgotten queued messages, finishing
campaigns and erasing an OTP campaign's content), the automatic pause and the canary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import (
    Campaign,
    CampaignState,
    Message,
    MessageState,
)
from messaging.services import (
    campaign_auto_pause,
    campaign_check_canary,
    campaign_launch,
    campaign_pause,
    message_submit,
    messages_sweep,
)
from tests.messaging.services.helpers import (
    WithPostbacks,
    campaign_with,
    opt_out,
    submit_all,
)

pytestmark = pytest.mark.django_db


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


def test_the_sweep_hands_forgotten_queued_messages_back(application, settings):
    settings.SWEEP_QUEUED_AFTER_S = 1
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    Message.objects.update(updated_at=timezone.now() - timedelta(seconds=5))
    assert messages_sweep()["requeued"] == 2


def test_a_campaign_still_submitting_keeps_its_queued_messages_in_their_hints(
    application, settings
):
    # 20,000 messages at 100/s wait up to 200 s in their queued chunks: not forgotten.
    settings.SWEEP_QUEUED_AFTER_S = 60
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None)
    first, *waiting = campaign.messages.order_by("id")
    message_submit(message_id=first.pk)
    long_ago = timezone.now() - timedelta(seconds=90)
    Message.objects.filter(pk__in=[m.pk for m in waiting]).update(updated_at=long_ago)

    assert messages_sweep()["requeued"] == 0

    # Once nothing of it has been submitted for as long, its queued messages are handed back.
    Message.objects.filter(pk=first.pk).update(updated_at=long_ago)
    assert messages_sweep()["requeued"] == 2


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


def test_a_canary_paused_by_hand_while_the_sweep_judges_it_stops_nothing(application, settings):
    settings.CANARY_WAIT_S = 0
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None, canary_size=2, canary_min_success=0.5)
    Message.objects.filter(state=MessageState.QUEUED).update(state=MessageState.FAILED)
    campaign.refresh_from_db()  # as the sweep listed it: still sending
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.PAUSED, paused_reason="Checking the list"
    )

    assert campaign_check_canary(campaign=campaign) == "waiting"
    campaign.refresh_from_db()
    assert (campaign.state, campaign.paused_reason) == (CampaignState.PAUSED, "Checking the list")


def test_an_otp_campaigns_content_is_erased_when_it_is_done(application):
    campaign = campaign_with(application, ["27821000001"], is_otp=True, body_text="PIN 4321")
    campaign_launch(campaign=campaign, user=None)
    submit_all(campaign)
    assert messages_sweep()["finished"] == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE
    assert campaign.body_text == ""


@pytest.mark.django_db(transaction=True)
class TestWithPostbacks(WithPostbacks):
    """Cases that need iLiveIt's postbacks to reach the portal's live server."""

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


# --- the opt-out list ------------------------------------------------------------------------


def test_a_canary_message_refused_for_an_opt_out_does_not_hold_the_canary(application, sandbox):
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None, canary_size=2, canary_min_success=0.5)
    opt_out(application, "27821000001")
    for message in campaign.messages.filter(state=MessageState.QUEUED):
        message_submit(message_id=message.pk)
    campaign.messages.filter(state=MessageState.SUBMITTED).update(state=MessageState.DELIVERED)
    campaign.refresh_from_db()

    assert campaign_check_canary(campaign=campaign) == "released"
