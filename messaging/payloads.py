"""Turn a stored message into the request iLiveIt expects.

A campaign's content is fixed once it is launched, so its slides and attachments are read from
storage once per worker process and reused for every recipient (`_campaign_media`).
"""

from functools import lru_cache

from django.core.files.storage import default_storage

from iliveit import (
    ALL_POSTBACK_TYPES,
    BuildRequest,
    EmailAttachment,
    EmailData,
    MMSData,
    NewMessage,
    Slide,
    SlideContent,
    SlideContentType,
    SMSData,
)
from messaging.models import Attachment, Channel, Message
from messaging.models import Slide as SlideRow
from messaging.postback_urls import reply_url, status_url

# Campaign content fields a message may carry for itself (single sends, personal OTPs).
CONTENT_FIELDS = ("subject", "body_html", "body_text", "from_name", "reply_to")


def message_content(message: Message) -> dict[str, str]:
    campaign = message.campaign
    content = {name: getattr(campaign, name) for name in CONTENT_FIELDS}
    if message.body:
        content.update({k: v for k, v in message.body.items() if k in CONTENT_FIELDS})
    return content


def build_payload(message: Message) -> NewMessage | BuildRequest:
    campaign = message.campaign
    application = campaign.application
    common = {
        "mvno_id": application.mvno_id,
        "campaign": campaign.name,
        "postback_status_url": status_url(message.ref),
        "postback_status_types": ALL_POSTBACK_TYPES,
        "submit_not_before": campaign.submit_not_before,
        "submit_not_after": campaign.submit_not_after,
    }
    if campaign.channel == Channel.VIDEO:
        return BuildRequest(
            data=campaign.template_data,
            recipient=message.recipient,
            build_template=campaign.template_id or 0,
            network=campaign.network or "*",
            **common,
        )
    content = message_content(message)
    if campaign.channel == Channel.SMS:
        data = SMSData(
            msisdn=message.recipient, text=content["body_text"], network=campaign.network or "any"
        )
        return NewMessage(data=data, postback_reply_url=reply_url(message.ref), **common)
    if campaign.channel == Channel.EMAIL:
        data = EmailData(
            address=message.recipient,
            subject=content["subject"],
            html=content["body_html"],
            text=content["body_text"],
            fromname=content["from_name"],
            replyto=content["reply_to"],
            network=campaign.network or "*",
            attachments=_campaign_media(campaign.pk).attachments,
        )
        return NewMessage(data=data, postback_reply_url=reply_url(message.ref), **common)
    data = MMSData(
        msisdn=message.recipient,
        subject=content["subject"],
        slides=_campaign_media(campaign.pk).slides,
        network=campaign.network or "*",
    )
    return NewMessage(data=data, **common)


class _Media:
    def __init__(self, slides: tuple[Slide, ...], attachments: tuple[EmailAttachment, ...]):
        self.slides = slides
        self.attachments = attachments


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _campaign_media(campaign_id: int) -> _Media:
    """The campaign's slides and attachments, read from storage once per version.

    The cache key is the rows themselves (an edit changes a text, a duration or a stored file
    name), so a composer's edit after a test send is never answered from an old copy.
    """
    slides = tuple(
        SlideRow.objects.filter(campaign_id=campaign_id).values_list(
            "duration", "text", "media", "media_type", "mime"
        )
    )
    attachments = tuple(
        Attachment.objects.filter(campaign_id=campaign_id).values_list("filename", "file")
    )
    return _media(slides, attachments)


@lru_cache(maxsize=16)
def _media(slide_rows: tuple, attachment_rows: tuple) -> _Media:
    slides = []
    for duration, text, media, media_type, mime in slide_rows:
        content = []
        if text:
            content.append(
                SlideContent(
                    type=SlideContentType.TEXT, mime="text/plain", data=text, name="text.txt"
                )
            )
        if media:
            content.append(
                SlideContent.from_bytes(
                    SlideContentType(media_type), mime, _read(media), media.rsplit("/", 1)[-1]
                )
            )
        slides.append(Slide(duration=duration, content=tuple(content)))
    attachments = tuple(
        EmailAttachment.from_bytes(filename, _read(name)) for filename, name in attachment_rows
    )
    return _Media(tuple(slides), attachments)
