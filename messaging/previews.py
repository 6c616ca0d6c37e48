"""A campaign's content as one of its recipients will get it, for the campaign page: the first
recipient, or the one the composer searched for. The rendering is the submit's own
(messaging/personalise.py), so what is shown is what is sent."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q

from messaging.compose import email_preview_document
from messaging.models import Campaign, Channel, Message
from messaging.personalise import RenderedContent, message_rendered_content
from messaging.sms import SegmentCount, sms_segments


@dataclass(frozen=True)
class ContentPreview:
    message: Message
    rendered: RenderedContent
    segments: SegmentCount | None  # an SMS's
    html_document: str  # an email's HTML body, as the sandboxed frame shows it
    template_json: str  # a video's template data


def campaign_preview(*, campaign: Campaign, search: str = "") -> ContentPreview | None:
    """The preview for the recipient `search` names (a number or address as typed, or part of
    one), or for the first recipient; None when no recipient matches."""
    message = campaign_recipient_find(campaign, search)
    if message is None:
        return None
    return content_preview(message)


def content_preview(message: Message) -> ContentPreview:
    """What `message` is (or was) sent with, ready to show."""
    campaign = message.campaign
    rendered = message_rendered_content(message)
    return ContentPreview(
        message=message,
        rendered=rendered,
        segments=sms_segments(rendered.body_text) if campaign.channel == Channel.SMS else None,
        html_document=email_preview_document(body_html=rendered.body_html)
        if campaign.channel == Channel.EMAIL and rendered.body_html
        else "",
        template_json=json.dumps(rendered.template_data, indent=2, ensure_ascii=False)
        if campaign.channel == Channel.VIDEO
        else "",
    )


def campaign_recipient_find(campaign: Campaign, search: str) -> Message | None:
    """The campaign's recipient (not a test) that `search` names: a number or address as typed,
    or part of one, or a value of its fields ("Thandi"); the first recipient when `search` is
    empty. The earliest of several matches."""
    search = search.strip()
    recipients = campaign.messages.filter(is_test=False).order_by("id")
    if not search:
        return recipients.first()
    # Typed as a whole number or address: one indexed lookup, as the recipients page finds one.
    from messaging.services.recipients import campaign_recipients_matching

    exact = campaign_recipients_matching(campaign=campaign, text=search).first()
    if exact is not None:
        return exact
    # The fields are matched as their JSON text, so a name or a value matches; only this
    # campaign's rows are read.
    return recipients.filter(Q(recipient__icontains=search) | Q(fields__icontains=search)).first()
