"""Single sends (messaging/services/single.py): the default application made from the
settings, and the single-sends campaign that each application and channel files its one-off
messages under."""

import pytest
from django.db import transaction

from audit.models import AuditAction, AuditEntry
from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.services import (
    CampaignError,
    RecipientOptedOut,
    application_default,
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    message_send_single,
    message_submit,
    messages_sweep,
)
from tests.messaging.services.helpers import needs_row_locks, opt_out
from tests.support.threads import in_threads

pytestmark = pytest.mark.django_db


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


# --- the opt-out list ------------------------------------------------------------------------


def test_a_single_send_to_an_opted_out_recipient_is_refused_with_the_reason(application):
    opt_out(application, "27821000001")

    with pytest.raises(RecipientOptedOut, match=r"^27821000001 opted out on \d{4}-\d\d-\d\d"):
        send_one(application)

    assert not Message.objects.exists()


def test_a_transactional_single_send_reaches_an_opted_out_recipient_and_says_so(
    application, sandbox
):
    opt_out(application, "27821000001")

    message = message_send_single(
        application=application,
        channel=Channel.SMS,
        recipient="27821000001",
        content={"body_text": "Your PIN is 1234"},
        enqueue=False,
        transactional=True,
    )

    assert message.is_transactional
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED
    assert sandbox.submissions()["total"] == 1
