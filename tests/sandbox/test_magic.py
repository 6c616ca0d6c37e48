"""Every magic recipient of sandbox/README.md does what the table says."""

from __future__ import annotations

import base64
import email
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import APP_B
from tests.sandbox import payloads
from tests.sandbox.conftest import Api, wait_until
from tests.sandbox.test_lifecycle import stages
from tests.support.receiver import PostbackReceiver

DELIVERED = {"sent": (1, "Sent"), "delivered": (1, "Delivered")}
NOT_SENT = {"sent": (0, ""), "delivered": (0, "")}
Builder = Callable[..., dict[str, Any]]

FINAL_STAGES: list[tuple[str, str, Builder, dict[str, tuple[int, str]]]] = [
    ("27000000001", "message/send", payloads.sms, {"delivered": (2, "Delivery failed")}),
    ("27000000002", "message/send", payloads.mms, {"submit": (9, "NotMMS"), **NOT_SENT}),
    ("27000000002", "generate/video", payloads.video, {"submit": (9, "NotMMS"), **NOT_SENT}),
    ("27000000002", "message/send", payloads.sms, DELIVERED),
    ("27000000003", "message/send", payloads.mms, {"submit": (8, "ScrubUnavailable")}),
    ("27000000003", "message/send", payloads.sms, DELIVERED),
    (
        "27000000006",
        "message/send",
        payloads.sms,
        {"sent": (2, "Network rejected"), "delivered": (0, "")},
    ),
    ("27000000007", "message/send", payloads.sms, {"submit": (11, "NoNetwork"), **NOT_SENT}),
    ("27000000007", "message/send", payloads.mms, {"submit": (11, "NoNetwork"), **NOT_SENT}),
    ("27000000011", "message/send", payloads.mms, {"submit": (18, "NotMMSProvisioned")}),
    ("27000000011", "message/send", payloads.sms, DELIVERED),
    ("27000000012", "message/send", payloads.sms, {"delivered": (12, "Assumed Delivered")}),
    ("27000000014", "message/send", payloads.sms, {"submit": (16, "Invalid"), **NOT_SENT}),
    (
        "27000000020",
        "generate/video",
        payloads.video,
        {"build": (12, "RenderFarmFailed"), "archive": (0, ""), "submit": (0, "")},
    ),
    ("27000000020", "message/send", payloads.sms, DELIVERED),
    ("bounce@example.com", "message/send", payloads.email, {"delivered": (2, "Bounced")}),
    (
        "sentfail@example.org",
        "message/send",
        payloads.email,
        {"sent": (2, "Network rejected"), "delivered": (0, "")},
    ),
    ("27821234567", "message/send", payloads.sms, DELIVERED),
    ("anyone@example.com", "message/send", payloads.email, DELIVERED),
]


@pytest.mark.parametrize(
    ("recipient", "route", "builder", "expected"),
    FINAL_STAGES,
    ids=[f"{case[0]}-{case[2].__name__}" for case in FINAL_STAGES],
)
def test_a_magic_recipient_ends_its_lifecycle_as_documented(
    api: Api, recipient: str, route: str, builder: Builder, expected: dict
) -> None:
    message_id = api.submit(route, builder(recipient))

    status = api.wait_until_settled(message_id)

    assert {stage: stages(status)[stage] for stage in expected} == expected


def test_template_999_is_a_template_error(api: Api) -> None:
    message_id = api.submit("generate/video", payloads.video(template=999))

    assert stages(api.wait_until_settled(message_id))["build"] == (10, "TemplateError")


# --- answers instead of acceptance ----------------------------------------------------------


SERVER_ERROR_CALLS = [
    ("message/send", payloads.sms("27000000004")),
    ("message/send", payloads.mms("27000000004")),
    ("message/send", payloads.email("error@example.com")),
    ("generate/video", payloads.video("27000000004")),
]


@pytest.mark.parametrize(("route", "body"), SERVER_ERROR_CALLS)
def test_the_error_recipients_answer_500_and_store_nothing(
    sandbox, api: Api, route: str, body: dict
) -> None:
    response = api.post(route, body)

    assert response.status_code == 500
    assert response.json() == {"Error": "Internal server error"}
    assert sandbox.submissions()["total"] == 0
    assert sandbox.control("GET", "messages") == {"messages": []}


def test_the_error_number_fails_scrub_and_resend_too(sandbox, api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)

    scrub = api.get("scrub/27000000004")
    resend = api.post("message/resend", {"MessageID": original, "MSISDN": "27000000004"})

    assert (scrub.status_code, scrub.json()) == (500, {"Error": "Internal server error"})
    assert (resend.status_code, resend.json()) == (500, {"Error": "Internal server error"})
    assert sandbox.submissions()["total"] == 1


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("message/send", payloads.sms("27000000010")),
        ("message/send", payloads.email("ratelimit@example.com")),
        ("generate/video", payloads.video("27000000010")),
    ],
)
def test_the_rate_limited_recipients_always_answer_429(
    sandbox, api: Api, route: str, body: dict
) -> None:
    for _ in range(3):
        response = api.post(route, body)
        assert response.status_code == 429
        assert response.json() == {"Error": "Maximum messages per second exceeded"}
    assert sandbox.submissions()["total"] == 0


def test_the_rate_limited_number_is_rate_limited_on_scrub(api: Api) -> None:
    assert api.get("scrub/27000000010").status_code == 429


@pytest.mark.parametrize(
    "body", [payloads.sms("27000000008"), payloads.email("flaky@example.com")], ids=["sms", "email"]
)
def test_a_flaky_recipient_fails_its_first_submission_only(sandbox, api: Api, body: dict) -> None:
    first = api.post("message/send", body)

    assert first.status_code == 503
    assert first.json() == {"Error": "Service temporarily unavailable"}
    assert sandbox.submissions()["total"] == 0
    second = api.post("message/send", body)
    assert second.status_code == 200
    assert sandbox.submissions()["total"] == 1


def test_flaky_memory_is_per_application_and_forgotten_on_reset(
    sandbox, api: Api, api_b: Api
) -> None:
    assert api.post("message/send", payloads.sms("27000000008")).status_code == 503
    assert api.post("message/send", payloads.sms("27000000008")).status_code == 200

    other_app = api_b.post("message/send", payloads.sms("27000000008", mvno=APP_B.mvno_id))
    sandbox.reset()
    after_reset = api.post("message/send", payloads.sms("27000000008"))

    assert other_app.status_code == 503
    assert after_reset.status_code == 503


def test_a_flaky_number_fails_its_first_resend(api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)
    body = {"MessageID": original, "MSISDN": "27000000008"}

    assert api.post("message/resend", body).status_code == 503
    assert api.post("message/resend", body).status_code == 200


# --- slow -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [payloads.sms("27000000005"), payloads.email("slow@example.com")], ids=["sms", "email"]
)
def test_a_slow_recipient_is_stored_and_running_before_the_late_answer(
    sandbox, api: Api, body: dict
) -> None:
    sandbox.configure(slow_seconds=0.6)

    with pytest.raises(requests.ReadTimeout):
        api.http.post(f"{sandbox.url}/message/send", json=body, timeout=(2, 0.2))

    [record] = sandbox.control("GET", "messages")["messages"]
    assert record["recipient"] == body["Data"].get("msisdn", body["Data"].get("address"))[0]
    assert sandbox.submissions()["total"] == 1
    wait_until(lambda: sandbox.message(record["message_id"]), lambda r: r["lifecycle_done"])


def test_a_slow_answer_comes_after_slow_seconds_with_the_message_id(sandbox, api: Api) -> None:
    sandbox.configure(slow_seconds=0.4)
    started = time.monotonic()

    message_id = api.send(payloads.sms("27000000005"))

    assert time.monotonic() - started >= 0.4
    assert sandbox.message(message_id)["recipient"] == "27000000005"


def test_a_slow_answer_does_not_hold_up_other_requests(sandbox, api: Api) -> None:
    sandbox.configure(slow_seconds=1.0)
    slow = threading.Thread(target=api.post, args=("message/send", payloads.sms("27000000005")))
    slow.start()
    time.sleep(0.1)
    other = Api(sandbox, api.app)

    started = time.monotonic()
    assert other.get("ping").status_code == 200
    assert other.post("message/send", payloads.sms()).status_code == 200
    assert time.monotonic() - started < 0.5
    slow.join()


def test_a_slow_number_is_slow_on_scrub(sandbox, api: Api) -> None:
    sandbox.configure(slow_seconds=0.3)
    started = time.monotonic()

    assert api.get("scrub/27000000005").status_code == 200
    assert time.monotonic() - started >= 0.3


# --- scrub ------------------------------------------------------------------------------------


def test_scrub_of_a_not_mms_capable_handset(api: Api) -> None:
    result = api.get("scrub/27000000002").json()

    assert (result["is_mms_capable"], result["is_mms_provisioned"], result["allow_send"]) == (
        False,
        True,
        False,
    )


def test_scrub_of_a_not_mms_provisioned_handset(api: Api) -> None:
    result = api.get("scrub/27000000011").json()

    assert (result["is_mms_capable"], result["is_mms_provisioned"], result["allow_send"]) == (
        True,
        False,
        False,
    )


def test_scrub_that_fails(api: Api) -> None:
    result = api.get("scrub/27000000003").json()

    assert (result["error_code"], result["error"], result["allow_send"]) == (
        8,
        "ScrubUnavailable",
        False,
    )


@pytest.mark.parametrize("msisdn", ["27000000001", "27000000009", "27000000013", "27821234567"])
def test_scrub_of_other_numbers_allows_sending(api: Api, msisdn: str) -> None:
    result = api.get(f"scrub/{msisdn}").json()

    assert (result["allow_send"], result["error_code"]) == (True, 0)


# --- silent and replies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [payloads.sms("27000000013"), payloads.email("silent@example.com")],
    ids=["sms", "email"],
)
def test_a_silent_recipient_gets_no_postbacks_but_its_status_moves(
    sandbox, api: Api, postback_receiver: PostbackReceiver, body: dict
) -> None:
    url, types = postback_receiver.url(), payloads.ALL_TYPES
    message_id = api.send({**body, "PostbackStatusUrl": url, "PostbackStatusTypes": types})

    status = api.wait_until_settled(message_id)
    time.sleep(0.1)

    assert status["delivered_status"] == 1
    assert postback_receiver.posts == []
    assert sandbox.postbacks() == []


def test_the_reply_number_answers_stop_after_delivery(
    api: Api, postback_receiver: PostbackReceiver
) -> None:
    message_id = api.send(
        payloads.sms(
            "27000000009",
            PostbackReplyUrl=postback_receiver.url("/reply"),
            PostbackStatusUrl=postback_receiver.url("/status"),
            PostbackStatusTypes="delivery",
        )
    )

    postback_receiver.wait_for(lambda r: len(r.accepted("/reply")) == 1)

    assert postback_receiver.accepted("/reply")[0].json() == {
        "MessageId": message_id,
        "SourceMSISDN": "27000000009",
        "DestinationMSISDN": "40001",
        "Message": "STOP",
        "ExtraDigits": "",
        "RetryCount": 0,
    }
    [delivery] = postback_receiver.accepted("/status")
    assert delivery.at < postback_receiver.accepted("/reply")[0].at


def test_the_reply_address_answers_with_an_email_after_delivery(
    api: Api, postback_receiver: PostbackReceiver
) -> None:
    message_id = api.send(
        payloads.email("reply@example.com", PostbackReplyUrl=postback_receiver.url("/reply"))
    )

    postback_receiver.wait_for(lambda r: len(r.accepted("/reply")) == 1)

    reply = postback_receiver.accepted("/reply")[0].json()
    assert (reply["message_id"], reply["address"], reply["RetryCount"]) == (
        message_id,
        "reply@example.com",
        0,
    )
    raw = email.message_from_bytes(base64.b64decode(reply["content"]))
    assert raw["From"] == "reply@example.com"
    assert raw.get_payload().strip() == "STOP"


def test_the_reply_number_without_a_reply_url_just_delivers(sandbox, api: Api) -> None:
    message_id = api.send(payloads.sms("27000000009"))

    assert api.wait_until_settled(message_id)["delivered_status"] == 1
    time.sleep(0.1)
    assert sandbox.postbacks() == []


def test_magic_email_local_parts_work_with_any_domain_and_case(api: Api) -> None:
    response = api.post("message/send", payloads.email("Error@Some-Other.Domain.org"))

    assert response.status_code == 500
