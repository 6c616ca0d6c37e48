"""Cloning a campaign: its content and settings, as a new draft with no recipients."""

from __future__ import annotations

import os

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile

from audit.models import AuditAction
from audit.services import audit_record
from messaging.models import CAMPAIGN_CONTENT_FIELDS, Attachment, Campaign, CampaignState, Slide
from messaging.services.errors import CampaignError

# What a clone copies: everything that says what is sent and how, none of what happened.
COPIED_FIELDS = (
    "channel",
    "application",
    *CAMPAIGN_CONTENT_FIELDS,
    "canary_size",
    "canary_min_success",
)
COPY_SUFFIX = " (copy)"


def campaign_clone(*, campaign: Campaign, user) -> Campaign:
    """A new draft, "<name> (copy)", with the campaign's content, slides (with their media),
    attachments and settings, but none of its recipients, tests or history."""
    if campaign.is_single_sends:
        raise CampaignError(
            "Single sends have no content of their own to copy; compose a campaign instead."
        )
    max_name = Campaign._meta.get_field("name").max_length
    name = campaign.name[: max_name - len(COPY_SUFFIX)] + COPY_SUFFIX
    with transaction.atomic():
        clone = Campaign.objects.create(
            name=name,
            state=CampaignState.DRAFT,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            **{field: getattr(campaign, field) for field in COPIED_FIELDS},
        )
        for slide in campaign.slides.all():
            Slide.objects.create(
                campaign=clone,
                position=slide.position,
                duration=slide.duration,
                text=slide.text,
                media=_copy(slide.media),
                media_type=slide.media_type,
                mime=slide.mime,
            )
        for attachment in campaign.attachments.all():
            Attachment.objects.create(
                campaign=clone,
                file=_copy(attachment.file),
                filename=attachment.filename,
                mime=attachment.mime,
                size=attachment.size,
            )
        audit_record(
            actor=user,
            action=AuditAction.CAMPAIGN_CLONE,
            target=clone,
            detail={"cloned_from": campaign.pk},
        )
    return clone


def _copy(field_file: FieldFile) -> ContentFile | str:
    """A file of the clone's own: editing or deleting the original's slides (which deletes
    their files) must not take the clone's media with it."""
    if not field_file or not field_file.name:
        return ""
    with field_file.open("rb") as source:
        return ContentFile(source.read(), name=os.path.basename(field_file.name))
