"""Submission counting: how a test proves the portal never submits a message twice."""

from __future__ import annotations

from tests.sandbox import payloads
from tests.sandbox.conftest import Api

URL = "http://portal.example/postbacks/status/ref-1"


def test_each_accepted_submission_is_counted_by_its_postback_url(sandbox, api: Api) -> None:
    first = api.send(payloads.sms(PostbackStatusUrl=URL))
    api.send(payloads.sms(PostbackStatusUrl="http://portal.example/postbacks/status/ref-2"))

    assert sandbox.submissions() == {
        "total": 2,
        "by_key": {URL: 1, "http://portal.example/postbacks/status/ref-2": 1},
        "duplicates": {},
    }
    assert sandbox.message(first)["submissions"] == 1


def test_a_second_submission_with_the_same_url_is_a_duplicate(sandbox, api: Api) -> None:
    first = api.send(payloads.sms(PostbackStatusUrl=URL))
    second = api.send(payloads.sms(PostbackStatusUrl=URL))

    assert sandbox.submissions()["duplicates"] == {URL: 2}
    assert sandbox.message(first)["submissions"] == sandbox.message(second)["submissions"] == 2


def test_without_a_url_the_key_is_campaign_and_recipient(sandbox, api: Api) -> None:
    api.send(payloads.sms(Campaign="spring"))
    api.send(payloads.sms(Campaign="spring"))
    api.send(payloads.email(Campaign="spring"))

    assert sandbox.submissions() == {
        "total": 3,
        "by_key": {f"spring|{payloads.MSISDN}": 2, f"spring|{payloads.EMAIL}": 1},
        "duplicates": {f"spring|{payloads.MSISDN}": 2},
    }


def test_videos_and_resends_count_as_submissions(sandbox, api: Api) -> None:
    original = api.submit("generate/video", payloads.video(Campaign="promo"))
    api.wait_until_settled(original)

    resent = api.submit("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert sandbox.submissions()["by_key"] == {
        f"promo|{payloads.MSISDN}": 1,
        "promo|27831234567": 1,
    }
    assert sandbox.message(resent)["kind"] == "mms"


def test_refused_submissions_are_not_counted(sandbox, api: Api) -> None:
    api.post("message/send", payloads.sms(Campaign=5))  # 400
    api.post("message/send", payloads.sms("27000000004"))  # 500
    api.post("message/send", payloads.sms("27000000008"))  # 503 the first time
    api.post("message/send", payloads.sms("27000000010"))  # 429

    assert sandbox.submissions() == {"total": 0, "by_key": {}, "duplicates": {}}
