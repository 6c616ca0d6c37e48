"""The StatusResult vocabulary: stages, the provider's pipeline codes and timestamp spelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# The order of a StatusResult's stage fields, and the postback type each stage change sends.
STAGES = ("build", "archive", "submit", "sent", "delivered")
POSTBACK_TYPE_OF_STAGE = {
    "build": "build",
    "archive": "archive",
    "submit": "submit",
    "sent": "sent",
    "delivered": "delivery",
}
POSTBACK_TYPES = frozenset(POSTBACK_TYPE_OF_STAGE.values())

# Build, archive and submit stages share this table (NOTES.md, "Pipeline stage codes").
PIPELINE_CODES: dict[int, str] = {
    1: "Received",
    2: "Submitted",
    3: "SubmitFailed",
    4: "Archived",
    5: "ArchivedNetworkRule",
    6: "FailedMarshal",
    7: "FailedUnmarshal",
    8: "ScrubUnavailable",
    9: "NotMMS",
    10: "TemplateError",
    11: "NoNetwork",
    12: "RenderFarmFailed",
    13: "RenderFarmSent",
    14: "RenderFarmSuccess",
    15: "ReadFileFailed",
    16: "Invalid",
    17: "NoHandsetInfo",
    18: "NotMMSProvisioned",
}
ARCHIVED_CODES = frozenset({4, 5})

# What Go's zero time.Time marshals to: the provider's way of saying "has not happened".
ZERO_TIMESTAMP = "0001-01-01T00:00:00Z"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Stage:
    code: int = 0
    description: str = ""
    timestamp: str = ZERO_TIMESTAMP
