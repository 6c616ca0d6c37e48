"""The fault-injection switches `error_rate`, `throttle_rate` and `slow_rate`
(sandbox/README.md, "Fault injection"): random 503s and 429s that store nothing, and random
late answers that do store."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox import payloads
from tests.sandbox.conftest import Api, wait_until
from tests.support.receiver import PostbackReceiver

UNAVAILABLE = {"Error": "Service unavailable"}
THROTTLED = {"Error": "Maximum messages per second exceeded"}


def send_codes(api: Api, count: int) -> list[int]:
    return [api.post("message/send", payloads.sms()).status_code for _ in range(count)]


def test_error_rate_fails_about_that_share_and_stores_nothing_for_them(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=0.3, seed=1234)

    responses = [api.post("message/send", payloads.sms()) for _ in range(200)]

    failed = [response for response in responses if response.status_code == 503]
    assert {response.status_code for response in responses} == {200, 503}
    assert 40 <= len(failed) <= 80  # 60 expected; the seed makes it the same every run
    assert all(response.json() == UNAVAILABLE for response in failed)
    accepted = 200 - len(failed)
    assert sandbox.submissions()["total"] == accepted
    assert len(sandbox.control("GET", "messages")["messages"]) == accepted
    stats = sandbox.stats()
    assert (stats["injected_errors"], stats["http_5xx"]) == (len(failed), len(failed))
    assert stats["injected_slow"] == 0
    assert stats["injected_throttles"] == 0


def test_the_same_seed_replays_the_same_faults(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=0.5, seed=99)
    first = send_codes(api, 40)

    sandbox.configure(seed=99)  # the same value restarts the sequence
    again = send_codes(api, 40)

    assert first == again
    assert 503 in first
    assert 200 in first


def test_reset_restarts_the_command_line_seed_and_switches_faults_off(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=1)
    assert api.post("message/send", payloads.sms()).status_code == 503

    sandbox.reset()

    assert send_codes(api, 5) == [200] * 5
    assert sandbox.stats()["injected_errors"] == 0


def test_error_rate_applies_to_video_but_not_resend_scrub_or_ping(sandbox, api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)
    sandbox.configure(error_rate=1)

    video = api.post("generate/video", payloads.video())
    resend = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert (video.status_code, video.json()) == (503, UNAVAILABLE)
    assert resend.status_code == 200
    assert api.get(f"scrub/{payloads.MSISDN}").status_code == 200
    assert api.get("ping").status_code == 200
    assert sandbox.submissions()["total"] == 2  # the original and its resend
    assert sandbox.stats()["injected_errors"] == 1


def test_validation_and_magic_errors_come_before_injected_ones(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=1)

    invalid = api.post("message/send", payloads.sms("+27821234567"))
    magic = api.post("message/send", payloads.sms("27000000004"))

    assert invalid.status_code == 400
    assert magic.status_code == 500
    assert sandbox.stats()["injected_errors"] == 0


@pytest.mark.parametrize(
    ("route", "body"),
    [("message/send", payloads.sms()), ("generate/video", payloads.video())],
    ids=["send", "video"],
)
def test_a_slow_call_is_stored_counted_and_runs_before_its_late_answer(
    sandbox, api: Api, postback_receiver: PostbackReceiver, route: str, body: dict
) -> None:
    sandbox.configure(slow_rate=1, slow_seconds=0.2)
    url = postback_receiver.url("/status/slow")
    started = time.monotonic()

    message_id = api.submit(
        route, {**body, "PostbackStatusUrl": url, "PostbackStatusTypes": "delivery"}
    )

    assert time.monotonic() - started >= 0.2
    assert sandbox.submissions()["by_key"] == {url: 1}
    assert sandbox.stats()["injected_slow"] == 1
    assert api.wait_until_settled(message_id)["delivered_status"] == 1
    postback_receiver.wait_for(
        lambda r: any(
            post.json()["postback_type"] == "delivery" for post in r.accepted("/status/slow")
        )
    )


def test_a_client_that_times_out_on_a_slow_call_has_still_sent_it(sandbox, api: Api) -> None:
    sandbox.configure(slow_rate=1, slow_seconds=0.6)

    with pytest.raises(requests.ReadTimeout):
        api.http.post(f"{sandbox.url}/message/send", json=payloads.sms(), timeout=(2, 0.2))

    [record] = sandbox.control("GET", "messages")["messages"]
    assert sandbox.submissions()["total"] == 1
    wait_until(lambda: sandbox.message(record["message_id"]), lambda r: r["lifecycle_done"])


def test_slow_rate_slows_about_that_share_and_every_one_is_stored(sandbox, api: Api) -> None:
    sandbox.configure(slow_rate=0.5, slow_seconds=0.01, seed=5)

    assert send_codes(api, 60) == [200] * 60

    assert 18 <= sandbox.stats()["injected_slow"] <= 42  # 30 expected
    assert sandbox.submissions()["total"] == 60


def test_a_slow_recipient_is_slow_once_and_not_counted_as_injected(sandbox, api: Api) -> None:
    sandbox.configure(slow_rate=1, slow_seconds=0.2)
    started = time.monotonic()

    api.send(payloads.sms("27000000005"))

    assert 0.2 <= time.monotonic() - started < 0.4
    assert sandbox.stats()["injected_slow"] == 0


def test_throttle_rate_refuses_about_that_share_and_stores_nothing_for_them(
    sandbox, api: Api
) -> None:
    sandbox.configure(throttle_rate=0.3, seed=1234)

    responses = [api.post("message/send", payloads.sms()) for _ in range(200)]

    throttled = [response for response in responses if response.status_code == 429]
    assert {response.status_code for response in responses} == {200, 429}
    assert 40 <= len(throttled) <= 80  # 60 expected; the seed makes it the same every run
    assert all(response.json() == THROTTLED for response in throttled)
    accepted = 200 - len(throttled)
    assert sandbox.submissions()["total"] == accepted
    assert len(sandbox.control("GET", "messages")["messages"]) == accepted
    stats = sandbox.stats()
    assert stats["injected_throttles"] == len(throttled)
    assert (stats["http_429"], stats["http_4xx"]) == (len(throttled), len(throttled))
    assert (stats["injected_errors"], stats["injected_slow"], stats["http_5xx"]) == (0, 0, 0)


def test_the_same_seed_replays_the_same_throttles(sandbox, api: Api) -> None:
    sandbox.configure(throttle_rate=0.5, seed=99)
    first = send_codes(api, 40)

    sandbox.configure(seed=99)
    again = send_codes(api, 40)

    assert first == again
    assert 429 in first
    assert 200 in first


def test_throttle_rate_at_zero_leaves_the_error_sequence_as_it_was(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=0.5, seed=99)
    without = send_codes(api, 40)

    sandbox.configure(throttle_rate=0, seed=99)
    again = send_codes(api, 40)

    assert without == again


def test_an_injected_error_is_drawn_before_a_throttle(sandbox, api: Api) -> None:
    sandbox.configure(error_rate=1, throttle_rate=1)

    assert send_codes(api, 3) == [503] * 3
    stats = sandbox.stats()
    assert (stats["injected_errors"], stats["injected_throttles"]) == (3, 0)


def test_a_throttled_call_draws_no_slow_fault(sandbox, api: Api) -> None:
    sandbox.configure(throttle_rate=1, slow_rate=1, slow_seconds=0.5)
    started = time.monotonic()

    assert send_codes(api, 2) == [429] * 2

    assert time.monotonic() - started < 0.5
    stats = sandbox.stats()
    assert (stats["injected_throttles"], stats["injected_slow"]) == (2, 0)
    assert sandbox.submissions()["total"] == 0


def test_reset_switches_throttling_off(sandbox, api: Api) -> None:
    sandbox.configure(throttle_rate=1)
    assert api.post("message/send", payloads.sms()).status_code == 429

    sandbox.reset()

    assert send_codes(api, 5) == [200] * 5
    assert sandbox.stats()["injected_throttles"] == 0


def test_throttle_rate_applies_to_video_but_not_resend_scrub_or_ping(sandbox, api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)
    sandbox.configure(throttle_rate=1)

    video = api.post("generate/video", payloads.video())
    resend = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert (video.status_code, video.json()) == (429, THROTTLED)
    assert resend.status_code == 200
    assert api.get(f"scrub/{payloads.MSISDN}").status_code == 200
    assert api.get("ping").status_code == 200
    assert sandbox.submissions()["total"] == 2  # the original and its resend
    assert sandbox.stats()["injected_throttles"] == 1


def test_validation_and_magic_errors_come_before_injected_throttles(sandbox, api: Api) -> None:
    sandbox.configure(throttle_rate=1)

    invalid = api.post("message/send", payloads.sms("+27821234567"))
    magic = api.post("message/send", payloads.sms("27000000010"))

    assert invalid.status_code == 400
    assert (magic.status_code, magic.json()) == (429, THROTTLED)
    stats = sandbox.stats()
    assert stats["injected_throttles"] == 0
    assert stats["http_429"] == 1  # the magic recipient's
