"""What the API does beyond messaging's own services: composing a campaign from JSON, adding
recipients from a JSON list, and choosing the application of a single send.

A campaign's content is checked by the very forms the compose pages use (messaging.forms), so
a campaign the API accepts is one the pages would accept, with the same reasons for refusing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction

from messaging import recipients as importer
from messaging.compose import campaign_save
from messaging.forms import CAMPAIGN_FORMS, SLIDES_PREFIX, SlideFormSet
from messaging.models import Application, Campaign, Channel, Message
from messaging.services import CampaignError, application_default, message_send_single
from messaging.visibility import applications_visible


class ContentInvalid(ValueError):
    """The content was refused; `fields` maps each API field to its reasons."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("The campaign's content is not valid.")
        self.fields = fields


@dataclass(frozen=True)
class CampaignCreated:
    campaign: Campaign
    recipients: importer.ImportResult | None


def campaign_create(
    *,
    user,
    fields: dict[str, Any],
    slides: list[dict[str, Any]] | None = None,
    recipients: list[str | importer.RecipientItem] | None = None,
) -> CampaignCreated:
    """Save a new campaign (and its MMS slides and recipients) in one transaction.

    `fields` are the campaign's form fields with `application` as an id; each slide is
    {"text", "duration"} (media are uploaded through the compose page).
    """
    channel = fields["channel"]
    form = CAMPAIGN_FORMS[channel](
        data=_form_data(fields),
        instance=Campaign(channel=channel),
        applications=applications_visible(user),
    )
    unused = sorted(set(fields) - set(form.fields) - {"channel"})
    if unused:
        raise ContentInvalid({name: [f"Not used by {channel} campaigns."] for name in unused})
    slide_forms = None
    if channel == Channel.MMS:
        slide_forms = SlideFormSet(
            data=_slide_data(slides or []), instance=form.instance, prefix=SLIDES_PREFIX
        )
    elif slides:
        raise ContentInvalid({"slides": ["Only MMS campaigns have slides."]})
    errors = _form_errors(form, slide_forms)
    if errors:
        raise ContentInvalid(errors)
    with transaction.atomic():
        campaign = campaign_save(form=form, slides=slide_forms, user=user)
        result = None
        if recipients:
            result = campaign_import_recipients(campaign=campaign, recipients=recipients)
    return CampaignCreated(campaign=campaign, recipients=result)


def campaign_import_recipients(
    *, campaign: Campaign, recipients: list[str | importer.RecipientItem]
):
    """Add a JSON list of recipients, each a string or one with its fields; a rejected entry's
    `line` is its 1-based position. Blank entries are skipped, as blank pasted lines are."""
    items = [
        item if isinstance(item, importer.RecipientItem) else importer.RecipientItem(item)
        for item in recipients
    ]
    rows = (
        (position, item.recipient, item.fields)
        for position, item in enumerate(items, start=1)
        if item.recipient.strip()
    )
    parsed = importer.parse_numbered(rows, channel=campaign.channel)
    try:
        return importer.campaign_add_recipients(campaign=campaign, parsed=parsed)
    except importer.CampaignNotEditable as error:
        raise CampaignError(str(error)) from None


def single_send_application(*, user, application_id: int | None) -> Application:
    """The application a single send goes through: the one named, if the user is granted it,
    or the portal's default one, if the user may see that."""
    visible = applications_visible(user)
    if application_id is not None:
        application = visible.filter(pk=application_id).first()
        if application is None:
            raise ContentInvalid({"application": ["No application with this id is yours."]})
        return application
    default = application_default()
    if not visible.filter(pk=default.pk).exists():
        raise ContentInvalid({"application": ["Name one of your applications."]})
    return default


def single_send(
    *,
    application: Application,
    channel: str,
    recipient: str,
    content: dict,
    campaign_name: str,
    transactional: bool = False,
) -> Message:
    """Queue one message and hint a worker once it is committed.

    A hint the broker cannot take is logged, not raised (messaging.hints): were a broker outage
    after the commit to answer 5xx, the client would retry (its Idempotency-Key freed by the
    5xx) and the message would go out twice. The sweeper hands the queued row to a worker.
    """
    return message_send_single(
        application=application,
        channel=channel,
        recipient=recipient,
        content=content,
        campaign_name=campaign_name,
        transactional=transactional,
    )


def _form_data(fields: dict[str, Any]) -> dict[str, Any]:
    data = {name: value for name, value in fields.items() if value is not None}
    if "template_data" in data:
        # The form takes the JSON text a composer types.
        data["template_data"] = json.dumps(data["template_data"])
    if not data.get("is_otp"):
        data.pop("is_otp", None)  # an unchecked box is an absent one
    return data


def _slide_data(slides: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{SLIDES_PREFIX}-TOTAL_FORMS": str(len(slides)),
        f"{SLIDES_PREFIX}-INITIAL_FORMS": "0",
        f"{SLIDES_PREFIX}-MIN_NUM_FORMS": "0",
        f"{SLIDES_PREFIX}-MAX_NUM_FORMS": "1000",
    }
    for index, slide in enumerate(slides):
        data[f"{SLIDES_PREFIX}-{index}-text"] = slide.get("text", "")
        data[f"{SLIDES_PREFIX}-{index}-duration"] = str(slide.get("duration", 5))
        data[f"{SLIDES_PREFIX}-{index}-ORDER"] = str(index)
    return data


def _form_errors(form, slide_forms) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not form.is_valid():
        for name, messages in form.errors.items():
            key = "non_field_errors" if name == NON_FIELD_ERRORS else name
            errors.setdefault(key, []).extend(messages)
    if slide_forms is not None and not slide_forms.is_valid():
        if slide_forms.non_form_errors():
            errors.setdefault("slides", []).extend(slide_forms.non_form_errors())
        for index, slide_form in enumerate(slide_forms.forms):
            for name, messages in slide_form.errors.items():
                key = f"slides.{index}" if name == NON_FIELD_ERRORS else f"slides.{index}.{name}"
                errors.setdefault(key, []).extend(messages)
    return errors
