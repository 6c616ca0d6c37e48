"""Resending one message (messaging/services/resend.py) through the sandbox's message/resend:
the new message linked to the original, and the resends that are refused."""

import time

import pytest

from messaging.models import (
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.services import (
    CampaignError,
    RecipientOptedOut,
    campaign_launch,
    message_resend,
    message_submit,
)
from tests.messaging.services.helpers import campaign_with, opt_out

pytestmark = pytest.mark.django_db


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


# --- the opt-out list ------------------------------------------------------------------------


def test_a_resend_to_an_opted_out_recipient_is_refused(application):
    campaign = campaign_with(application, ["27821000001"], state=CampaignState.DONE)
    campaign.messages.update(state=MessageState.DELIVERED, iliveit_id="MSG-1")
    opt_out(application, "27821000001")

    with pytest.raises(RecipientOptedOut, match="opted out on"):
        message_resend(message=campaign.messages.get(), user=None)

    assert campaign.messages.count() == 1
