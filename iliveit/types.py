"""Request types of the iLiveIt Messaging API and the vocabulary both directions share.

Requests turn into the documented JSON with `to_json()`; iliveit/responses.py reads what comes
back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any


class ActionType(IntEnum):
    MMS = 1
    SMS = 2
    EMAIL = 3
    ARCHIVE = 4


class PostbackType(StrEnum):
    BUILD = "build"
    SUBMIT = "submit"
    ARCHIVE = "archive"
    SENT = "sent"
    DELIVERY = "delivery"


ALL_POSTBACK_TYPES: tuple[PostbackType, ...] = tuple(PostbackType)


class SlideContentType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


# Go's zero time.Time: how the provider writes "this stage has not happened".
ZERO_TIMESTAMP = "0001-01-01T00:00:00Z"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def wire_time(moment: datetime) -> str:
    """The send-window form the API reads: "yyyy-mm-dd hh:mm" in UTC."""
    if moment.tzinfo is None:
        # A naive time would be read as the server's local time, silently shifting the window.
        raise ValueError("send window times must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} {utc.hour:02d}:{utc.minute:02d}"


def _without_empty(document: dict[str, Any]) -> dict[str, Any]:
    # Optional fields are left out rather than sent as "" or null, so that a server checking
    # "a URL when present" never sees an empty one.
    return {key: value for key, value in document.items() if value not in ("", None)}


def _postback_types(types: tuple[PostbackType | str, ...]) -> str:
    return ",".join(str(postback_type) for postback_type in types)


# --- requests -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SlideContent:
    type: SlideContentType
    mime: str
    data: str  # plain text for a text slide, base64 for media
    name: str = ""

    @classmethod
    def from_bytes(
        cls, type: SlideContentType, mime: str, raw: bytes, name: str = ""
    ) -> SlideContent:
        data = raw.decode("utf-8") if type == SlideContentType.TEXT else b64(raw)
        return cls(type=type, mime=mime, data=data, name=name)

    def to_json(self) -> dict[str, Any]:
        return {"type": str(self.type), "mime": self.mime, "data": self.data, "name": self.name}


@dataclass(frozen=True, kw_only=True)
class Slide:
    duration: int  # seconds
    content: tuple[SlideContent, ...]

    def to_json(self) -> dict[str, Any]:
        # The reference and the Go client send the duration as a string.
        return {
            "duration": str(self.duration),
            "content": [item.to_json() for item in self.content],
        }


@dataclass(frozen=True, kw_only=True)
class SMSData:
    msisdn: str
    text: str
    network: str = "any"
    extra_digits: str = ""

    def to_json(self) -> dict[str, Any]:
        document = {
            "message_type": "sms",
            "msisdn": [self.msisdn],
            "network": self.network,
            "text": self.text,
            "extra_digits": self.extra_digits,
        }
        return _without_empty(document)


@dataclass(frozen=True, kw_only=True)
class EmailAttachment:
    filename: str
    data: str  # base64

    @classmethod
    def from_bytes(cls, filename: str, raw: bytes) -> EmailAttachment:
        return cls(filename=filename, data=b64(raw))

    def to_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "data": self.data}


@dataclass(frozen=True, kw_only=True)
class EmailData:
    address: str
    subject: str
    html: str = ""
    text: str = ""
    fromname: str = ""
    replyto: str = ""
    network: str = "*"
    attachments: tuple[EmailAttachment, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document = {
            "message_type": "email",
            "address": [self.address],
            "network": self.network,
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
            "fromname": self.fromname,
            "replyto": self.replyto,
            "attachments": [attachment.to_json() for attachment in self.attachments],
        }
        return _without_empty(document)


@dataclass(frozen=True, kw_only=True)
class MMSData:
    msisdn: str
    subject: str
    slides: tuple[Slide, ...]
    network: str = "*"

    def to_json(self) -> dict[str, Any]:
        return {
            "message_type": "mms",
            "msisdn": [self.msisdn],
            "network": self.network,
            "subject": self.subject,
            "slides": [slide.to_json() for slide in self.slides],
        }


MessageData = SMSData | EmailData | MMSData

ACTION_FOR_DATA: dict[type, ActionType] = {
    SMSData: ActionType.SMS,
    EmailData: ActionType.EMAIL,
    MMSData: ActionType.MMS,
}


@dataclass(frozen=True, kw_only=True)
class NewMessage:
    mvno_id: int
    data: MessageData
    action: ActionType | None = None  # None: the action that sends `data`
    campaign: str = ""
    postback_status_url: str = ""
    postback_status_types: tuple[PostbackType, ...] = ()
    postback_reply_url: str = ""
    submit_not_before: datetime | None = None
    submit_not_after: datetime | None = None
    approval_batch: str = ""

    @property
    def effective_action(self) -> ActionType:
        if self.action is not None:
            return self.action
        return ACTION_FOR_DATA[type(self.data)]

    def to_json(self) -> dict[str, Any]:
        document = {
            "Action": int(self.effective_action),
            "MVNOID": self.mvno_id,
            "Campaign": self.campaign,
            "Data": self.data.to_json(),
            "PostbackStatusUrl": self.postback_status_url,
            "PostbackStatusTypes": _postback_types(self.postback_status_types),
            "PostbackReplyUrl": self.postback_reply_url,
            "SubmitNotBefore": _optional_wire_time(self.submit_not_before),
            "SubmitNotAfter": _optional_wire_time(self.submit_not_after),
            "ApprovalBatch": self.approval_batch,
        }
        return _without_empty(document)


def _optional_wire_time(moment: datetime | None) -> str:
    return "" if moment is None else wire_time(moment)


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """A video to build from a template, then handle with `after_build_action`."""

    mvno_id: int
    data: str | Mapping[str, Any]  # template data: a JSON string, or an object to serialise
    recipient: str = ""  # msisdn, or an address for EMAIL; may stay empty for ARCHIVE
    build_template: int = 0
    build_template_ref: str = ""
    after_build_action: ActionType = ActionType.MMS
    network: str = "*"
    campaign: str = ""
    postback_status_url: str = ""
    postback_status_types: tuple[PostbackType, ...] = ()
    forced_size: str = ""  # "", "High" or "Low"
    submit_not_before: datetime | None = None
    submit_not_after: datetime | None = None

    def after_build_data(self) -> dict[str, Any]:
        """The submit data with only the recipient and network filled in; the template
        supplies the rest."""
        if self.after_build_action is ActionType.EMAIL:
            return {"message_type": "email", "address": [self.recipient], "network": self.network}
        if self.after_build_action is ActionType.SMS:
            return {"message_type": "sms", "msisdn": [self.recipient], "network": self.network}
        return {
            "message_type": "mms",
            "msisdn": [self.recipient],
            "network": self.network,
            "slides": [],
            "subject": "",
        }

    def to_json(self) -> dict[str, Any]:
        data = self.data if isinstance(self.data, str) else json.dumps(self.data)
        # AfterBuildData travels as a JSON string, as in the reference's curl example.
        after = json.dumps(self.after_build_data()) if self.recipient else ""
        document = {
            "MVNOID": self.mvno_id,
            "Campaign": self.campaign,
            "BuildTemplate": self.build_template or None,
            "BuildTemplateRef": self.build_template_ref,
            "Data": data,
            "AfterBuildAction": int(self.after_build_action),
            "AfterBuildData": after,
            "PostbackStatusUrl": self.postback_status_url,
            "PostbackStatusTypes": _postback_types(self.postback_status_types),
            "ForcedSize": self.forced_size,
            "SubmitNotBefore": _optional_wire_time(self.submit_not_before),
            "SubmitNotAfter": _optional_wire_time(self.submit_not_after),
        }
        return _without_empty(document)


@dataclass(frozen=True, kw_only=True)
class ResendRequest:
    """Send an archived message again to one recipient (an msisdn or an email address)."""

    message_id: str
    msisdn: str = ""
    email: str = ""
    postback_status_url: str = ""
    postback_status_types: tuple[PostbackType, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document = {
            "MessageID": self.message_id,
            "MSISDN": self.msisdn,
            "Email": self.email,
            "PostbackStatusUrl": self.postback_status_url,
            "PostbackStatusTypes": _postback_types(self.postback_status_types),
        }
        return _without_empty(document)
