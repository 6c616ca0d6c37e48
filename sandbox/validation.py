"""Check request bodies the way the provider does, and turn them into what the sandbox stores.

Keys are read case-insensitively at every level, because the provider's own Go client sends
`MessageType`, `MSISDN` and `Network` where the reference documents `message_type`, `msisdn`
and `network`, and the reference spells `PostBackStatusTypes` where the clients send
`PostbackStatusTypes`. Underscores are ignored too, since Go matches `MessageType` to the field
the reference calls `message_type`. A ValidationError names the field in its documented
spelling.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sandbox.status import POSTBACK_TYPES

MESSAGE_TYPE_OF_ACTION = {1: "mms", 2: "sms", 3: "email"}
ACTION_OF_MESSAGE_TYPE = {"mms": 1, "sms": 2, "email": 3}
ARCHIVE_ACTION = 4
SLIDE_CONTENT_TYPES = frozenset({"text", "image", "video", "audio"})
FORCED_SIZES = frozenset({"", "High", "Low"})

MSISDN_PATTERN = re.compile(r"[0-9]{8,15}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
WINDOW_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")

# What a built video looks like when its content is fetched: a tiny stand-in clip.
BUILT_VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42 sandbox video"


class ValidationError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True)
class Submission:
    """A valid message/send, generate/video or resend, ready to be stored."""

    kind: str  # sms | mms | email | video
    action: int
    message_type: str  # what is archived and sent: sms | mms | email
    recipient: str
    campaign: str
    template: int
    postback_status_url: str
    postback_status_types: tuple[str, ...]
    postback_reply_url: str
    data: dict[str, Any]  # the content GET message/{id} returns once archived
    extra_digits: str = ""
    submit_not_before: datetime | None = None
    submit_not_after: datetime | None = None


@dataclass(frozen=True)
class ResendRequest:
    message_id: str
    msisdn: str
    email: str
    postback_status_url: str
    postback_status_types: tuple[str, ...]


def normal_key(key: str) -> str:
    return key.lower().replace("_", "")


def normalise_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {normal_key(str(key)): normalise_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise_keys(item) for item in value]
    return value


def parse_new_message(body: Any, *, mvno_id: int) -> Submission:
    fields = _object(body, "body")
    action = _action(fields.get("action"), "Action")
    _check_mvno(fields, mvno_id)
    data = _object(fields.get("data"), "Data")
    message_type = _message_type(data, action, "Data")
    recipient = _recipient(data, message_type, "Data", required=True)
    _check_content(data, message_type)
    raw_data = _raw_value(body, "data")
    return Submission(
        kind=message_type,
        action=action,
        message_type=message_type,
        recipient=recipient,
        campaign=_string(fields, "campaign", "Campaign"),
        template=0,
        postback_status_url=_url(fields, "postbackstatusurl", "PostbackStatusUrl"),
        postback_status_types=_postback_types(fields),
        postback_reply_url=_url(fields, "postbackreplyurl", "PostbackReplyUrl"),
        data=raw_data,
        extra_digits=_string(data, "extradigits", "Data.extra_digits"),
        submit_not_before=_window(fields, "submitnotbefore", "SubmitNotBefore"),
        submit_not_after=_window(fields, "submitnotafter", "SubmitNotAfter"),
    )


def parse_build_request(body: Any, *, mvno_id: int) -> Submission:
    fields = _object(body, "body")
    _check_mvno(fields, mvno_id)
    template = fields.get("buildtemplate")
    if template is not None and not _is_int(template):
        raise ValidationError("BuildTemplate", "must be an integer")
    template_ref = _string(fields, "buildtemplateref", "BuildTemplateRef")
    if not template and not template_ref:
        raise ValidationError(
            "BuildTemplate", "a non-zero BuildTemplate or a BuildTemplateRef is required"
        )
    _json_value(fields.get("data"), "Data", required=True)
    action = _action(fields.get("afterbuildaction"), "AfterBuildAction")
    after_build = _json_value(
        fields.get("afterbuilddata"), "AfterBuildData", required=action != ARCHIVE_ACTION
    )
    after_build = _object(after_build, "AfterBuildData") if after_build is not None else {}
    after_build = normalise_keys(after_build)
    declared_type = _message_type(after_build, action, "AfterBuildData", required=False)
    # An archive-only build keeps whatever type the after-build data declares; a video is an MMS.
    message_type = MESSAGE_TYPE_OF_ACTION.get(action) or declared_type or "mms"
    recipient = _recipient(
        after_build, message_type, "AfterBuildData", required=action != ARCHIVE_ACTION
    )
    forced_size = _string(fields, "forcedsize", "ForcedSize")
    if forced_size not in FORCED_SIZES:
        raise ValidationError("ForcedSize", 'must be "", "High" or "Low"')
    campaign = _string(fields, "campaign", "Campaign")
    return Submission(
        kind="video",
        action=action,
        message_type=message_type,
        recipient=recipient,
        campaign=campaign,
        template=template or 0,
        postback_status_url=_url(fields, "postbackstatusurl", "PostbackStatusUrl"),
        postback_status_types=_postback_types(fields),
        postback_reply_url=_url(fields, "postbackreplyurl", "PostbackReplyUrl"),
        data=built_video_data(
            recipient=recipient,
            message_type=message_type,
            network=_string(after_build, "network", "AfterBuildData.network") or "*",
            subject=_string(after_build, "subject", "AfterBuildData.subject") or campaign,
        ),
        submit_not_before=_window(fields, "submitnotbefore", "SubmitNotBefore"),
        submit_not_after=_window(fields, "submitnotafter", "SubmitNotAfter"),
    )


def parse_resend(body: Any) -> ResendRequest:
    fields = _object(body, "body")
    message_id = _string(fields, "messageid", "MessageID")
    if not message_id:
        raise ValidationError("MessageID", "required")
    msisdn = _single(fields.get("msisdn"), "MSISDN")
    email = _single(fields.get("email"), "Email")
    if bool(msisdn) == bool(email):
        raise ValidationError("MSISDN", "exactly one of MSISDN or Email is required")
    if msisdn:
        check_msisdn(msisdn, "MSISDN")
    if email:
        _check_email(email, "Email")
    return ResendRequest(
        message_id=message_id,
        msisdn=msisdn,
        email=email,
        postback_status_url=_url(fields, "postbackstatusurl", "PostbackStatusUrl"),
        postback_status_types=_postback_types(fields),
    )


def check_msisdn(value: str, field: str) -> str:
    if not MSISDN_PATTERN.fullmatch(value):
        raise ValidationError(field, "must be 8 to 15 digits in international format, without '+'")
    return value


def built_video_data(*, recipient: str, message_type: str, network: str, subject: str) -> dict:
    """The content a finished build archives: the after-build data plus the rendered video."""
    recipient_key = "address" if message_type == "email" else "msisdn"
    data: dict[str, Any] = {
        "message_type": message_type,
        recipient_key: [recipient] if recipient else [],
        "network": network,
    }
    title = subject or "Your video"
    video = base64.b64encode(BUILT_VIDEO_BYTES).decode()
    if message_type == "mms":
        data["subject"] = title
        data["slides"] = [
            {
                "duration": "10",
                "content": [
                    {"type": "video", "mime": "video/mp4", "data": video, "name": "video.mp4"}
                ],
            }
        ]
    elif message_type == "email":
        data["subject"] = title
        data["html"] = "<p>Your video is attached.</p>"
        data["attachments"] = [{"filename": "video.mp4", "data": video}]
    else:
        data["text"] = "Your video is ready."
    return data


# --- the pieces -------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(field, "must be a JSON object")
    return normalise_keys(value)


def _raw_value(body: dict[str, Any], key: str) -> Any:
    """The value of `key` as the client sent it, found case-insensitively."""
    found = None
    for name, value in body.items():
        if normal_key(name) == key:
            found = value
    return found


def _string(fields: dict[str, Any], key: str, field: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    return value


def _required_string(fields: dict[str, Any], key: str, field: str) -> str:
    value = _string(fields, key, field)
    if not value.strip():
        raise ValidationError(field, "required")
    return value


def _action(value: Any, field: str) -> int:
    if value is None:
        raise ValidationError(field, "required")
    if not _is_int(value) or not 1 <= value <= 4:
        raise ValidationError(field, "must be 1 (MMS), 2 (SMS), 3 (Email) or 4 (Archive)")
    return value


def _check_mvno(fields: dict[str, Any], mvno_id: int) -> None:
    value = fields.get("mvnoid")
    if value is None:
        raise ValidationError("MVNOID", "required")
    if not _is_int(value) or value == 0:
        raise ValidationError("MVNOID", "must be a non-zero integer")
    if value != mvno_id:
        raise ValidationError("MVNOID", "does not belong to this application")


def _message_type(data: dict[str, Any], action: int, prefix: str, *, required: bool = True) -> str:
    """The message type `data` declares, or the one `action` says when `data` leaves it out:
    the Go client omits an empty message_type for SMS and email and sends "" for MMS."""
    field = f"{prefix}.message_type"
    value = data.get("messagetype")
    if value in (None, ""):
        if action in MESSAGE_TYPE_OF_ACTION:
            return MESSAGE_TYPE_OF_ACTION[action]
        if not required:
            return ""
        raise ValidationError(field, f"required when Action is {ARCHIVE_ACTION} (Archive)")
    if value not in ACTION_OF_MESSAGE_TYPE:
        raise ValidationError(field, 'must be "sms", "mms" or "email"')
    if action != ARCHIVE_ACTION and ACTION_OF_MESSAGE_TYPE[value] != action:
        raise ValidationError(field, f"{value!r} does not match Action {action}")
    return value


def _recipient(data: dict[str, Any], message_type: str, prefix: str, *, required: bool) -> str:
    key = "address" if message_type == "email" else "msisdn"
    field = f"{prefix}.{key}"
    value = data.get(key)
    if value is None and not required:
        return ""
    # The list is historical: the provider sends each message to exactly one recipient.
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
        raise ValidationError(field, "must be a list with exactly one recipient")
    if key == "address":
        return _check_email(value[0], field)
    return check_msisdn(value[0], field)


def _check_email(value: str, field: str) -> str:
    if not EMAIL_PATTERN.fullmatch(value):
        raise ValidationError(field, "is not a valid email address")
    return value


def _check_content(data: dict[str, Any], message_type: str) -> None:
    _string(data, "network", "Data.network")
    if message_type == "sms":
        _required_string(data, "text", "Data.text")
        _string(data, "extradigits", "Data.extra_digits")
    elif message_type == "email":
        _check_email_content(data)
    else:
        _check_mms_content(data)


def _check_email_content(data: dict[str, Any]) -> None:
    _required_string(data, "subject", "Data.subject")
    html = _string(data, "html", "Data.html")
    text = _string(data, "text", "Data.text")
    if not html.strip() and not text.strip():
        raise ValidationError("Data.html", "html or text is required")
    _string(data, "fromname", "Data.fromname")
    _string(data, "replyto", "Data.replyto")
    attachments = data.get("attachments")
    if attachments is None:
        attachments = []
    if not isinstance(attachments, list):
        raise ValidationError("Data.attachments", "must be a list")
    for index, attachment in enumerate(attachments):
        field = f"Data.attachments[{index}]"
        attachment = _object(attachment, field)
        _required_string(attachment, "filename", f"{field}.filename")
        _base64(attachment.get("data"), f"{field}.data")


def _check_mms_content(data: dict[str, Any]) -> None:
    _required_string(data, "subject", "Data.subject")
    slides = data.get("slides")
    if not isinstance(slides, list) or not slides:
        raise ValidationError("Data.slides", "at least one slide is required")
    for index, slide in enumerate(slides):
        field = f"Data.slides[{index}]"
        slide = _object(slide, field)
        _duration(slide.get("duration"), f"{field}.duration")
        content = slide.get("content")
        if not isinstance(content, list) or not content:
            raise ValidationError(f"{field}.content", "at least one content item is required")
        for position, item in enumerate(content):
            _check_slide_content(_object(item, f"{field}.content[{position}]"), field, position)


def _check_slide_content(item: dict[str, Any], slide_field: str, position: int) -> None:
    field = f"{slide_field}.content[{position}]"
    content_type = item.get("type")
    if content_type not in SLIDE_CONTENT_TYPES:
        raise ValidationError(f"{field}.type", "must be text, image, video or audio")
    _string(item, "mime", f"{field}.mime")
    _string(item, "name", f"{field}.name")
    if content_type == "text":
        _required_string(item, "data", f"{field}.data")
    else:
        _base64(item.get("data"), f"{field}.data")


def _duration(value: Any, field: str) -> None:
    # The reference and Go send a string ("5"), the C# client a number (5): accept both.
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValidationError(field, "must be a number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, "must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(field, "must be more than zero seconds")


def _base64(value: Any, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "base64 data is required")
    try:
        # Line breaks are tolerated: MIME encoders wrap base64 at 76 columns.
        base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(field, "is not valid base64") from None


def _json_value(value: Any, field: str, *, required: bool) -> Any:
    """A value the clients send either as an object or as that object serialised to a string."""
    if value is None or value == "":
        if required:
            raise ValidationError(field, "required")
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationError(field, "is not valid JSON") from None
    if isinstance(value, dict):
        return value
    raise ValidationError(field, "must be a JSON string or an object")


def _single(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise ValidationError(field, "must be one recipient")
    return value


def _url(fields: dict[str, Any], key: str, field: str) -> str:
    value = _string(fields, key, field)
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError(field, "must be an http or https URL")
    return value


def _postback_types(fields: dict[str, Any]) -> tuple[str, ...]:
    field = "PostbackStatusTypes"
    value = fields.get("postbackstatustypes")
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(field, "must be a comma-separated string")
    types = tuple(item.strip() for item in value if item.strip())
    for item in types:
        if item not in POSTBACK_TYPES:
            raise ValidationError(
                field, f"{item!r} is not one of build,submit,archive,sent,delivery"
            )
    return types


def _window(fields: dict[str, Any], key: str, field: str) -> datetime | None:
    value = _string(fields, key, field)
    if not value:
        return None
    try:
        if not WINDOW_PATTERN.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(field, 'must be "yyyy-mm-dd hh:mm" (UTC)') from None
