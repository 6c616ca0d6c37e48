"""In-memory messages, submission counts and flaky-recipient memory, behind one lock.

Like stripe-mock, everything is lost on restart. A message's request fields never change after
it is stored; only its stages do, so readers that need stages go through the store's lock.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.magic import Magic, magic_for
from sandbox.scrub import network_of
from sandbox.status import ARCHIVED_CODES, STAGES, Stage, rfc3339
from sandbox.validation import Submission


@dataclass
class Message:
    message_id: str
    token: str
    mvno_id: int
    submission: Submission
    request: Any  # the JSON body as received
    submission_key: str
    network: str
    received_at: datetime
    starts_at: datetime
    magic: Magic | None
    # Switches are read once, at acceptance, so changing them never splits one message's story.
    duplicate_postbacks: bool
    reorder_postbacks: bool
    stages: dict[str, Stage] = field(default_factory=lambda: {name: Stage() for name in STAGES})
    network_reference: str = ""
    lifecycle_done: bool = False

    @property
    def archived(self) -> bool:
        return self.stages["archive"].code in ARCHIVED_CODES

    def status_result(self, *, extended: bool = False) -> dict[str, Any]:
        sub = self.submission
        is_email = sub.message_type == "email"
        result: dict[str, Any] = {
            "type": sub.message_type,
            "campaign": sub.campaign,
            "message_id": self.message_id,
            "template": sub.template,
            "network": self.network,
            "msisdn": "" if is_email else sub.recipient,
            "email": sub.recipient if is_email else "",
            "mvno": self.mvno_id,
            "date_received": rfc3339(self.received_at),
        }
        for name, stage in self.stages.items():
            result[f"{name}_status"] = stage.code
            result[f"{name}_status_description"] = stage.description
            result[f"{name}_timestamp"] = stage.timestamp
        if extended:
            result["network_reference"] = self.network_reference
        return result

    def record(self, submissions: int) -> dict[str, Any]:
        sub = self.submission
        return {
            "message_id": self.message_id,
            "token": self.token,
            "kind": sub.kind,
            "action": sub.action,
            "recipient": sub.recipient,
            "campaign": sub.campaign,
            "postback_status_url": sub.postback_status_url,
            "postback_status_types": list(sub.postback_status_types),
            "postback_reply_url": sub.postback_reply_url,
            "request": self.request,
            "status": self.status_result(extended=True),
            "submission_key": self.submission_key,
            "submissions": submissions,
            "starts_at": rfc3339(self.starts_at),
            "lifecycle_done": self.lifecycle_done,
            "magic": self.magic.value if self.magic else None,
        }


def submission_key(sub: Submission) -> str:
    """What identifies "the same message" when counting duplicate submissions: the portal gives
    each message its own postback URL, so that is the best key when present."""
    return sub.postback_status_url or f"{sub.campaign}|{sub.recipient}"


def new_message_id() -> str:
    return uuid.uuid4().hex


def build_message(
    sub: Submission,
    *,
    message_id: str,
    token: str,
    mvno_id: int,
    request: Any,
    now: datetime,
    duplicate_postbacks: bool,
    reorder_postbacks: bool,
) -> Message:
    if "@" in sub.recipient:
        network = "email"
    else:
        network = network_of(sub.recipient) if sub.recipient else ""
    starts_at = now
    if sub.submit_not_before and sub.submit_not_before > now:
        starts_at = sub.submit_not_before
    return Message(
        message_id=message_id,
        token=token,
        mvno_id=mvno_id,
        submission=sub,
        request=request,
        submission_key=submission_key(sub),
        network=network,
        received_at=now,
        starts_at=starts_at,
        magic=magic_for(sub.recipient),
        duplicate_postbacks=duplicate_postbacks,
        reorder_postbacks=reorder_postbacks,
    )


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, Message] = {}
        self._submissions: Counter[str] = Counter()
        self._flaky_seen: set[tuple[str, str]] = set()

    def add(self, message: Message) -> bool:
        """Store a message and count its submission; False when the id is already taken."""
        with self._lock:
            if message.message_id in self._messages:
                return False
            self._messages[message.message_id] = message
            self._submissions[message.submission_key] += 1
            return True

    def get(self, message_id: str, token: str | None = None) -> Message | None:
        """The message, if it exists and (when `token` is given) belongs to that application."""
        with self._lock:
            message = self._messages.get(message_id)
        if message is None or (token is not None and message.token != token):
            return None
        return message

    def status(self, message_id: str, token: str, *, extended: bool) -> dict[str, Any] | None:
        message = self.get(message_id, token)
        if message is None:
            return None
        with self._lock:
            return message.status_result(extended=extended)

    def is_archived(self, message: Message) -> bool:
        with self._lock:
            return message.archived

    def set_stage(
        self, message_id: str, name: str, stage: Stage, *, last: bool
    ) -> dict[str, Any] | None:
        """Apply a stage change; the StatusResult right after it, or None if reset removed it."""
        with self._lock:
            message = self._messages.get(message_id)
            if message is None:
                return None
            message.stages[name] = stage
            message.lifecycle_done = last
            if name == "sent" and not message.network_reference:
                message.network_reference = f"SBX{message_id[:16].upper()}"
            return message.status_result()

    def record(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            message = self._messages.get(message_id)
            if message is None:
                return None
            return message.record(self._submissions[message.submission_key])

    def records(self, token: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                message.record(self._submissions[message.submission_key])
                for message in self._messages.values()
                if token is None or message.token == token
            ]

    def submissions(self) -> dict[str, Any]:
        with self._lock:
            by_key = dict(self._submissions)
        return {
            "total": sum(by_key.values()),
            "by_key": by_key,
            "duplicates": {key: count for key, count in by_key.items() if count > 1},
        }

    def first_flaky_attempt(self, token: str, recipient: str) -> bool:
        """True only the first time an application submits to this flaky recipient."""
        with self._lock:
            if (token, recipient) in self._flaky_seen:
                return False
            self._flaky_seen.add((token, recipient))
            return True

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._submissions.clear()
            self._flaky_seen.clear()
