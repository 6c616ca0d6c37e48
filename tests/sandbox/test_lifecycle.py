"""A message's stages over time, seen by polling its status, and resends."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.sandbox import payloads
from tests.sandbox.conftest import Api, wait_until
from tests.sandbox.payloads import changed

ZERO = "0001-01-01T00:00:00Z"
STAGES = ("build", "archive", "submit", "sent", "delivered")


def stages(status: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        stage: (status[f"{stage}_status"], status[f"{stage}_status_description"])
        for stage in STAGES
    }


def window(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


ORDINARY_END = {
    "build": (0, ""),
    "archive": (4, "Archived"),
    "submit": (2, "Submitted"),
    "sent": (1, "Sent"),
    "delivered": (1, "Delivered"),
}


@pytest.mark.parametrize("body", [payloads.sms(), payloads.mms(), payloads.email()])
def test_an_ordinary_message_is_archived_submitted_sent_and_delivered(api: Api, body) -> None:
    message_id = api.send(body)

    status = api.wait_until_settled(message_id)

    assert stages(status) == ORDINARY_END
    assert status["build_timestamp"] == ZERO
    for stage in ("archive", "submit", "sent", "delivered"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", status[f"{stage}_timestamp"])


def test_stages_that_have_not_happened_read_zero(sandbox, api: Api) -> None:
    sandbox.configure(step_seconds=5)
    message_id = api.send(payloads.sms())

    status = api.wait_for_status(message_id, lambda s: s["submit_status"] == 1)

    assert status["submit_status_description"] == "Received"
    for stage in ("build", "archive", "sent", "delivered"):
        assert status[f"{stage}_status"] == 0
        assert status[f"{stage}_status_description"] == ""
        assert status[f"{stage}_timestamp"] == ZERO


def test_stages_arrive_in_order_one_step_apart(sandbox, api: Api) -> None:
    sandbox.configure(step_seconds=0.3)
    message_id = api.send(payloads.sms())
    seen: list[tuple[int, int, int, int]] = []

    def progress() -> tuple[int, int, int, int]:
        status = api.status(message_id)
        now = tuple(status[f"{s}_status"] for s in ("submit", "archive", "sent", "delivered"))
        if not seen or seen[-1] != now:
            seen.append(now)
        return now

    wait_until(progress, lambda now: now[3] == 1)

    # The first stage is set by the sandbox's scheduler a moment after the answer, so on a
    # loaded machine the very first read may still show nothing.
    reported = [now for now in seen if any(now)]
    assert reported == [(1, 0, 0, 0), (1, 4, 0, 0), (2, 4, 0, 0), (2, 4, 1, 0), (2, 4, 1, 1)]
    assert seen[: len(seen) - len(reported)] in ([], [(0, 0, 0, 0)])


def test_a_video_is_built_then_sent_as_its_after_build_action(api: Api) -> None:
    message_id = api.submit("generate/video", payloads.video(template=7))

    status = api.wait_until_settled(message_id)

    assert stages(status) == {**ORDINARY_END, "build": (14, "RenderFarmSuccess")}
    assert status["type"] == "mms"
    assert status["template"] == 7


def test_a_built_video_is_archived_as_an_mms_with_a_video_slide(api: Api) -> None:
    message_id = api.submit("generate/video", payloads.video())
    api.wait_until_settled(message_id)

    archived = api.get(f"message/{message_id}").json()

    assert archived["type"] == "mms"
    assert archived["data"]["msisdn"] == [payloads.MSISDN]
    assert archived["data"]["slides"][0]["content"][0]["type"] == "video"


def test_archive_action_stops_after_archiving(api: Api) -> None:
    message_id = api.send(changed(payloads.sms(), "Action", 4))

    status = api.wait_until_settled(message_id)

    assert stages(status) == {
        **ORDINARY_END,
        "submit": (1, "Received"),
        "sent": (0, ""),
        "delivered": (0, ""),
    }
    assert api.get(f"message/{message_id}").status_code == 200


def test_template_999_fails_the_build(api: Api) -> None:
    message_id = api.submit("generate/video", payloads.video(template=999))

    status = api.wait_until_settled(message_id)

    assert stages(status)["build"] == (10, "TemplateError")
    assert status["archive_status"] == status["submit_status"] == 0
    assert api.get(f"message/{message_id}").json() == {"Error": "Message not archived yet"}


def test_a_send_window_that_closed_fails_the_submission(api: Api) -> None:
    message_id = api.send(payloads.sms(SubmitNotAfter="2020-01-01 00:00"))

    status = api.wait_until_settled(message_id)

    assert stages(status)["submit"] == (3, "Send window expired")
    assert status["sent_status"] == status["delivered_status"] == 0


def test_submit_not_before_in_the_future_delays_the_lifecycle(sandbox, api: Api) -> None:
    not_before = datetime.now(UTC) + timedelta(minutes=2)
    message_id = api.send(payloads.sms(SubmitNotBefore=window(not_before)))

    record = sandbox.message(message_id)

    assert record["starts_at"] == not_before.strftime("%Y-%m-%dT%H:%M:00Z")
    assert record["status"]["date_received"] != record["starts_at"]
    time.sleep(0.3)  # six steps: an undelayed message would be delivered by now
    assert all(api.status(message_id)[f"{stage}_status"] == 0 for stage in STAGES)


def test_submit_not_before_in_the_past_starts_at_once(api: Api) -> None:
    message_id = api.send(payloads.sms(SubmitNotBefore="2020-01-01 00:00"))

    assert stages(api.wait_until_settled(message_id))["delivered"] == (1, "Delivered")


# --- resend -----------------------------------------------------------------------------------


def test_resend_answers_the_original_id_followed_by_a_unix_timestamp(api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)
    before = int(datetime.now(UTC).timestamp())

    response = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert response.status_code == 200
    resent = response.json()["MessageID"]
    assert resent.startswith(original)
    assert before <= int(resent.removeprefix(original)) <= before + 2


def test_two_resends_in_one_second_get_different_ids(api: Api) -> None:
    original = api.send(payloads.sms())
    api.wait_until_settled(original)
    body = {"MessageID": original, "MSISDN": "27831234567"}

    first = api.submit("message/resend", body)
    second = api.submit("message/resend", body)

    assert first != second


def test_resend_sends_the_archived_content_to_the_new_recipient(sandbox, api: Api) -> None:
    original = api.send(payloads.mms(Campaign="autumn"))
    api.wait_until_settled(original)

    resent = api.submit(
        "message/resend",
        {"MessageID": original, "MSISDN": "27831234567", "PostbackStatusTypes": "delivery"},
    )
    status = api.wait_until_settled(resent)

    assert stages(status) == ORDINARY_END
    assert status["msisdn"] == "27831234567"
    assert status["network"] == "mtn"
    assert status["campaign"] == "autumn"
    archived = api.get(f"message/{resent}").json()
    assert archived["data"]["msisdn"] == ["27831234567"]
    assert archived["data"]["slides"] == payloads.mms()["Data"]["slides"]
    assert sandbox.message(resent)["postback_status_types"] == ["delivery"]


def test_resend_of_a_video_does_not_build_it_again(api: Api) -> None:
    original = api.submit("generate/video", payloads.video())
    api.wait_until_settled(original)

    resent = api.submit("message/resend", {"MessageID": original, "MSISDN": "27831234567"})
    status = api.wait_until_settled(resent)

    assert stages(status) == ORDINARY_END
    assert api.get(f"message/{resent}").json()["data"]["slides"][0]["content"][0]["type"] == "video"


def test_resend_of_an_email_needs_an_email_address(api: Api) -> None:
    original = api.send(payloads.email())
    api.wait_until_settled(original)

    by_number = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})
    by_address = api.post("message/resend", {"MessageID": original, "Email": "b@example.org"})

    assert by_number.status_code == 400
    assert by_number.json()["Error"].startswith("Email: required")
    assert by_address.status_code == 200
    assert api.status(by_address.json()["MessageID"])["email"] == "b@example.org"


def test_only_an_archived_message_can_be_resent(sandbox, api: Api) -> None:
    sandbox.configure(step_seconds=5)
    original = api.send(payloads.sms())

    response = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert response.status_code == 400
    assert response.json() == {"Error": "MessageID: message not archived yet"}


def test_a_failed_build_is_never_archived_so_never_resent(api: Api) -> None:
    original = api.submit("generate/video", payloads.video(template=999))
    api.wait_until_settled(original)

    response = api.post("message/resend", {"MessageID": original, "MSISDN": "27831234567"})

    assert response.status_code == 400


def test_resend_of_an_unknown_message_is_a_404(api: Api) -> None:
    response = api.post("message/resend", {"MessageID": "nope", "MSISDN": "27831234567"})

    assert response.status_code == 404
    assert response.json() == {"Error": "Message not found"}
