"""Routes, answer shapes and error statuses of the sandbox's API, over real HTTP."""

from __future__ import annotations

import http.client
import json

import pytest
import requests

from tests.conftest import APP_A
from tests.sandbox import payloads
from tests.sandbox.conftest import Api

ZERO = "0001-01-01T00:00:00Z"
STATUS_KEYS = {
    "type",
    "campaign",
    "message_id",
    "template",
    "network",
    "msisdn",
    "email",
    "mvno",
    "date_received",
    *(
        f"{stage}_{suffix}"
        for stage in ("build", "archive", "submit", "sent", "delivered")
        for suffix in ("status", "status_description", "timestamp")
    ),
}


def test_ping_answers_pong(api: Api) -> None:
    response = api.get("ping")

    assert response.status_code == 200
    assert response.json() == {"Body": "Pong!"}


def test_every_answer_is_json_with_a_content_length_on_one_kept_alive_connection(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    headers = {"Authorization": f"Bearer {APP_A.token}"}
    try:
        for method, path in [("GET", "/ping"), ("GET", "/nowhere"), ("POST", "/ping")]:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            assert response.getheader("Content-Type") == "application/json"
            assert int(response.getheader("Content-Length")) == len(body)
            assert response.getheader("Connection") != "close"
            json.loads(body)
    finally:
        connection.close()


def test_send_answers_a_message_id(api: Api) -> None:
    response = api.post("message/send", payloads.sms())

    assert response.status_code == 200
    assert list(response.json()) == ["MessageID"]
    assert response.json()["MessageID"]


def test_generate_video_answers_a_message_id(api: Api) -> None:
    response = api.post("generate/video", payloads.video())

    assert response.status_code == 200
    assert list(response.json()) == ["MessageID"]


def test_status_has_every_documented_field(api: Api) -> None:
    message_id = api.send(payloads.sms(Campaign="spring"))

    status = api.status(message_id)

    assert set(status) == STATUS_KEYS
    assert status["message_id"] == message_id
    assert status["type"] == "sms"
    assert status["campaign"] == "spring"
    assert status["msisdn"] == payloads.MSISDN
    assert status["email"] == ""
    assert status["network"] == "vodacom"
    assert status["mvno"] == APP_A.mvno_id
    assert status["date_received"].endswith("Z")


def test_status_extended_adds_the_network_reference_once_sent(api: Api) -> None:
    message_id = api.send(payloads.sms())
    api.wait_until_settled(message_id)

    response = api.get(f"message/{message_id}/statusExtended")

    assert response.status_code == 200
    assert set(response.json()) == STATUS_KEYS | {"network_reference"}
    assert response.json()["network_reference"]


def test_email_status_names_the_address_and_the_email_network(api: Api) -> None:
    status = api.status(api.send(payloads.email()))

    assert status["type"] == "email"
    assert status["email"] == payloads.EMAIL
    assert status["msisdn"] == ""
    assert status["network"] == "email"


def test_archived_message_returns_the_submitted_data(api: Api) -> None:
    body = payloads.mms()
    message_id = api.send(body)
    api.wait_until_settled(message_id)

    response = api.get(f"message/{message_id}")

    assert response.status_code == 200
    assert response.json()["type"] == "mms"
    assert response.json()["data"] == body["Data"]
    assert response.json()["date_created"].endswith("Z")


def test_archived_message_before_archiving_is_a_400(sandbox, api: Api) -> None:
    sandbox.configure(step_seconds=5)
    message_id = api.send(payloads.sms())

    response = api.get(f"message/{message_id}")

    assert response.status_code == 400
    assert response.json() == {"Error": "Message not archived yet"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {APP_A.token}", "Bearer", ""],
)
def test_a_missing_or_wrong_token_is_a_401(sandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = requests.get(f"{sandbox.url}/ping", headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"Error": "Authentication failed"}


@pytest.mark.parametrize("route", ["nowhere", "message", "message/abc/status/more", "v1/ping"])
def test_an_unknown_route_is_a_404(api: Api, route: str) -> None:
    response = api.get(route)

    assert response.status_code == 404
    assert response.json() == {"Error": "Invalid route"}


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", "ping"),
        ("GET", "message/send"),
        ("GET", "message/resend"),
        ("GET", "generate/video"),
        ("PUT", "message/send"),
        ("POST", "message/abc/status"),
        ("POST", "message/abc/statusExtended"),
        ("DELETE", "message/abc"),
        ("POST", "scrub/27821234567"),
    ],
)
def test_a_known_route_with_the_wrong_verb_is_a_405(api: Api, method: str, route: str) -> None:
    response = api.http.request(method, f"{api.sandbox.url}/{route}", timeout=5)

    assert response.status_code == 405
    assert response.json() == {"Error": "Invalid method"}


@pytest.mark.parametrize(
    "route", ["message/{id}/status", "message/{id}/statusExtended", "message/{id}"]
)
def test_an_unknown_message_is_a_404(api: Api, route: str) -> None:
    response = api.get(route.format(id="no-such-message"))

    assert response.status_code == 404
    assert response.json() == {"Error": "Message not found"}


@pytest.mark.parametrize(
    "route", ["message/{id}/status", "message/{id}/statusExtended", "message/{id}"]
)
def test_another_applications_message_is_not_found(api: Api, api_b: Api, route: str) -> None:
    message_id = api.send(payloads.sms())
    api.wait_until_settled(message_id)

    response = api_b.get(route.format(id=message_id))

    assert response.status_code == 404
    assert response.json() == {"Error": "Message not found"}


def test_another_applications_message_cannot_be_resent(api: Api, api_b: Api) -> None:
    message_id = api.send(payloads.sms())
    api.wait_until_settled(message_id)

    response = api_b.post("message/resend", {"MessageID": message_id, "MSISDN": "27831234567"})

    assert response.status_code == 404
    assert response.json() == {"Error": "Message not found"}


@pytest.mark.parametrize("body", [b"", b"not json", b"{"])
def test_a_body_that_is_not_json_is_a_400(api: Api, body: bytes) -> None:
    response = api.http.post(f"{api.sandbox.url}/message/send", data=body, timeout=5)

    assert response.status_code == 400
    assert response.json() == {"Error": "body: is not valid JSON"}


def test_stats_count_api_answers_by_class(sandbox, api: Api, api_slow: Api) -> None:
    api.get("ping")
    api.get("nowhere")
    api.post("message/send", payloads.sms("27000000004"))
    for _ in range(3):
        api_slow.get("ping")

    stats = sandbox.stats()

    assert stats["requests"] == 6
    assert stats["http_429"] == 1
    assert stats["http_4xx"] == 2  # the 404 and the 429
    assert stats["http_5xx"] == 1
