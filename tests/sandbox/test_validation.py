"""Every validation rule answers 400 with the field and the reason; every spelling the
provider's own clients use is accepted."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import APP_B
from tests.sandbox import payloads
from tests.sandbox.conftest import Api
from tests.sandbox.payloads import REMOVE, changed, email, mms, sms, video

NEW_MESSAGE_ERRORS = [
    ("not-an-object", ["Action", 2], "body: must be a JSON object"),
    ("action-missing", changed(sms(), "Action", REMOVE), "Action: required"),
    ("action-zero", changed(sms(), "Action", 0), "Action: must be 1"),
    ("action-five", changed(sms(), "Action", 5), "Action: must be 1"),
    ("action-string", changed(sms(), "Action", "2"), "Action: must be 1"),
    ("action-bool", changed(sms(), "Action", True), "Action: must be 1"),
    ("action-not-type", changed(sms(), "Action", 1), "Data.message_type: 'sms' does not match"),
    ("mvno-missing", changed(sms(), "MVNOID", REMOVE), "MVNOID: required"),
    ("mvno-zero", changed(sms(), "MVNOID", 0), "MVNOID: must be a non-zero integer"),
    ("mvno-string", changed(sms(), "MVNOID", "101"), "MVNOID: must be a non-zero integer"),
    ("mvno-other-app", sms(mvno=APP_B.mvno_id), "MVNOID: does not belong"),
    ("data-missing", changed(sms(), "Data", REMOVE), "Data: must be a JSON object"),
    ("data-string", changed(sms(), "Data", "{}"), "Data: must be a JSON object"),
    ("type-unknown", changed(sms(), "Data.message_type", "fax"), "Data.message_type: must be"),
    (
        "archive-type-missing",
        changed(changed(sms(), "Action", 4), "Data.message_type", REMOVE),
        "Data.message_type: required when Action is 4 (Archive)",
    ),
    ("msisdn-missing", changed(sms(), "Data.msisdn", REMOVE), "Data.msisdn: must be a list"),
    ("msisdn-bare", changed(sms(), "Data.msisdn", "27821234567"), "Data.msisdn: must be a list"),
    ("msisdn-two", changed(sms(), "Data.msisdn", ["27821234567"] * 2), "Data.msisdn: must be a"),
    ("msisdn-none", changed(sms(), "Data.msisdn", []), "Data.msisdn: must be a list"),
    ("msisdn-number", changed(sms(), "Data.msisdn", [27821234567]), "Data.msisdn: must be a"),
    ("msisdn-plus", changed(sms(), "Data.msisdn", ["+27821234567"]), "Data.msisdn: must be 8"),
    ("msisdn-letter", changed(sms(), "Data.msisdn", ["2782123456a"]), "Data.msisdn: must be 8"),
    ("msisdn-short", changed(sms(), "Data.msisdn", ["2782123"]), "Data.msisdn: must be 8"),
    ("msisdn-long", changed(sms(), "Data.msisdn", ["2" * 16]), "Data.msisdn: must be 8"),
    ("msisdn-spaces", changed(sms(), "Data.msisdn", ["2782 123 4567"]), "Data.msisdn: must be 8"),
    ("sms-text-missing", changed(sms(), "Data.text", REMOVE), "Data.text: required"),
    ("sms-text-empty", changed(sms(), "Data.text", " "), "Data.text: required"),
    ("sms-text-number", changed(sms(), "Data.text", 5), "Data.text: must be a string"),
    ("email-address-bad", changed(email(), "Data.address", ["nobody"]), "Data.address: is not"),
    ("email-address-at", changed(email(), "Data.address", ["a@b"]), "Data.address: is not"),
    ("email-address-missing", changed(email(), "Data.address", REMOVE), "Data.address: must"),
    ("email-subject-missing", changed(email(), "Data.subject", REMOVE), "Data.subject: required"),
    (
        "email-no-body",
        changed(changed(email(), "Data.html", ""), "Data.text", REMOVE),
        "Data.html: html or text is required",
    ),
    (
        "attachment-no-filename",
        changed(email(), "Data.attachments.0.filename", ""),
        "Data.attachments[0].filename: required",
    ),
    (
        "attachment-bad-base64",
        changed(email(), "Data.attachments.0.data", "not base64!"),
        "Data.attachments[0].data: is not valid base64",
    ),
    (
        "attachment-no-data",
        changed(email(), "Data.attachments.0.data", REMOVE),
        "Data.attachments[0].data: base64 data is required",
    ),
    ("attachments-object", changed(email(), "Data.attachments", {}), "Data.attachments: must"),
    ("mms-subject-missing", changed(mms(), "Data.subject", REMOVE), "Data.subject: required"),
    ("mms-no-slides", changed(mms(), "Data.slides", []), "Data.slides: at least one slide"),
    ("mms-slides-missing", changed(mms(), "Data.slides", REMOVE), "Data.slides: at least one"),
    (
        "duration-zero",
        changed(mms(), "Data.slides.0.duration", "0"),
        "Data.slides[0].duration: must be more than zero",
    ),
    (
        "duration-negative",
        changed(mms(), "Data.slides.0.duration", -2),
        "Data.slides[0].duration: must be more than zero",
    ),
    (
        "duration-words",
        changed(mms(), "Data.slides.0.duration", "five"),
        "Data.slides[0].duration: must be a number",
    ),
    (
        "duration-missing",
        changed(mms(), "Data.slides.0.duration", REMOVE),
        "Data.slides[0].duration: must be a number",
    ),
    (
        "content-empty",
        changed(mms(), "Data.slides.0.content", []),
        "Data.slides[0].content: at least one",
    ),
    (
        "content-type-unknown",
        changed(mms(), "Data.slides.0.content.1.type", "pdf"),
        "Data.slides[0].content[1].type: must be text, image, video or audio",
    ),
    (
        "content-bad-base64",
        changed(mms(), "Data.slides.0.content.1.data", "@@@"),
        "Data.slides[0].content[1].data: is not valid base64",
    ),
    (
        "content-text-missing",
        changed(mms(), "Data.slides.0.content.0.data", REMOVE),
        "Data.slides[0].content[0].data: required",
    ),
    (
        "postback-type-unknown",
        sms(PostbackStatusTypes="submit,bogus"),
        "PostbackStatusTypes: 'bogus' is not",
    ),
    ("postback-types-number", sms(PostbackStatusTypes=5), "PostbackStatusTypes: must be"),
    ("status-url-ftp", sms(PostbackStatusUrl="ftp://example.com/x"), "PostbackStatusUrl: must"),
    ("status-url-bare", sms(PostbackStatusUrl="example.com/x"), "PostbackStatusUrl: must"),
    ("reply-url-bad", sms(PostbackReplyUrl="nowhere"), "PostbackReplyUrl: must be an http"),
    ("not-before-iso", sms(SubmitNotBefore="2030-01-01T10:00"), "SubmitNotBefore: must be"),
    ("not-before-month", sms(SubmitNotBefore="2030-13-01 10:00"), "SubmitNotBefore: must be"),
    ("not-before-short", sms(SubmitNotBefore="2030-1-1 10:00"), "SubmitNotBefore: must be"),
    ("not-after-words", sms(SubmitNotAfter="tomorrow"), "SubmitNotAfter: must be"),
    ("campaign-number", sms(Campaign=5), "Campaign: must be a string"),
]

BUILD_REQUEST_ERRORS = [
    ("no-template", changed(video(), "BuildTemplate", REMOVE), "BuildTemplate: a non-zero"),
    ("template-zero", video(template=0), "BuildTemplate: a non-zero"),
    ("template-string", changed(video(), "BuildTemplate", "1"), "BuildTemplate: must be an"),
    ("mvno-other-app", video(mvno=APP_B.mvno_id), "MVNOID: does not belong"),
    ("data-missing", changed(video(), "Data", REMOVE), "Data: required"),
    ("data-not-json", changed(video(), "Data", "{name"), "Data: is not valid JSON"),
    ("data-number", changed(video(), "Data", 5), "Data: must be a JSON string or an object"),
    ("action-missing", changed(video(), "AfterBuildAction", REMOVE), "AfterBuildAction: required"),
    ("action-zero", changed(video(), "AfterBuildAction", 0), "AfterBuildAction: must be 1"),
    ("action-five", changed(video(), "AfterBuildAction", 5), "AfterBuildAction: must be 1"),
    ("after-missing", changed(video(), "AfterBuildData", REMOVE), "AfterBuildData: required"),
    ("after-not-json", changed(video(), "AfterBuildData", "{"), "AfterBuildData: is not valid"),
    ("after-list", changed(video(), "AfterBuildData", "[1]"), "AfterBuildData: must be a JSON"),
    ("after-no-recipient", changed(video(), "AfterBuildData", "{}"), "AfterBuildData.msisdn:"),
    (
        "after-two-recipients",
        changed(video(), "AfterBuildData", {"msisdn": ["27821234567", "27831234567"]}),
        "AfterBuildData.msisdn: must be a list with exactly one recipient",
    ),
    (
        "after-bad-msisdn",
        changed(video(), "AfterBuildData", {"msisdn": ["+27821234567"]}),
        "AfterBuildData.msisdn: must be 8",
    ),
    (
        "after-type-mismatch",
        changed(video(), "AfterBuildData", {"message_type": "sms", "msisdn": ["27821234567"]}),
        "AfterBuildData.message_type: 'sms' does not match",
    ),
    ("forced-size", video(ForcedSize="Medium"), "ForcedSize: must be"),
    ("postback-types", video(PostbackStatusTypes="render"), "PostbackStatusTypes: 'render'"),
    ("not-after", video(SubmitNotAfter="soon"), "SubmitNotAfter: must be"),
]

RESEND_ERRORS = [
    ("no-message-id", {"MSISDN": "27821234567"}, "MessageID: required"),
    ("no-recipient", {"MessageID": "x"}, "MSISDN: exactly one of MSISDN or Email"),
    (
        "both-recipients",
        {"MessageID": "x", "MSISDN": "27821234567", "Email": "a@example.com"},
        "MSISDN: exactly one of MSISDN or Email",
    ),
    ("bad-msisdn", {"MessageID": "x", "MSISDN": "+2782"}, "MSISDN: must be 8"),
    ("bad-email", {"MessageID": "x", "Email": "nobody"}, "Email: is not a valid email"),
    (
        "bad-url",
        {"MessageID": "x", "MSISDN": "27821234567", "PostbackStatusUrl": "x"},
        "PostbackStatusUrl: must be an http",
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "error"), NEW_MESSAGE_ERRORS, ids=[case[0] for case in NEW_MESSAGE_ERRORS]
)
def test_send_refuses_an_invalid_message(api: Api, name: str, body: Any, error: str) -> None:
    response = api.post("message/send", body)

    assert response.status_code == 400
    assert response.json()["Error"].startswith(error), response.json()


@pytest.mark.parametrize(
    ("name", "body", "error"), BUILD_REQUEST_ERRORS, ids=[case[0] for case in BUILD_REQUEST_ERRORS]
)
def test_generate_video_refuses_an_invalid_request(api: Api, name: str, body: Any, error: str):
    response = api.post("generate/video", body)

    assert response.status_code == 400
    assert response.json()["Error"].startswith(error), response.json()


@pytest.mark.parametrize(
    ("name", "body", "error"), RESEND_ERRORS, ids=[case[0] for case in RESEND_ERRORS]
)
def test_resend_refuses_an_invalid_request(api: Api, name: str, body: Any, error: str) -> None:
    response = api.post("message/resend", body)

    assert response.status_code == 400
    assert response.json()["Error"].startswith(error), response.json()


def test_refused_messages_are_not_stored_or_counted(sandbox, api: Api) -> None:
    for _, body, _ in NEW_MESSAGE_ERRORS[:5]:
        api.post("message/send", body)

    assert sandbox.submissions()["total"] == 0
    assert sandbox.control("GET", "messages") == {"messages": []}


def test_go_client_key_spelling_is_accepted(sandbox, api: Api) -> None:
    body = {
        "Action": 2,
        "MVNOID": api.app.mvno_id,
        "Data": {"MessageType": "sms", "MSISDN": [payloads.MSISDN], "Network": "any", "Text": "Hi"},
        "PostBackStatusTypes": "submit",
    }

    message_id = api.send(body)

    record = sandbox.message(message_id)
    assert record["request"] == body
    assert record["recipient"] == payloads.MSISDN
    assert record["postback_status_types"] == ["submit"]


def test_keys_are_read_case_insensitively_at_every_level(sandbox, api: Api) -> None:
    body = {
        "ACTION": 1,
        "mvnoid": api.app.mvno_id,
        "data": {
            "Message_Type": "mms",
            "Msisdn": [payloads.MSISDN],
            "SUBJECT": "Hi",
            "Slides": [{"Duration": 3, "CONTENT": [{"Type": "text", "Data": "Hi"}]}],
        },
        "postbackstatustypes": "delivery",
    }

    message_id = api.send(body)

    assert sandbox.message(message_id)["postback_status_types"] == ["delivery"]


@pytest.mark.parametrize("make", [sms, mms, email], ids=["sms", "mms", "email"])
@pytest.mark.parametrize("message_type", [REMOVE, ""], ids=["missing", "empty"])
def test_message_type_left_out_or_empty_is_taken_from_action(
    sandbox, api: Api, make, message_type: Any
) -> None:
    # The Go client omits an empty message_type for SMS and email and sends "" for MMS; the
    # reference's own Go MMS example never sets it.
    body = changed(make(), "Data.message_type", message_type)
    expected_type = make()["Data"]["message_type"]

    message_id = api.send(body)

    assert sandbox.message(message_id)["kind"] == expected_type
    assert api.status(message_id)["type"] == expected_type


def test_message_type_that_contradicts_action_is_refused_with_the_error_body(api: Api) -> None:
    response = api.post("message/send", changed(sms(), "Data.message_type", "mms"))

    assert response.status_code == 400
    assert response.json() == {"Error": "Data.message_type: 'mms' does not match Action 2"}


@pytest.mark.parametrize("key", ["PostBackStatusTypes", "PostbackStatusTypes"])
def test_both_spellings_of_postback_status_types_are_read(sandbox, api: Api, key: str) -> None:
    message_id = api.send(sms(**{key: "submit, sent,delivery"}))

    assert sandbox.message(message_id)["postback_status_types"] == ["submit", "sent", "delivery"]


@pytest.mark.parametrize("duration", ["5", 5, 2.5, "2.5"])
def test_slide_duration_may_be_a_string_or_a_number(api: Api, duration: Any) -> None:
    assert api.post("message/send", changed(mms(), "Data.slides.0.duration", duration)).ok


@pytest.mark.parametrize(
    "body",
    [
        changed(email(), "Data.html", REMOVE),
        changed(email(), "Data.text", REMOVE),
        changed(email(), "Data.attachments", REMOVE),
        changed(email(), "Data.attachments", None),
        # The reference's own email sample sends nulls for the postback fields.
        email(PostbackReplyUrl=None, PostbackStatusUrl=None, PostBackStatusTypes=None),
        changed(sms(), "Action", 4),
        changed(mms(), "Action", 4),
        changed(email(), "Action", 4),
        sms(SubmitNotBefore="2020-01-01 10:00", SubmitNotAfter="2099-12-31 23:59"),
        sms(PostbackStatusUrl="https://example.com/status/abc", ApprovalBatch="b1"),
        changed(
            email(), "Data.attachments.0.data", base64.encodebytes(b"x" * 100).decode()
        ),  # MIME-wrapped base64
    ],
    ids=[
        "email-text-only",
        "email-html-only",
        "email-no-attachments",
        "email-null-attachments",
        "null-postback-fields",
        "archive-sms",
        "archive-mms",
        "archive-email",
        "send-window",
        "https-url",
        "wrapped-base64",
    ],
)
def test_valid_variants_are_accepted(api: Api, body: dict[str, Any]) -> None:
    response = api.post("message/send", body)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        changed(video(), "AfterBuildData", {"msisdn": [payloads.MSISDN]}),
        changed(video(), "Data", {"name": "Thandi"}),
        changed(video(), "BuildTemplate", REMOVE) | {"BuildTemplateRef": "welcome-email"},
        changed(video(), "AfterBuildAction", 4) | {"AfterBuildData": None},
        video(ForcedSize="High"),
        video(ForcedSize="Low"),
        changed(video(), "AfterBuildAction", 2)
        | {"AfterBuildData": {"MessageType": "sms", "MSISDN": [payloads.MSISDN]}},
        changed(video(), "AfterBuildAction", 3) | {"AfterBuildData": {"address": [payloads.EMAIL]}},
    ],
    ids=[
        "after-object",
        "data-object",
        "template-ref",
        "archive-only",
        "forced-high",
        "forced-low",
        "after-sms-go-keys",
        "after-email",
    ],
)
def test_valid_build_requests_are_accepted(api: Api, body: dict[str, Any]) -> None:
    response = api.post("generate/video", body)

    assert response.status_code == 200, response.text
