"""Per-application rate limits: a token bucket of RATE calls per second, every API call."""

from __future__ import annotations

import time

from sandbox.ratelimit import TokenBucket
from tests.sandbox import payloads
from tests.sandbox.conftest import Api

RATE_LIMITED = {"Error": "Maximum messages per second exceeded"}


def test_a_burst_beyond_the_rate_is_answered_429(api_slow: Api) -> None:
    answers = [api_slow.get("ping") for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200, 200, 429, 429, 429]
    assert answers[-1].json() == RATE_LIMITED


def test_the_bucket_refills_at_the_rate(api_slow: Api) -> None:
    for _ in range(3):
        api_slow.get("ping")

    time.sleep(0.55)  # rate 2/s: one call's worth

    assert api_slow.get("ping").status_code == 200
    assert api_slow.get("ping").status_code == 429


def test_every_api_call_takes_a_token(api_slow: Api) -> None:
    api_slow.get("message/unknown/status")
    api_slow.post("message/send", {"invalid": True})

    response = api_slow.get("ping")

    assert response.status_code == 429


def test_a_rate_limited_submission_is_not_stored(sandbox, api_slow: Api) -> None:
    body = payloads.sms(mvno=api_slow.app.mvno_id)
    answers = [api_slow.post("message/send", body) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert sandbox.submissions()["total"] == 2


def test_limits_are_per_application(api: Api, api_slow: Api) -> None:
    for _ in range(3):
        api_slow.get("ping")

    assert all(api.get("ping").status_code == 200 for _ in range(20))


def test_calls_with_a_bad_token_take_no_token(sandbox, api_slow: Api) -> None:
    stranger = Api(sandbox, api_slow.app)
    stranger.http.headers["Authorization"] = "Bearer nobody"
    for _ in range(5):
        assert stranger.get("ping").status_code == 401

    assert api_slow.get("ping").status_code == 200


def test_reset_refills_the_buckets(sandbox, api_slow: Api) -> None:
    for _ in range(3):
        api_slow.get("ping")

    sandbox.reset()

    assert api_slow.get("ping").status_code == 200


def test_rate_limited_answers_are_counted(sandbox, api_slow: Api) -> None:
    for _ in range(4):
        api_slow.get("ping")

    assert sandbox.stats()["http_429"] == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_holds_one_second_of_calls() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, clock=clock)

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 10
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_bucket_below_one_call_per_second_still_allows_one() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0.5, clock=clock)

    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 1.0
    assert bucket.take() is False
    clock.now += 1.0
    assert bucket.take() is True
