"""GET scrub/{msisdn}: what the sandbox pretends to know about a handset."""

from __future__ import annotations

from typing import Any

from sandbox.magic import Magic, magic_for

# Longest prefix wins; numbers outside these ranges (the magic 2700... ones too) are "unknown".
NETWORK_PREFIXES: dict[str, str] = {
    "2782": "vodacom",
    "2772": "vodacom",
    "2776": "vodacom",
    "2779": "vodacom",
    "2783": "mtn",
    "2773": "mtn",
    "2778": "mtn",
    "2784": "cellc",
    "2774": "cellc",
    "2781": "telkom",
}


def network_of(msisdn: str) -> str:
    return NETWORK_PREFIXES.get(msisdn[:4], "unknown")


def scrub_result(msisdn: str) -> dict[str, Any]:
    magic = magic_for(msisdn)
    result: dict[str, Any] = {
        "msisdn": msisdn,
        "network": network_of(msisdn),
        "handset_make": "Sandbox",
        "handset_model": "Phone",
        "is_mms_provisioned": True,
        "is_mms_capable": True,
        "allow_send": True,
        "screen_size": {"width": 720, "height": 1280},
        "error_code": 0,
        "error": "",
    }
    if magic is Magic.NOT_MMS:
        result.update(is_mms_capable=False, allow_send=False)
    elif magic is Magic.NOT_MMS_PROVISIONED:
        result.update(is_mms_provisioned=False, allow_send=False)
    elif magic is Magic.SCRUB_FAILS:
        # A failed scrub knows nothing about the handset.
        result.update(
            handset_make="",
            handset_model="",
            is_mms_provisioned=False,
            is_mms_capable=False,
            allow_send=False,
            screen_size={"width": 0, "height": 0},
            error_code=8,
            error="ScrubUnavailable",
        )
    return result
