"""The /_sandbox/ control routes that tests and benchmarks use to steer and inspect it."""

from __future__ import annotations

import requests

from tests.conftest import APP_A, APP_B
from tests.sandbox import payloads
from tests.sandbox.conftest import Api

STARTUP_CONFIG = {
    "step_seconds": 0.05,
    "slow_seconds": 3.0,
    "postback_retry_base": 0.2,
    "duplicate_postbacks": False,
    "reorder_postbacks": False,
    "error_rate": 0.0,
    "slow_rate": 0.0,
    "throttle_rate": 0.0,
    "seed": None,
}


def test_health_needs_no_token(sandbox) -> None:
    assert requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json() == {"ok": True}


def test_config_shows_the_command_line_values(sandbox) -> None:
    assert sandbox.control("GET", "config") == STARTUP_CONFIG


def test_configure_changes_only_what_it_names(sandbox) -> None:
    config = sandbox.configure(step_seconds=0.2, duplicate_postbacks=True)

    assert config == {**STARTUP_CONFIG, "step_seconds": 0.2, "duplicate_postbacks": True}
    assert sandbox.control("GET", "config") == config


def test_configure_sets_the_fault_switches(sandbox) -> None:
    config = sandbox.configure(error_rate=0.25, slow_rate=1, throttle_rate=0.5, seed=7)

    assert config == {
        **STARTUP_CONFIG,
        "error_rate": 0.25,
        "slow_rate": 1,
        "throttle_rate": 0.5,
        "seed": 7,
    }
    assert sandbox.configure(seed=None)["seed"] is None


def test_reset_restores_the_command_line_config(sandbox) -> None:
    sandbox.configure(
        slow_seconds=0.1, reorder_postbacks=True, error_rate=0.5, throttle_rate=0.5, seed=3
    )

    sandbox.reset()

    assert sandbox.control("GET", "config") == STARTUP_CONFIG


def test_configure_refuses_unknown_keys_and_wrong_types(sandbox) -> None:
    url = f"{sandbox.url}/_sandbox/config"
    for body in [
        {"speed": 1},
        {"step_seconds": "fast"},
        {"step_seconds": -1},
        {"duplicate_postbacks": 1},
        {"postback_retry_base": 0},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": "0.5"},
        {"error_rate": True},
        {"slow_rate": 2},
        {"slow_rate": None},
        {"throttle_rate": 1.01},
        {"throttle_rate": -1},
        {"throttle_rate": "0.1"},
        {"throttle_rate": False},
        {"throttle_rate": None},
        {"seed": 1.5},
        {"seed": "abc"},
        {"seed": True},
        ["step_seconds"],
    ]:
        response = requests.post(url, json=body, timeout=5)
        assert response.status_code == 400, body
        assert response.json()["Error"]
    assert sandbox.control("GET", "config") == STARTUP_CONFIG


def test_reset_forgets_messages_submissions_postbacks_and_stats(sandbox, api: Api) -> None:
    message_id = api.send(payloads.sms())
    api.wait_until_settled(message_id)

    sandbox.reset()

    assert sandbox.control("GET", "messages") == {"messages": []}
    assert sandbox.submissions() == {"total": 0, "by_key": {}, "duplicates": {}}
    assert sandbox.postbacks() == []
    assert set(sandbox.stats().values()) == {0}
    assert api.get(f"message/{message_id}/status").status_code == 404


def test_a_message_record_shows_what_was_asked_and_where_it_is(sandbox, api: Api) -> None:
    body = payloads.sms(
        PostbackStatusUrl="http://example.com/status/1",
        PostbackStatusTypes="submit,delivery",
        PostbackReplyUrl="http://example.com/reply",
        Campaign="winter",
    )
    message_id = api.send(body)
    api.wait_until_settled(message_id)

    record = sandbox.message(message_id)

    assert record["message_id"] == message_id
    assert record["token"] == APP_A.token
    assert record["kind"] == "sms"
    assert record["action"] == 2
    assert record["recipient"] == payloads.MSISDN
    assert record["campaign"] == "winter"
    assert record["postback_status_url"] == "http://example.com/status/1"
    assert record["postback_status_types"] == ["submit", "delivery"]
    assert record["postback_reply_url"] == "http://example.com/reply"
    assert record["request"] == body
    assert record["status"]["delivered_status"] == 1
    assert record["submission_key"] == "http://example.com/status/1"
    assert record["submissions"] == 1
    assert record["lifecycle_done"] is True


def test_an_unknown_message_record_is_a_404(sandbox) -> None:
    response = requests.get(f"{sandbox.url}/_sandbox/messages/nope", timeout=5)

    assert response.status_code == 404
    assert response.json() == {"Error": "Message not found"}


def test_messages_can_be_listed_per_application(sandbox, api: Api, api_b: Api) -> None:
    mine = api.send(payloads.sms())
    theirs = api_b.send(payloads.sms(mvno=APP_B.mvno_id))

    everything = sandbox.control("GET", "messages")["messages"]
    only_b = sandbox.control("GET", "messages", params={"token": APP_B.token})["messages"]

    assert {record["message_id"] for record in everything} == {mine, theirs}
    assert [record["message_id"] for record in only_b] == [theirs]


def test_unknown_control_routes_and_verbs_answer_like_the_api(sandbox) -> None:
    missing = requests.get(f"{sandbox.url}/_sandbox/nothing", timeout=5)
    wrong_verb = requests.get(f"{sandbox.url}/_sandbox/reset", timeout=5)

    assert (missing.status_code, missing.json()) == (404, {"Error": "Invalid route"})
    assert (wrong_verb.status_code, wrong_verb.json()) == (405, {"Error": "Invalid method"})


def test_control_calls_are_not_api_calls(sandbox) -> None:
    for _ in range(5):
        sandbox.control("GET", "health")

    assert sandbox.stats()["requests"] == 0
