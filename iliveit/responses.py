"""Response types of the iLiveIt Messaging API: status results (a postback's body, or an
answer to `message/status`), archived messages and scrub results.

Each is read with `from_json()`, which accepts every key spelling the provider's own clients use
(see NOTES.md), because the postback webhook parses bodies that any of those clients' servers
may have shaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iliveit.codes import PIPELINE_CODES, STAGES
from iliveit.errors import MalformedPayload, MalformedStatus
from iliveit.types import PostbackType

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLAG_WORDS = {"true": True, "1": True, "false": False, "0": False}


def _fold(key: str) -> str:
    # One spelling for "message_type", "MessageType" and "MESSAGE_TYPE".
    return key.replace("_", "").lower()


@dataclass(frozen=True)
class _Fields:
    """Typed reads from one JSON object, by key in any case; failures name the key."""

    values: dict[str, Any]
    malformed: type[MalformedPayload]

    @classmethod
    def of(cls, document: Any, malformed: type[MalformedPayload], what: str) -> _Fields:
        if not isinstance(document, dict):
            raise malformed(f"{what}: expected a JSON object, got {_kind(document)}")
        folded = {_fold(key): value for key, value in document.items() if isinstance(key, str)}
        return cls(folded, malformed)

    def get(self, key: str) -> Any:
        return self.values.get(_fold(key))

    def fail(self, key: str, reason: str) -> MalformedPayload:
        return self.malformed(f"{key}: {reason}")

    def text(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)}")
        return value

    def integer(self, key: str) -> int:
        """Absent, null and "" read as 0: the provider's "not set"."""
        value = self.get(key)
        if value is None or value == "":
            return 0
        if isinstance(value, bool):
            raise self.fail(key, "expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            try:
                return int(value)
            except ValueError:  # longer than Python's int-from-string limit
                raise self.fail(key, "integer out of range") from None
        raise self.fail(key, f"expected an integer, got {value!r:.40}")

    def flag(self, key: str) -> bool:
        """A boolean as the C# client reads it (true) or as the Go client does ("true", "1").
        Absent, null and "" read as False, so that a missing allow_send never permits a send."""
        value = self.get(key)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return value == 1
        if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
            return _FLAG_WORDS[value.strip().lower()]
        raise self.fail(key, f"expected true or false, got {value!r:.40}")

    def moment(self, key: str) -> datetime | None:
        """An RFC 3339 time in UTC; absent, "" and the zero time read as None."""
        value = self.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected an RFC 3339 timestamp, got {_kind(value)}")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise self.fail(key, f"not an RFC 3339 timestamp: {value!r:.40}") from None
        if moment.replace(tzinfo=None) == datetime(1, 1, 1):
            return None
        if moment.tzinfo is None:
            # The API keeps every time in UTC; some servers drop the "Z".
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.fail(key, f"timestamp out of range: {value!r:.40}") from None

    def nested(self, key: str) -> _Fields:
        value = self.get(key)
        return _Fields.of({} if value is None else value, self.malformed, key)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a JSON object, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "value")


@dataclass(frozen=True, kw_only=True)
class StageStatus:
    code: int
    description: str  # as the provider sent it; may be empty
    timestamp: datetime | None

    @property
    def label(self) -> str:
        """A readable name even when the provider sent no description."""
        return self.description or PIPELINE_CODES.get(self.code, f"code {self.code}")


_POSTBACK_TYPE_VALUES = frozenset(str(postback_type) for postback_type in PostbackType)


def _stage(fields: _Fields, stage: str) -> StageStatus | None:
    code = fields.integer(f"{stage}_status")
    description = fields.text(f"{stage}_status_description")
    timestamp = fields.moment(f"{stage}_timestamp")
    if code == 0:
        return None
    return StageStatus(code=code, description=description, timestamp=timestamp)


def _postback_type(fields: _Fields) -> PostbackType | None:
    value = fields.text("postback_type").strip().lower()
    # The one rule for a postback_type we do not know (a newer iLiveIt's): it is dropped, not
    # refused. The stages carry the news and the merge goes by them alone, so refusing the
    # body would quarantine a real report (a delivery, say) for a label, and NOTES.md asks us
    # to keep what we do not know rather than reject it; `raw` keeps the original. A value of
    # the wrong JSON type (a number) is still malformed: `fields.text` refuses it.
    return PostbackType(value) if value in _POSTBACK_TYPE_VALUES else None


@dataclass(frozen=True, kw_only=True)
class StatusResult:
    """One message's status, from GET message/{id}/status(Extended) or a status postback."""

    type: str
    campaign: str
    message_id: str
    template: int | None
    network: str
    msisdn: str
    email: str
    mvno: int | None
    date_received: datetime | None
    build: StageStatus | None
    archive: StageStatus | None
    submit: StageStatus | None
    sent: StageStatus | None
    delivered: StageStatus | None
    network_reference: str = ""
    postback_type: PostbackType | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_body(cls, body: bytes) -> StatusResult:
        """Read a raw JSON body (a status postback's); raises MalformedStatus, and nothing
        else, when it is not a StatusResult."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            # RecursionError: nesting deeper than the JSON decoder can follow.
            raise MalformedStatus(f"body is not JSON: {error}") from None
        return cls.from_json(document)

    @classmethod
    def from_json(cls, document: Any) -> StatusResult:
        """Read a decoded JSON value; raises MalformedStatus, and nothing else, when it is
        not a StatusResult."""
        fields = _Fields.of(document, MalformedStatus, "StatusResult")
        message_id = fields.text("message_id")
        if not message_id.strip():
            raise fields.fail("message_id", "required")
        stages = {stage: _stage(fields, stage) for stage in STAGES}
        return cls(
            type=fields.text("type"),
            campaign=fields.text("campaign"),
            message_id=message_id,
            template=fields.integer("template") or None,
            network=fields.text("network"),
            msisdn=fields.text("msisdn"),
            email=fields.text("email"),
            mvno=fields.integer("mvno") or None,
            date_received=fields.moment("date_received"),
            **stages,
            network_reference=fields.text("network_reference"),
            postback_type=_postback_type(fields),
            raw=document,
        )


@dataclass(frozen=True, kw_only=True)
class ArchivedMessage:
    type: str
    date_created: datetime | None
    data: dict[str, Any]  # the submitted Data, as archived

    @classmethod
    def from_json(cls, document: Any) -> ArchivedMessage:
        fields = _Fields.of(document, MalformedPayload, "archived message")
        return cls(
            type=fields.text("type"),
            date_created=fields.moment("date_created"),
            data=fields.mapping("data"),
        )


@dataclass(frozen=True, kw_only=True)
class ScrubResult:
    """What iLiveIt knows about a handset; `allow_send` is the field to obey."""

    msisdn: str
    network: str
    handset_make: str
    handset_model: str
    is_mms_provisioned: bool
    is_mms_capable: bool
    allow_send: bool
    screen_width: int
    screen_height: int
    error_code: int
    error: str

    @classmethod
    def from_json(cls, document: Any) -> ScrubResult:
        fields = _Fields.of(document, MalformedPayload, "scrub result")
        screen = fields.nested("screen_size")
        return cls(
            msisdn=fields.text("msisdn"),
            network=fields.text("network"),
            handset_make=fields.text("handset_make"),
            handset_model=fields.text("handset_model"),
            is_mms_provisioned=fields.flag("is_mms_provisioned"),
            is_mms_capable=fields.flag("is_mms_capable"),
            allow_send=fields.flag("allow_send"),
            screen_width=screen.integer("width"),
            screen_height=screen.integer("height"),
            error_code=fields.integer("error_code"),
            error=fields.text("error"),
        )
