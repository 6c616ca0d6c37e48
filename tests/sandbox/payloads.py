"""Valid request bodies in the documented spelling; tests change one thing at a time."""

from __future__ import annotations

import base64
import copy
from typing import Any

from tests.conftest import APP_A

MSISDN = "27821234567"  # an ordinary Vodacom number
EMAIL = "someone@example.com"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n sandbox").decode()
ALL_TYPES = "build,submit,archive,sent,delivery"


def sms(msisdn: str = MSISDN, *, mvno: int = APP_A.mvno_id, **fields: Any) -> dict[str, Any]:
    return {
        "Action": 2,
        "MVNOID": mvno,
        "Campaign": "sandbox-tests",
        "Data": {"message_type": "sms", "msisdn": [msisdn], "network": "any", "text": "Hello"},
        **fields,
    }


def mms(msisdn: str = MSISDN, *, mvno: int = APP_A.mvno_id, **fields: Any) -> dict[str, Any]:
    slide = {
        "duration": "5",
        "content": [
            {"type": "text", "mime": "text/plain", "data": "Hello", "name": "text.txt"},
            {"type": "image", "mime": "image/png", "data": PNG, "name": "logo.png"},
        ],
    }
    return {
        "Action": 1,
        "MVNOID": mvno,
        "Campaign": "sandbox-tests",
        "Data": {
            "message_type": "mms",
            "msisdn": [msisdn],
            "network": "*",
            "subject": "Hello",
            "slides": [slide],
        },
        **fields,
    }


def email(address: str = EMAIL, *, mvno: int = APP_A.mvno_id, **fields: Any) -> dict[str, Any]:
    return {
        "Action": 3,
        "MVNOID": mvno,
        "Campaign": "sandbox-tests",
        "Data": {
            "message_type": "email",
            "address": [address],
            "network": "email_network",
            "subject": "Hello",
            "html": "<p>Hello</p>",
            "text": "Hello",
            "attachments": [{"filename": "logo.png", "data": PNG}],
        },
        **fields,
    }


def video(
    msisdn: str = MSISDN, *, mvno: int = APP_A.mvno_id, template: int = 1, **fields: Any
) -> dict[str, Any]:
    return {
        "MVNOID": mvno,
        "Campaign": "sandbox-tests",
        "BuildTemplate": template,
        "Data": '{"name": "Thandi"}',
        "AfterBuildAction": 1,
        "AfterBuildData": f'{{"message_type":"mms","msisdn":["{msisdn}"],"network":"*"}}',
        **fields,
    }


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the dotted `path` set to `value` (or removed when value is
    REMOVE); list items are addressed by index, e.g. "Data.slides.0.duration"."""
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is REMOVE:
        del target[key]
    else:
        target[key] = value
    return body


REMOVE = object()
