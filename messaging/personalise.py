"""A campaign's content, personalised: where its placeholders may be, whether they compile, which
fields its recipients must have, and the content one recipient gets.

Placeholders work in an SMS's text; an email's subject, HTML body and text body; an MMS's subject
and text slides; and every string value of a video's template data. messaging/placeholders.py
compiles and renders each of those texts; this module knows where they are in a campaign.

    campaign_placeholders(campaign) -> what the content uses (PlaceholderError names where)
    campaign_drafts_missing_fields(campaign) -> fields its recipients lack (SQL, set-based)
    campaign_render_for(campaign, recipient=..., fields=...) -> the content that recipient gets
    message_rendered_content(message) -> what the message is sent with (messaging/payloads.py)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, Q

from iliveit.validation import HEADER_UNSAFE
from messaging.models import Campaign, Channel, Message, MessageState, Slide
from messaging.placeholders import (
    NONE,
    RECIPIENT,
    UNSUBSCRIBE_URL,
    PlaceholderError,
    Placeholders,
    placeholders_check,
    placeholders_render,
)
from messaging.unsubscribe_links import unsubscribe_url

# Content a message may carry for itself (single sends, personal OTPs), overriding the
# campaign's. It is sent as given: only a campaign's own content has placeholders.
OWN_CONTENT_FIELDS = ("subject", "body_html", "body_text", "from_name", "reply_to")


@dataclass(frozen=True)
class ContentText:
    """One text of a campaign that may hold placeholders."""

    field: str  # where it is, as the API names it: "body_text", "slides.0.text", ...
    label: str  # ... and as the page does: "Text", "Slide 1", "Template data (name)"
    text: str
    html: bool = False


class ContentPlaceholderError(ValueError):
    """A text of the content does not compile; says which field and which line."""

    def __init__(self, text: ContentText, error: PlaceholderError) -> None:
        super().__init__(f"{text.label}: {error}")
        self.field = text.field
        self.label = text.label
        self.error = error


_LABELS = {
    "subject": "Subject",
    "body_html": "HTML body",
    "body_text": "Text body",
}
_CHANNEL_FIELDS = {
    Channel.SMS: ("body_text",),
    Channel.EMAIL: ("subject", "body_html", "body_text"),
    Channel.MMS: ("subject",),
    Channel.VIDEO: (),
}


def campaign_texts(
    campaign: Campaign, *, slide_texts: list[str] | None = None
) -> list[ContentText]:
    """Every text of the campaign that may hold placeholders. An MMS's slides are read from the
    database unless given (in position order)."""
    texts = []
    for name in _CHANNEL_FIELDS[campaign.channel]:
        label = "Text" if campaign.channel == Channel.SMS else _LABELS[name]
        texts.append(
            ContentText(
                field=name, label=label, text=getattr(campaign, name), html=name == "body_html"
            )
        )
    if campaign.channel == Channel.MMS:
        if slide_texts is None:
            slide_texts = _slide_texts(campaign)
        texts += [
            ContentText(field=f"slides.{index}.text", label=f"Slide {index + 1}", text=text)
            for index, text in enumerate(slide_texts)
        ]
    if campaign.channel == Channel.VIDEO:
        texts += template_data_texts(campaign.template_data)
    return texts


def template_data_texts(data: Any) -> list[ContentText]:
    """Each string value of a video's template data, however deep, with its path."""
    return [
        ContentText(
            field="template_data",
            label=f"Template data ({'.'.join(path) or 'the value'})",
            text=text,
        )
        for path, text in _strings(data, ())
    ]


def _strings(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))


def _slide_texts(campaign: Campaign) -> list[str]:
    if campaign.pk is None:
        return []
    return list(Slide.objects.filter(campaign=campaign).values_list("text", flat=True))


def texts_placeholders(texts: list[ContentText]) -> Placeholders:
    """What these texts use together; ContentPlaceholderError for the first that fails."""
    names: set[str] = set()
    required: set[str] = set()
    for text in texts:
        try:
            used = placeholders_check(text.text)
        except PlaceholderError as error:
            raise ContentPlaceholderError(text, error) from None
        names |= used.names
        required |= used.required
    if not names:
        return NONE
    return Placeholders(names=frozenset(names), required=frozenset(required))


def campaign_placeholders(campaign: Campaign) -> Placeholders:
    """The placeholders the campaign's content uses; ContentPlaceholderError names the field
    and line of one that does not compile."""
    return texts_placeholders(campaign_texts(campaign))


# --- which recipients lack a field -----------------------------------------------------------

# How many recipients a warning or a refusal names, of all those it counts.
EXAMPLES = 5


@dataclass(frozen=True)
class MissingField:
    """A field the content needs (used without a fallback) that some recipients lack."""

    name: str
    count: int
    examples: tuple[str, ...]  # the first few recipients lacking it, in list order

    def __str__(self) -> str:
        some = ", ".join(self.examples)
        more = (
            f" and {self.count - len(self.examples):,} more"
            if self.count > len(self.examples)
            else ""
        )
        whom = "recipient has" if self.count == 1 else "recipients have"
        return (
            f"{{{{ {self.name} }}}} has no fallback and {self.count:,} {whom} no "
            f"{self.name}: {some}{more}"
        )


def missing_fields(
    *,
    needed: Iterable[str],
    recipients: list[str],
    fields: dict[str, dict[str, str]],
) -> list[MissingField]:
    """For each needed name, the recipients (with their fields, by recipient) lacking it."""
    missing = []
    for name in sorted(needed):
        lacking = [r for r in recipients if name not in (fields.get(r) or ())]
        if lacking:
            missing.append(
                MissingField(name=name, count=len(lacking), examples=tuple(lacking[:EXAMPLES]))
            )
    return missing


def campaign_drafts_missing_fields(campaign: Campaign) -> list[MissingField]:
    """The fields the content needs (used without a fallback) that some of the campaign's
    draft recipients lack: how many lack each, and the first few of them.

    Set-based: one aggregate over the drafts counts every field at once (a JSON has-key test
    per row, in the database), then one small query per lacking field names a few.
    """
    needed = sorted(campaign_placeholders(campaign).fields)
    if not needed:
        return []
    drafts = Message.objects.filter(campaign=campaign, state=MessageState.DRAFT, is_test=False)
    counts = drafts.aggregate(
        **{f"n{index}": Count("id", filter=_lacks(name)) for index, name in enumerate(needed)}
    )
    missing = []
    for index, name in enumerate(needed):
        count = counts[f"n{index}"]
        if count:
            examples = (
                drafts.filter(_lacks(name)).order_by("id").values_list("recipient", flat=True)
            )
            missing.append(
                MissingField(name=name, count=count, examples=tuple(examples[:EXAMPLES]))
            )
    return missing


def _lacks(name: str) -> Q:
    return Q(fields__isnull=True) | ~Q(fields__has_key=name)


def campaign_fields_missing(
    *, campaign: Campaign, recipients: list[str], fields: dict[str, dict[str, str]]
) -> list[MissingField]:
    """Which of these recipients (about to be added, with their fields by recipient) lack a
    field the content needs: the recipients import's warning. Content that does not compile
    yet warns of nothing; saving it will say what is wrong."""
    try:
        needed = campaign_placeholders(campaign).fields
    except ContentPlaceholderError:
        return []
    return missing_fields(needed=needed, recipients=recipients, fields=fields)


# --- rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedContent:
    """The content one recipient is sent, every placeholder replaced. Which parts matter
    depends on the channel, as for Campaign."""

    subject: str = ""
    body_html: str = ""
    body_text: str = ""
    from_name: str = ""
    reply_to: str = ""
    slide_texts: tuple[str, ...] = ()  # an MMS's slides' texts, in position order
    template_data: dict = field(default_factory=dict)  # a video's


def campaign_render_for(
    campaign: Campaign,
    *,
    recipient: str,
    fields: dict[str, str] | None,
    slide_texts: list[str] | None = None,
) -> RenderedContent:
    """The campaign's content as `recipient`, with these fields, would get it: for sending,
    and for showing it before. A placeholder without a value or fallback renders as nothing
    (a launch refuses recipients that would meet one; a test send may not).

    An MMS's slide texts are read from the database unless given (in position order).
    """
    if campaign.channel == Channel.MMS and slide_texts is None:
        slide_texts = _slide_texts(campaign)
    texts = campaign_texts(campaign, slide_texts=slide_texts)
    values = dict(fields or {})
    values[RECIPIENT] = recipient
    if UNSUBSCRIBE_URL in texts_placeholders(texts).names:
        # Signing costs a little; only content that links it pays.
        values[UNSUBSCRIBE_URL] = unsubscribe_url(
            application_id=campaign.application_id, recipient=recipient
        )

    def render(text: str, *, html: bool = False) -> str:
        return placeholders_render(text, values, html=html)

    channel = campaign.channel
    rendered: dict[str, Any] = {"from_name": campaign.from_name, "reply_to": campaign.reply_to}
    if channel in (Channel.EMAIL, Channel.MMS):
        # A value's line break must not end up in a mail or MMS header.
        rendered["subject"] = HEADER_UNSAFE.sub(" ", render(campaign.subject))
    else:
        rendered["subject"] = campaign.subject
    if channel in (Channel.EMAIL, Channel.SMS):
        rendered["body_text"] = render(campaign.body_text)
    else:
        rendered["body_text"] = campaign.body_text
    rendered["body_html"] = (
        render(campaign.body_html, html=True) if channel == Channel.EMAIL else campaign.body_html
    )
    if channel == Channel.MMS:
        rendered["slide_texts"] = tuple(render(text) for text in slide_texts or ())
    if channel == Channel.VIDEO:
        rendered["template_data"] = _render_data(campaign.template_data, render)
    return RenderedContent(**rendered)


def _render_data(value: Any, render) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, dict):
        return {key: _render_data(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_data(item, render) for item in value]
    return value


def message_rendered_content(
    message: Message, *, slide_texts: list[str] | None = None
) -> RenderedContent:
    """What this message is sent with: its campaign's content rendered with its recipient and
    fields, and whatever content the message has of its own (a single send's), as it is."""
    content = campaign_render_for(
        message.campaign,
        recipient=message.recipient,
        fields=message.fields,
        slide_texts=slide_texts,
    )
    if not message.body:
        return content
    own = {k: v for k, v in message.body.items() if k in OWN_CONTENT_FIELDS}
    return replace(content, **own)
