"""Taking recipients out of a campaign before it is launched: one by one, or every one whose
handset the check (messaging/services/scrub.py) found cannot receive MMS."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.db.models import QuerySet

from audit.models import AuditAction
from audit.services import audit_record
from messaging.models import Campaign, Message, MessageState
from messaging.recipients import InvalidRecipient, normalise_recipient
from messaging.services.errors import CampaignError, lock_campaign
from messaging.states import EDITABLE_STATES


def campaign_recipients_matching(*, campaign: Campaign, text: str) -> QuerySet[Message]:
    """The campaign's recipients that are `text` as typed or as an import would have stored it
    ("0821234567" is "27821234567"): an exact match, which the campaign-and-recipient unique
    index answers at any list size."""
    candidates = {text.strip()}
    with contextlib.suppress(InvalidRecipient):
        candidates.add(normalise_recipient(text, channel=campaign.channel))
    return Message.objects.filter(
        campaign=campaign, is_test=False, recipient__in=candidates
    ).order_by("id")


def _refuse_unless_editable(campaign: Campaign, doing: str) -> None:
    if campaign.state not in EDITABLE_STATES:
        raise CampaignError(
            f"Recipients cannot be {doing} a campaign that is "
            f"{campaign.get_state_display().lower()}; only while it is a draft (or scheduled), "
            "before any message is queued."
        )


def campaign_remove_recipient(*, campaign: Campaign, message_id: int, user) -> Message:
    """Remove one recipient (its draft message) from a campaign not yet launched."""
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        _refuse_unless_editable(campaign, "removed from")
        message = (
            Message.objects.filter(
                campaign=campaign, pk=message_id, is_test=False, state=MessageState.DRAFT
            )
            .only("pk", "recipient")
            .first()
        )
        if message is None:
            raise CampaignError("That recipient is not in this campaign (any more).")
        removed_id = message.pk
        message.delete()
        message.pk = removed_id
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_RECIPIENT_REMOVE,
            target=campaign,
            detail={"message_id": removed_id, "recipient": message.recipient},
        )
    return message


def campaign_drop_no_mms(*, campaign: Campaign, user) -> int:
    """Remove the draft recipients whose handset check says iLiveIt would not send them MMS
    (`allow_send` false); answer how many went. Recipients the check could not ask about
    stay."""
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        _refuse_unless_editable(campaign, "dropped from")
        doomed = Message.objects.filter(
            campaign=campaign,
            is_test=False,
            state=MessageState.DRAFT,
            handset__checked=True,
            handset__allow_send=False,
        )
        _, by_model = Message.objects.filter(pk__in=doomed.values("pk")).delete()
        dropped = by_model.get(Message._meta.label, 0)
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_DROP_NO_MMS,
            target=campaign,
            detail={"messages_removed": dropped},
        )
    return dropped
