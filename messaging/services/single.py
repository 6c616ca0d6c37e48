"""Single sends: one message outside any recipient list, filed under the application's
single-sends campaign."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from iliveit import (
    InvalidMessage,
)
from iliveit.validation import validate_new_message
from messaging.applications import application_save
from messaging.endpoints import endpoint_refusal
from messaging.hints import hint_submit_message
from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.payloads import build_payload
from messaging.services.errors import CampaignError, refuse_opted_out

logger = logging.getLogger(__name__)


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
    transactional: bool = False,
) -> Message:
    """Queue one message outside any recipient list, in the application's single-sends
    campaign named `campaign_name` ("Single sends" if empty) for its channel.

    A recipient who opted out of the application is refused (RecipientOptedOut), unless the
    sender says the message is `transactional` (a one-time PIN, say): then it is sent, and the
    message records that it was (Message.is_transactional), which the claim honours too.
    """
    if channel not in (Channel.SMS, Channel.EMAIL, Channel.MMS):
        raise CampaignError(f"Single sends support sms, email and mms, not {channel}.")
    if channel == Channel.MMS:
        raise CampaignError("MMS needs slides: compose an MMS campaign instead.")
    if not transactional:
        refuse_opted_out(application_id=application.pk, recipient=recipient)
    with transaction.atomic():
        campaign = single_sends_campaign(
            application=application, channel=channel, name=campaign_name or SINGLE_SENDS
        )
        message = Message(
            campaign=campaign,
            recipient=recipient,
            is_single=True,
            is_transactional=transactional,
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
            hint_submit_message(message.pk)
    return message
