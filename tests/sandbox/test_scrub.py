"""GET scrub/{msisdn}: what the sandbox says about a handset (magic numbers: test_magic.py)."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import Api


def test_scrub_answers_the_documented_shape(api: Api) -> None:
    response = api.get("scrub/27831234567")

    assert response.status_code == 200
    assert response.json() == {
        "msisdn": "27831234567",
        "network": "mtn",
        "handset_make": "Sandbox",
        "handset_model": "Phone",
        "is_mms_provisioned": True,
        "is_mms_capable": True,
        "allow_send": True,
        "screen_size": {"width": 720, "height": 1280},
        "error_code": 0,
        "error": "",
    }


@pytest.mark.parametrize(
    ("msisdn", "network"),
    [
        ("27821234567", "vodacom"),
        ("27721234567", "vodacom"),
        ("27761234567", "vodacom"),
        ("27791234567", "vodacom"),
        ("27831234567", "mtn"),
        ("27731234567", "mtn"),
        ("27781234567", "mtn"),
        ("27841234567", "cellc"),
        ("27741234567", "cellc"),
        ("27811234567", "telkom"),
        ("447700900123", "unknown"),
    ],
)
def test_scrub_names_the_network_by_prefix(api: Api, msisdn: str, network: str) -> None:
    assert api.get(f"scrub/{msisdn}").json()["network"] == network


def test_scrub_of_an_invalid_number_is_a_400(api: Api) -> None:
    response = api.get("scrub/+2782123")

    assert response.status_code == 400
    assert response.json()["Error"].startswith("msisdn:")
