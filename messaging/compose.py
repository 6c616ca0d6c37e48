"""Saving what a composer wrote: the campaign, its MMS slides and its email attachments.

The forms (messaging/forms/) have already validated everything; these functions only write,
in one transaction, and refuse a campaign that was launched while the composer was typing.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.forms import BaseFormSet, ModelForm

from iliveit.validation import HEADER_UNSAFE
from messaging.models import Attachment, Campaign
from messaging.states import EDITABLE_STATES


class CampaignNotEditable(ValueError):
    pass


@dataclass(frozen=True)
class AttachmentChanges:
    add: Sequence[UploadedFile] = ()
    remove: Sequence[Attachment] = ()


def campaign_is_editable(campaign: Campaign) -> bool:
    return campaign.state in EDITABLE_STATES


def campaign_save(
    *,
    form: ModelForm,
    user: AbstractBaseUser | AnonymousUser,
    slides: BaseFormSet | None = None,
    attachments: AttachmentChanges | None = None,
) -> Campaign:
    """Write a valid compose form (and, for MMS, its valid slide formset).

    The form's instance is a new Campaign with its channel set, or the campaign being edited.
    Raises CampaignNotEditable if the campaign left draft/scheduled since the page was loaded.
    """
    with transaction.atomic():
        campaign = form.save(commit=False)
        if campaign.pk is None:
            campaign.created_by = user if user.is_authenticated else None
            campaign.save()
        else:
            # Lock the row so a launch cannot start between this check and the write.
            state = (
                Campaign.objects.select_for_update()
                .filter(pk=campaign.pk)
                .values_list("state", flat=True)
                .first()
            )
            if state not in EDITABLE_STATES:
                raise CampaignNotEditable(
                    f"“{campaign.name}” is {state or 'gone'}; only draft or scheduled campaigns "
                    "can be edited."
                )
            # Only the fields on the page: the instance was read before the lock, and its
            # state or counters may be stale.
            campaign.save(update_fields=list(form._meta.fields))
        if slides is not None:
            _slides_save(campaign=campaign, formset=slides)
        if attachments is not None:
            _attachments_save(campaign=campaign, changes=attachments)
    return campaign


def _slides_save(*, campaign: Campaign, formset: BaseFormSet) -> None:
    for form in formset.deleted_forms:
        if form.instance.pk:
            _delete_file_on_commit(form.instance.media)
            form.instance.delete()
    # ordered_forms follows the "Order" inputs and leaves out deleted and untouched blank forms;
    # positions are renumbered 0, 1, 2 ... so gaps and ties in what was typed do not matter.
    for position, form in enumerate(formset.ordered_forms):
        previous = form.initial.get("media")
        slide = form.save(commit=False)
        slide.campaign = campaign
        slide.position = position
        slide.save()
        if isinstance(previous, FieldFile) and previous.name != slide.media.name:
            _delete_file_on_commit(previous)


def _attachments_save(*, campaign: Campaign, changes: AttachmentChanges) -> None:
    for attachment in changes.remove:
        if attachment.campaign_id != campaign.pk:
            continue  # the form's choices are this campaign's, but never trust that twice
        _delete_file_on_commit(attachment.file)
        attachment.delete()
    for upload in changes.add:
        Attachment.objects.create(
            campaign=campaign,
            file=upload,
            filename=attachment_display_name(upload.name),
            mime=mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
            size=upload.size,
        )


def attachment_display_name(name: str) -> str:
    """The name recipients see; it ends up in a mail header, so the characters the client's
    validation refuses there are dropped (a browser's file name is not worth a refusal)."""
    cleaned = HEADER_UNSAFE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    cleaned = cleaned or "attachment"
    if len(cleaned) <= 255:
        return cleaned
    stem, dot, extension = cleaned.rpartition(".")
    if dot and len(extension) < 20:
        return stem[: 255 - len(extension) - 1] + "." + extension
    return cleaned[:255]


def _delete_file_on_commit(field_file: FieldFile) -> None:
    # After commit only: a rolled-back save must not lose the file its row still names.
    if field_file and field_file.name:
        storage, name = field_file.storage, field_file.name
        transaction.on_commit(lambda: storage.delete(name))


# Added to every email preview. The iframe's sandbox (no allow-scripts) already stops scripts;
# this also stops the preview loading anything from outside (tracking pixels, fonts, forms).
PREVIEW_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'"
)


def email_preview_document(*, body_html: str) -> str:
    """The srcdoc of the sandboxed preview iframe: the body under a CSP that loads nothing."""
    return preview_prefix() + body_html


def preview_prefix() -> str:
    # A <meta> policy can only add restrictions, so nothing in the body can loosen it.
    return (
        '<!doctype html><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">'
    )
