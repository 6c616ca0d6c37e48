"""The packets the provider POSTs to PostbackReplyUrl when a recipient answers a message."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sandbox.store import Message
from sandbox.validation import normalise_keys

# The sender address the sandbox's SMS go out from; extra_digits are appended to it.
SANDBOX_SHORT_CODE = "40001"
SANDBOX_EMAIL_SENDER = "noreply@sandbox.iliveit.invalid"


def reply_packet(message: Message, text: str) -> dict[str, Any]:
    if message.submission.message_type == "email":
        return email_reply(message, text)
    return sms_reply(message, text)


def sms_reply(message: Message, text: str) -> dict[str, Any]:
    extra_digits = message.submission.extra_digits
    return {
        "MessageId": message.message_id,
        "SourceMSISDN": message.submission.recipient,
        "DestinationMSISDN": SANDBOX_SHORT_CODE + extra_digits,
        "Message": text,
        "ExtraDigits": extra_digits,
        "RetryCount": 0,
    }


def email_reply(message: Message, text: str) -> dict[str, Any]:
    subject = normalise_keys(message.submission.data).get("subject") or ""
    email = EmailMessage()
    email["From"] = message.submission.recipient
    email["To"] = SANDBOX_EMAIL_SENDER
    email["Subject"] = f"Re: {subject}"
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid(domain="sandbox.iliveit.invalid")
    email["In-Reply-To"] = f"<{message.message_id}@sandbox.iliveit.invalid>"
    email.set_content(text)
    return {
        "message_id": message.message_id,
        "address": message.submission.recipient,
        "content": base64.b64encode(email.as_bytes()).decode(),
        "RetryCount": 0,
    }
