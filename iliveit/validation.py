"""The provider's rules for requests, checked before anything is sent.

A broken message must not spend a rate-limit token or reach the API only to come back as a
400. Each check raises InvalidMessage naming the wire field (the spelling the API's own 400
texts use) and the reason, so a composer can show it next to the input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from iliveit.errors import InvalidMessage
from iliveit.types import (
    ACTION_FOR_DATA,
    ActionType,
    BuildRequest,
    EmailData,
    MMSData,
    NewMessage,
    PostbackType,
    ResendRequest,
    Slide,
    SlideContentType,
    SMSData,
    wire_time,
)

# International format without the "+", as the reference asks.
_MSISDN = re.compile(r"[0-9]{8,15}", re.ASCII)
# Deliberately loose: the provider only needs something mail can be routed to.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DIGITS = re.compile(r"[0-9]*", re.ASCII)
_POSTBACK_TYPES = tuple(str(postback_type) for postback_type in PostbackType)
_CONTENT_TYPES = tuple(str(content_type) for content_type in SlideContentType)
FORCED_SIZES = ("", "High", "Low")

# What may not appear in a value that becomes a mail or MMS header (subject, from name,
# reply-to, attachment name): C0 controls and DEL, C1 controls (NEL, U+0085, among them), and
# Unicode's LINE and PARAGRAPH SEPARATOR. CR and LF would start a new header ("Bcc: ..."); the
# others are line breaks to some parsers (Python's str.splitlines() splits on VT, FF, \x1c-\x1e,
# NEL, U+2028 and U+2029). Tab is refused too: it could not start a header, but no one-line
# subject or name needs one, and one rule without exceptions is easier to trust.
HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
HEADER_UNSAFE_REASON = "line breaks and control characters are not allowed"


# --- public entry points ------------------------------------------------------------------------


def validate_new_message(message: NewMessage) -> None:
    _check_mvno_id(message.mvno_id)
    _check_action(message)
    _check_data(message.data)
    _check_status_postbacks(message.postback_status_url, message.postback_status_types)
    _check_url(message.postback_reply_url, "PostbackReplyUrl")
    _check_send_window(message.submit_not_before, message.submit_not_after)


def validate_build_request(request: BuildRequest) -> None:
    _check_mvno_id(request.mvno_id)
    _check_template(request.build_template, request.build_template_ref)
    _check_template_data(request.data)
    _check_after_build(request.after_build_action, request.recipient)
    if request.forced_size not in FORCED_SIZES:
        raise InvalidMessage("ForcedSize", 'must be "", "High" or "Low"')
    _check_status_postbacks(request.postback_status_url, request.postback_status_types)
    _check_send_window(request.submit_not_before, request.submit_not_after)


def validate_resend_request(request: ResendRequest) -> None:
    validate_message_id(request.message_id, "MessageID")
    if request.msisdn and request.email:
        raise InvalidMessage("Email", "give an MSISDN or an Email, not both: one recipient")
    if not (request.msisdn or request.email):
        raise InvalidMessage("MSISDN", "an MSISDN or an Email recipient is required")
    if request.email:
        _check_email(request.email, "Email")
    else:
        validate_msisdn(request.msisdn, "MSISDN")
    _check_status_postbacks(request.postback_status_url, request.postback_status_types)


def validate_message_id(message_id: Any, field: str = "message_id") -> None:
    _require_text(message_id, field)


def header_text_is_safe(value: str) -> bool:
    """False when `value` holds a character that could break out of a mail or MMS header."""
    return HEADER_UNSAFE.search(value) is None


def validate_msisdn(msisdn: Any, field: str = "msisdn") -> None:
    _check_one_recipient(msisdn, field)
    if not _MSISDN.fullmatch(msisdn):
        raise InvalidMessage(field, "must be 8 to 15 digits in international format, no '+'")


# --- the message itself -------------------------------------------------------------------------


def _check_mvno_id(mvno_id: Any) -> None:
    if isinstance(mvno_id, bool) or not isinstance(mvno_id, int):
        raise InvalidMessage("MVNOID", "must be an integer")
    if mvno_id == 0:
        raise InvalidMessage("MVNOID", "must be non-zero (the client ID iLiveIt supplied)")


def _check_action(message: NewMessage) -> None:
    if type(message.data) not in ACTION_FOR_DATA:
        raise InvalidMessage("Data", "must be SMSData, EmailData or MMSData")
    if message.action is None:
        return
    if message.action not in tuple(ActionType):
        raise InvalidMessage("Action", "must be 1 (MMS), 2 (SMS), 3 (Email) or 4 (Archive)")
    needed = ACTION_FOR_DATA[type(message.data)]
    if message.action not in (needed, ActionType.ARCHIVE):
        kind = type(message.data).__name__
        raise InvalidMessage("Action", f"{ActionType(message.action).name} cannot send {kind}")


def _check_data(data: SMSData | EmailData | MMSData) -> None:
    if isinstance(data, SMSData):
        _check_sms(data)
    elif isinstance(data, EmailData):
        _check_email_data(data)
    else:
        _check_mms(data)


def _check_sms(data: SMSData) -> None:
    validate_msisdn(data.msisdn, "Data.msisdn")
    _require_text(data.text, "Data.text")
    if not isinstance(data.extra_digits, str) or not _DIGITS.fullmatch(data.extra_digits):
        raise InvalidMessage("Data.extra_digits", "must be digits only")


def _check_email_data(data: EmailData) -> None:
    _check_email(data.address, "Data.address")
    _require_text(data.subject, "Data.subject")
    _check_header(data.subject, "Data.subject")
    if not (_is_filled(data.html) or _is_filled(data.text)):
        raise InvalidMessage("Data.html", "an html or a text body is required")
    _check_header(data.fromname, "Data.fromname")
    if data.replyto:
        _check_header(data.replyto, "Data.replyto")
        _check_email(data.replyto, "Data.replyto")
    for index, attachment in enumerate(data.attachments):
        field = f"Data.attachments[{index}]"
        _require_text(attachment.filename, f"{field}.filename")
        _check_header(attachment.filename, f"{field}.filename")
        _check_base64(attachment.data, f"{field}.data")


def _check_mms(data: MMSData) -> None:
    validate_msisdn(data.msisdn, "Data.msisdn")
    _require_text(data.subject, "Data.subject")
    _check_header(data.subject, "Data.subject")
    if not data.slides:
        raise InvalidMessage("Data.slides", "at least one slide is required")
    for index, slide in enumerate(data.slides):
        _check_slide(slide, f"Data.slides[{index}]")


def _check_slide(slide: Slide, field: str) -> None:
    duration = slide.duration
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise InvalidMessage(f"{field}.duration", "must be a positive whole number of seconds")
    if not slide.content:
        raise InvalidMessage(f"{field}.content", "at least one content item is required")
    for index, content in enumerate(slide.content):
        item = f"{field}.content[{index}]"
        if content.type not in _CONTENT_TYPES:
            raise InvalidMessage(f"{item}.type", f"must be one of {', '.join(_CONTENT_TYPES)}")
        _require_text(content.mime, f"{item}.mime")
        if content.type == SlideContentType.TEXT:
            _require_text(content.data, f"{item}.data")
        else:
            _check_base64(content.data, f"{item}.data")


# --- video builds -------------------------------------------------------------------------------


def _check_template(build_template: Any, build_template_ref: Any) -> None:
    if isinstance(build_template, bool) or not isinstance(build_template, int):
        raise InvalidMessage("BuildTemplate", "must be an integer")
    if not isinstance(build_template_ref, str):
        raise InvalidMessage("BuildTemplateRef", "must be a string")
    if build_template and build_template_ref:
        raise InvalidMessage("BuildTemplate", "give BuildTemplate or BuildTemplateRef, not both")
    if not (build_template or build_template_ref.strip()):
        raise InvalidMessage("BuildTemplate", "a non-zero BuildTemplate or a BuildTemplateRef")


def _check_template_data(data: Any) -> None:
    if isinstance(data, str):
        try:
            json.loads(data)
        except ValueError as error:
            raise InvalidMessage("Data", f"must be a JSON string: {error}") from None
    elif isinstance(data, Mapping):
        try:
            json.dumps(data)
        except (TypeError, ValueError) as error:
            raise InvalidMessage("Data", f"cannot be serialised to JSON: {error}") from None
    else:
        raise InvalidMessage("Data", "must be a JSON string or an object")


def _check_after_build(action: Any, recipient: Any) -> None:
    if action not in tuple(ActionType):
        raise InvalidMessage(
            "AfterBuildAction", "must be 1 (MMS), 2 (SMS), 3 (Email) or 4 (Archive)"
        )
    if action == ActionType.ARCHIVE and recipient == "":
        return
    if action == ActionType.EMAIL:
        _check_email(recipient, "AfterBuildData.address")
    else:
        validate_msisdn(recipient, "AfterBuildData.msisdn")


# --- shared pieces ------------------------------------------------------------------------------


def _check_status_postbacks(url: Any, types: Iterable[Any]) -> None:
    _check_url(url, "PostbackStatusUrl")
    if isinstance(types, str):
        # "submit,delivery" would otherwise be read letter by letter.
        raise InvalidMessage("PostbackStatusTypes", "must be a tuple of types, not a string")
    for postback_type in types:
        if postback_type not in _POSTBACK_TYPES:
            allowed = ", ".join(_POSTBACK_TYPES)
            raise InvalidMessage(
                "PostbackStatusTypes", f"{postback_type!r} is not one of {allowed}"
            )
    if types and not url:
        raise InvalidMessage("PostbackStatusTypes", "given without a PostbackStatusUrl")


def _check_url(url: Any, field: str) -> None:
    if url == "":
        return
    if not isinstance(url, str) or any(character.isspace() for character in url):
        raise InvalidMessage(field, "must be an http(s) URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidMessage(field, "must be an http(s) URL")


def _check_send_window(not_before: datetime | None, not_after: datetime | None) -> None:
    for moment, field in ((not_before, "SubmitNotBefore"), (not_after, "SubmitNotAfter")):
        if moment is None:
            continue
        if not isinstance(moment, datetime):
            raise InvalidMessage(field, "must be a datetime")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidMessage(field, "must be timezone-aware; the API reads it as UTC")
    # The API knows whole minutes only, so compare what it will read.
    if not_before and not_after and wire_time(not_after) <= wire_time(not_before):
        raise InvalidMessage("SubmitNotAfter", "must be at least a minute after SubmitNotBefore")


def _check_email(address: Any, field: str) -> None:
    _check_one_recipient(address, field)
    if not _EMAIL.fullmatch(address):
        raise InvalidMessage(field, "not a valid email address")


def _check_one_recipient(value: Any, field: str) -> None:
    if isinstance(value, list | tuple | set):
        raise InvalidMessage(field, f"exactly one recipient is allowed, got {len(value)}")
    _require_text(value, field)


def _check_header(value: Any, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidMessage(field, "must be a string")
    if not header_text_is_safe(value):
        raise InvalidMessage(field, HEADER_UNSAFE_REASON)


def _check_base64(value: Any, field: str) -> None:
    _require_text(value, field)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage(field, "must be valid base64") from None


def _require_text(value: Any, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidMessage(field, "must be a string")
    if not value.strip():
        raise InvalidMessage(field, "required")


def _is_filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
