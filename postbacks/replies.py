"""Taking in replies: parse a stored reply postback and keep it on its message.

iLiveIt POSTs an SMS reply as {MessageId, SourceMSISDN, DestinationMSISDN, Message, ExtraDigits,
RetryCount} and an email reply as {message_id, address, content (the raw email, base64),
RetryCount}. Keys are read case-insensitively and without underscores, as the provider's clients
spell them both ways. A reply is retried until it is answered 200, so the same reply arriving
again (same message, sender and content) is stored once.
"""

import binascii
import hashlib
import json
import logging
from base64 import b64decode
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from messaging.models import Message
from postbacks.models import InboxState, Reply, ReplyKind
from postbacks.opt_outs import opt_out_from_reply
from postbacks.services import inbox_finish, inbox_take, text_unstorable

logger = logging.getLogger(__name__)

SENDER_MAX = Reply._meta.get_field("sender").max_length
SUBJECT_MAX = Reply._meta.get_field("subject").max_length
MESSAGE_ID_MAX = 128


class MalformedReply(ValueError):
    """The body cannot be a reply; the reason goes on the quarantined inbox row."""


@dataclass(frozen=True)
class ParsedReply:
    kind: str
    message_id: str  # iLiveIt's MessageID of the message replied to; "" when absent
    sender: str
    text: str
    subject: str = ""
    raw_email: bytes = b""

    @property
    def content_hash(self) -> str:
        content = self.raw_email if self.kind == ReplyKind.EMAIL else self.text.encode()
        return hashlib.sha256(self.sender.encode() + b"\0" + content).hexdigest()


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def _text(document: dict, name: str, *, required: bool) -> str:
    value = document.get(name)
    if value is None:
        if required:
            raise MalformedReply(f"{name}: missing")
        return ""
    if not isinstance(value, str):
        raise MalformedReply(f"{name}: expected a string, got {type(value).__name__}")
    if reason := text_unstorable(value):
        raise MalformedReply(f"{name}: {reason}")
    return value


def _sender(document: dict, name: str) -> str:
    sender = _text(document, name, required=True).strip()
    if not sender:
        raise MalformedReply(f"{name}: empty")
    if len(sender) > SENDER_MAX:
        raise MalformedReply(f"{name}: longer than {SENDER_MAX} characters")
    return sender


def _clean(text: str) -> str:
    # Derived from the raw email, which is kept whole: a NUL is dropped, not refused.
    return text.replace("\x00", "")


def _email_parts(raw: bytes) -> tuple[str, str]:
    """The subject and a readable text of a raw email: its plain part, else its HTML part
    without tags, else its subject. Anything the parser chokes on reads as empty."""
    email = message_from_bytes(raw, policy=default_policy)
    try:
        subject = " ".join(str(email["subject"] or "").split())
    except Exception:  # a header the parser cannot decode
        subject = ""
    text = ""
    for preference, convert in (("plain", str), ("html", strip_tags)):
        try:
            part = email.get_body(preferencelist=(preference,))
            text = convert(part.get_content()).strip() if part is not None else ""
        except Exception:  # an unknown charset or a broken MIME structure
            text = ""
        if text:
            break
    return _clean(subject)[:SUBJECT_MAX], _clean(text or subject)


def parse_reply(body: bytes) -> ParsedReply:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedReply(f"body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise MalformedReply(f"body is a JSON {type(document).__name__}, not an object")
    fields = {_key(k): v for k, v in document.items() if isinstance(k, str)}
    message_id = _text(fields, "messageid", required=False).strip()
    if len(message_id) > MESSAGE_ID_MAX:
        raise MalformedReply(f"message_id: longer than {MESSAGE_ID_MAX} characters")
    if "content" in fields or "address" in fields:
        sender = _sender(fields, "address")
        encoded = _text(fields, "content", required=True)
        try:
            raw = b64decode(encoded.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise MalformedReply(f"content: not base64: {error}") from None
        if not raw:
            raise MalformedReply("content: empty")
        subject, text = _email_parts(raw)
        return ParsedReply(ReplyKind.EMAIL, message_id, sender, text, subject, raw)
    sender = _sender(fields, "sourcemsisdn")
    text = _text(fields, "message", required=True)
    return ParsedReply(ReplyKind.SMS, message_id, sender, text)


def reply_apply(*, inbox_id: int) -> str:
    """Store one reply postback on its message; answer the inbox row's new state."""
    with transaction.atomic():
        inbox, to_apply = inbox_take(inbox_id)
        if not to_apply:
            return inbox.state
        if inbox.message_id is None:
            # Signed by us, but its message is gone (or it never named one).
            inbox_finish(inbox, InboxState.QUARANTINED, "no message")
            return inbox.state
        try:
            reply = parse_reply(bytes(inbox.body))
        except MalformedReply as error:
            inbox_finish(inbox, InboxState.QUARANTINED, str(error))
            return inbox.state
        except Exception as error:  # whatever the body, the row is settled, never retried
            logger.exception("reply postback %s could not be parsed", inbox.pk)
            inbox_finish(inbox, InboxState.QUARANTINED, f"unreadable: {type(error).__name__}")
            return inbox.state
        # The row lock makes the duplicate check below safe against the same reply retried.
        message = Message.objects.filter(pk=inbox.message_id).locked().get()
        if message.iliveit_id and reply.message_id and reply.message_id != message.iliveit_id:
            logger.warning(
                "reply for message %s names MessageID %r; kept as suspicious",
                message.pk,
                reply.message_id,
            )
            inbox_finish(inbox, InboxState.SUSPICIOUS, f"names MessageID {reply.message_id[:100]}")
            return inbox.state
        content_hash = reply.content_hash
        if Reply.objects.filter(message=message, content_hash=content_hash).exists():
            inbox_finish(inbox, InboxState.DUPLICATE)
            return inbox.state
        row = Reply(
            message=message,  # Reply.save copies its campaign and application
            inbox=inbox,
            kind=reply.kind,
            sender=reply.sender,
            text=reply.text,
            subject=reply.subject,
            content_hash=content_hash,
        )
        try:
            with transaction.atomic():
                if reply.raw_email:
                    # Saves the row too.
                    row.raw_email.save(f"{content_hash[:16]}.eml", ContentFile(reply.raw_email))
                else:
                    row.save()
        except IntegrityError:
            inbox_finish(inbox, InboxState.DUPLICATE)
            return inbox.state
        # STOP, START...: only a new reply acts, so a retried one changes nothing again.
        opt_out_from_reply(message=message, kind=reply.kind, text=reply.text)
        inbox_finish(inbox, InboxState.APPLIED)
        return inbox.state
