"""Where a canary stands (messaging/canary.py): delivered against the share needed, when it
was released, or why it is held."""

from datetime import timedelta

import pytest

from messaging.canary import HELD, PLANNED, RELEASED, STOPPED, WAITING, canary_status
from messaging.models import Campaign, CampaignState, MessageState
from messaging.services import campaign_cancel, campaign_check_canary, campaign_launch
from messaging.states import OPTED_OUT
from tests.messaging.services.helpers import campaign_with

pytestmark = pytest.mark.django_db

RECIPIENTS = [f"2782100{n:04d}" for n in range(5)]


def launched_canary(application, *, size=2, share=0.9) -> Campaign:
    campaign = campaign_with(application, RECIPIENTS)
    campaign_launch(campaign=campaign, user=None, canary_size=size, canary_min_success=share)
    campaign.refresh_from_db()
    return campaign


def canary_outcomes(campaign, *states) -> None:
    for message, state in zip(
        campaign.messages.exclude(state=MessageState.DRAFT).order_by("id"), states, strict=True
    ):
        message.state = state
        message.save(update_fields=["state"])


def test_a_campaign_without_a_canary_has_no_canary_status(application):
    campaign = campaign_with(application, RECIPIENTS)
    campaign_launch(campaign=campaign, user=None)

    assert canary_status(campaign) is None


def test_a_scheduled_canary_says_how_many_it_holds_back(application):
    campaign = campaign_with(application, RECIPIENTS, state=CampaignState.SCHEDULED)
    campaign.canary_size = 2
    campaign.save()

    status = canary_status(campaign)

    assert (status.state, status.size, status.rest) == (PLANNED, 2, 3)


def test_a_waiting_canary_counts_its_delivered_against_the_share_needed(application, settings):
    settings.CANARY_WAIT_S = 600
    campaign = launched_canary(application)
    canary_outcomes(campaign, MessageState.DELIVERED, MessageState.SENT)

    status = canary_status(campaign)

    assert status.state == WAITING
    assert (status.delivered, status.messages, status.needed) == (1, 2, 2)
    assert (status.awaiting, status.rest) == (1, 3)
    assert status.judged_by == campaign.launched_at + timedelta(seconds=600)


def test_a_released_canary_keeps_what_it_was_judged_on(application):
    campaign = launched_canary(application, size=3, share=0.6)
    canary_outcomes(campaign, MessageState.DELIVERED, MessageState.DELIVERED, MessageState.FAILED)
    assert campaign_check_canary(campaign=campaign) == "released"
    # Once released the rest moves on, and the canary's figures must not move with it.
    campaign.messages.update(state=MessageState.DELIVERED)
    campaign.refresh_from_db()

    status = canary_status(campaign)

    assert status.state == RELEASED
    assert (status.delivered, status.messages, status.needed) == (2, 3, 2)
    assert status.released_at == campaign.canary_released_at


def test_a_held_canary_says_why(application):
    campaign = launched_canary(application, size=2, share=0.9)
    canary_outcomes(campaign, MessageState.DELIVERED, MessageState.FAILED)
    assert campaign_check_canary(campaign=campaign) == "failed"
    campaign.refresh_from_db()

    status = canary_status(campaign)

    assert status.state == HELD
    assert (status.delivered, status.messages, status.rest) == (1, 2, 3)
    assert "Canary delivered 50%, below the 90% needed." in status.reason


def test_a_canary_message_refused_for_an_opt_out_does_not_count(application):
    campaign = launched_canary(application)
    first, second = campaign.messages.exclude(state=MessageState.DRAFT).order_by("id")
    first.state, first.last_error = MessageState.CANCELLED, OPTED_OUT
    first.save()
    second.state = MessageState.DELIVERED
    second.save()

    status = canary_status(campaign)

    assert (status.delivered, status.messages, status.awaiting) == (1, 1, 0)


def test_a_canary_cancelled_before_it_was_judged_is_stopped(application):
    campaign = launched_canary(application)
    campaign_cancel(campaign=campaign, user=None)
    campaign.refresh_from_db()

    assert canary_status(campaign).state == STOPPED


# --- on the pages -------------------------------------------------------------------------------


def page_text(client, url) -> str:
    from django.utils.html import strip_tags

    response = client.get(url)
    assert response.status_code == 200
    return " ".join(strip_tags(response.content.decode()).split())


def test_the_campaign_page_and_dashboard_show_a_waiting_canary_against_its_threshold(
    application, viewer_client
):
    campaign = launched_canary(application, size=2, share=0.9)
    canary_outcomes(campaign, MessageState.DELIVERED, MessageState.SENT)

    for url in (f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/dashboard/"):
        text = page_text(viewer_client, url)
        assert "Canary waiting for reports" in text
        assert "1 of 2 canary messages delivered (50%); 2 (90%) needed to release" in text
        assert "the other 3 recipients" in text
        assert "at the latest" in text


def test_the_pages_say_when_a_canary_was_released(application, viewer_client):
    campaign = launched_canary(application, size=2, share=0.5)
    canary_outcomes(campaign, MessageState.DELIVERED, MessageState.FAILED)
    campaign_check_canary(campaign=campaign)

    text = page_text(viewer_client, f"/campaigns/{campaign.pk}/dashboard/")

    assert "Canary released" in text
    assert "1 of 2 delivered (50%), 50% (1) needed" in text


def test_the_pages_say_why_a_canary_is_held(application, viewer_client):
    campaign = launched_canary(application, size=2, share=0.9)
    canary_outcomes(campaign, MessageState.FAILED, MessageState.FAILED)
    campaign_check_canary(campaign=campaign)

    text = page_text(viewer_client, f"/campaigns/{campaign.pk}/")

    assert "Canary held" in text
    assert "Held: 0 of 2 delivered (0%), below the 90% (2) needed." in text
    assert "other 3 recipients are held back" in text


def test_a_campaign_without_a_canary_shows_none(application, viewer_client):
    campaign = campaign_with(application, RECIPIENTS)
    campaign_launch(campaign=campaign, user=None)

    assert "Canary" not in page_text(viewer_client, f"/campaigns/{campaign.pk}/")
