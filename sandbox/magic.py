"""Magic recipients: numbers and email local parts that make the sandbox misbehave on purpose,
so tests can reach every failure the real API can produce. README.md holds the table."""

from __future__ import annotations

from enum import StrEnum


class Magic(StrEnum):
    DELIVERY_FAILS = "delivery_fails"
    NOT_MMS = "not_mms"
    SCRUB_FAILS = "scrub_fails"
    SERVER_ERROR = "server_error"
    SLOW = "slow"
    SENT_FAILS = "sent_fails"
    NO_NETWORK = "no_network"
    FLAKY = "flaky"
    REPLIES = "replies"
    RATE_LIMITED = "rate_limited"
    NOT_MMS_PROVISIONED = "not_mms_provisioned"
    ASSUMED_DELIVERED = "assumed_delivered"
    SILENT = "silent"
    INVALID = "invalid"
    BUILD_FAILS = "build_fails"
    BOUNCE = "bounce"


MAGIC_MSISDNS: dict[str, Magic] = {
    "27000000001": Magic.DELIVERY_FAILS,
    "27000000002": Magic.NOT_MMS,
    "27000000003": Magic.SCRUB_FAILS,
    "27000000004": Magic.SERVER_ERROR,
    "27000000005": Magic.SLOW,
    "27000000006": Magic.SENT_FAILS,
    "27000000007": Magic.NO_NETWORK,
    "27000000008": Magic.FLAKY,
    "27000000009": Magic.REPLIES,
    "27000000010": Magic.RATE_LIMITED,
    "27000000011": Magic.NOT_MMS_PROVISIONED,
    "27000000012": Magic.ASSUMED_DELIVERED,
    "27000000013": Magic.SILENT,
    "27000000014": Magic.INVALID,
    "27000000020": Magic.BUILD_FAILS,
}

# Matched on the local part only, so any domain works (bounce@example.com, bounce@test.org).
MAGIC_EMAIL_LOCAL_PARTS: dict[str, Magic] = {
    "bounce": Magic.BOUNCE,
    "error": Magic.SERVER_ERROR,
    "slow": Magic.SLOW,
    "flaky": Magic.FLAKY,
    "reply": Magic.REPLIES,
    "ratelimit": Magic.RATE_LIMITED,
    "silent": Magic.SILENT,
    "sentfail": Magic.SENT_FAILS,
}

TEMPLATE_ERROR_BUILD_TEMPLATE = 999


def magic_for(recipient: str) -> Magic | None:
    """The magic behaviour of an MSISDN or email address, or None for an ordinary one."""
    if "@" in recipient:
        return MAGIC_EMAIL_LOCAL_PARTS.get(recipient.rsplit("@", 1)[0].lower())
    return MAGIC_MSISDNS.get(recipient)
