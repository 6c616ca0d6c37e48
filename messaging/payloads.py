"""Turn a stored message into the request iLiveIt expects.

Its content is rendered for it here, when it is submitted: the campaign's content with the
message's recipient and fields (messaging/personalise.py).

A campaign's media are fixed once it is launched, so its slides' media and its attachments are
read from storage once per worker process and reused for every recipient (`_campaign_media`).
Slide texts are not kept with them: each recipient's are rendered for it.
"""

from functools import lru_cache

from django.core.files.storage import default_storage

from iliveit import (
    ALL_POSTBACK_TYPES,
    BuildRequest,
    EmailAttachment,
    EmailData,
    InvalidMessage,
    MMSData,
    NewMessage,
    Slide,
    SlideContent,
    SlideContentType,
    SMSData,
)
from messaging.models import Attachment, Channel, Message
from messaging.models import Slide as SlideRow
from messaging.personalise import RenderedContent, message_rendered_content
from messaging.placeholders import PlaceholderError
from messaging.postback_urls import reply_url, status_url


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
        content = _rendered(message)
        return BuildRequest(
            data=content.template_data,
            recipient=message.recipient,
            build_template=campaign.template_id or 0,
            network=campaign.network or "*",
            **common,
        )
    if campaign.channel == Channel.MMS:
        media = _campaign_media(campaign.pk)
        content = _rendered(message, slide_texts=list(media.slide_texts))
        data = MMSData(
            msisdn=message.recipient,
            subject=content.subject,
            slides=media.slides(content.slide_texts),
            network=campaign.network or "*",
        )
        return NewMessage(data=data, **common)
    content = _rendered(message)
    if campaign.channel == Channel.SMS:
        data = SMSData(
            msisdn=message.recipient, text=content.body_text, network=campaign.network or "any"
        )
        return NewMessage(data=data, postback_reply_url=reply_url(message.ref), **common)
    data = EmailData(
        address=message.recipient,
        subject=content.subject,
        html=content.body_html,
        text=content.body_text,
        fromname=content.from_name,
        replyto=content.reply_to,
        network=campaign.network or "*",
        attachments=_campaign_media(campaign.pk).attachments,
    )
    return NewMessage(data=data, postback_reply_url=reply_url(message.ref), **common)


def _rendered(message: Message, slide_texts: list[str] | None = None) -> RenderedContent:
    try:
        return message_rendered_content(message, slide_texts=slide_texts)
    except PlaceholderError as error:
        # A launch checks the content first, so only content changed since (in the admin)
        # gets here: the message fails with the reason, as for any content iLiveIt refuses.
        raise InvalidMessage("Data", f"the content's placeholders: {error}") from None


class _Media:
    """A campaign's slides (their texts as composed, each one's duration and media content)
    and its attachments."""

    def __init__(
        self,
        slide_texts: tuple[str, ...],
        slide_media: tuple[tuple[int, SlideContent | None], ...],
        attachments: tuple[EmailAttachment, ...],
    ):
        self.slide_texts = slide_texts
        self.slide_media = slide_media
        self.attachments = attachments

    def slides(self, texts: tuple[str, ...]) -> tuple[Slide, ...]:
        """The slides with these (rendered) texts."""
        slides = []
        for text, (duration, media) in zip(texts, self.slide_media, strict=True):
            content = []
            if text:
                content.append(
                    SlideContent(
                        type=SlideContentType.TEXT, mime="text/plain", data=text, name="text.txt"
                    )
                )
            if media is not None:
                content.append(media)
            slides.append(Slide(duration=duration, content=tuple(content)))
        return tuple(slides)


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _campaign_media(campaign_id: int) -> _Media:
    """The campaign's slides and attachments, media read from storage once per version.

    The cache key is the rows themselves (an edit changes a duration or a stored file name),
    so a composer's edit after a test send is never answered from an old copy. Texts are read
    each time and rendered per message; they are no part of the key.
    """
    rows = SlideRow.objects.filter(campaign_id=campaign_id).values_list(
        "text", "duration", "media", "media_type", "mime"
    )
    texts, slide_rows = [], []
    for text, *media in rows:
        texts.append(text)
        slide_rows.append(tuple(media))
    attachments = tuple(
        Attachment.objects.filter(campaign_id=campaign_id).values_list("filename", "file")
    )
    cached = _media(tuple(slide_rows), attachments)
    return _Media(tuple(texts), cached.slide_media, cached.attachments)


@lru_cache(maxsize=16)
def _media(slide_rows: tuple, attachment_rows: tuple) -> _Media:
    slide_media = tuple(
        (
            duration,
            SlideContent.from_bytes(
                SlideContentType(media_type), mime, _read(media), media.rsplit("/", 1)[-1]
            )
            if media
            else None,
        )
        for duration, media, media_type, mime in slide_rows
    )
    attachments = tuple(
        EmailAttachment.from_bytes(filename, _read(name)) for filename, name in attachment_rows
    )
    return _Media((), slide_media, attachments)
