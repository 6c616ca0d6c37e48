"""Resending one archived message through iLiveIt's message/resend."""

import logging

import redis
from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from iliveit import (
    ALL_POSTBACK_TYPES,
    APIUnavailable,
    EndpointRefused,
    ILiveItError,
    ResendRequest,
)
from messaging.clients import application_client
from messaging.models import (
    Channel,
    Message,
    MessageState,
)
from messaging.ratelimit import limiter_for
from messaging.services.errors import CampaignError, refuse_opted_out
from messaging.services.submit import announce_answered, settle

logger = logging.getLogger(__name__)


def message_resend(*, message: Message, user) -> Message:
    """Send an archived message again to its recipient through iLiveIt's message/resend.

    The resend is a message row of its own (saved before the call, linked to the original),
    with its own postback URL, so its delivery is followed like any other.
    """
    from messaging.postback_urls import status_url

    campaign = message.campaign
    if not message.iliveit_id or campaign is None:
        raise CampaignError("iLiveIt never accepted this message, so there is nothing to resend.")
    if campaign.is_otp:
        raise CampaignError("One-time PINs cannot be resent.")
    application = campaign.application
    if not message.is_transactional:
        refuse_opted_out(application_id=application.pk, recipient=message.recipient)
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
            is_transactional=message.is_transactional,
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
            settle(copy, state=MessageState.UNCERTAIN, last_error=str(error)[:2000])
            copy.refresh_from_db()
            return copy
        settle(copy, state=MessageState.FAILED, last_error=str(error)[:2000])
        raise CampaignError(f"iLiveIt could not take the resend: {error}") from None
    except ILiveItError as error:
        settle(copy, state=MessageState.FAILED, last_error=error.error[:2000])
        raise CampaignError(f"iLiveIt refused the resend: {error.error}") from None
    settle(copy, state=MessageState.SUBMITTED, iliveit_id=iliveit_id, submitted_at=timezone.now())
    announce_answered([copy.pk])
    logger.info("message %s resent as %s by %s", message.pk, copy.pk, getattr(user, "pk", None))
    copy.refresh_from_db()
    return copy
