"""The wire form of the request types."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from iliveit import (
    ALL_POSTBACK_TYPES,
    PIPELINE_CODES,
    ActionType,
    BuildRequest,
    EmailAttachment,
    EmailData,
    MMSData,
    NewMessage,
    PostbackType,
    ResendRequest,
    Slide,
    SlideContent,
    SlideContentType,
    SMSData,
)

TEXT = SlideContent(type=SlideContentType.TEXT, mime="text/plain", data="Hi", name="t.txt")


# --- requests on the wire -----------------------------------------------------------------------


def test_an_sms_goes_out_with_one_recipient_in_a_list():
    message = NewMessage(mvno_id=7, data=SMSData(msisdn="27820000001", text="Hello"))

    assert message.to_json() == {
        "Action": 2,
        "MVNOID": 7,
        "Data": {
            "message_type": "sms",
            "msisdn": ["27820000001"],
            "network": "any",
            "text": "Hello",
        },
    }


def test_it_sends_postback_types_as_a_comma_list_and_windows_in_utc_minutes():
    sast = timezone(timedelta(hours=2))
    message = NewMessage(
        mvno_id=7,
        data=SMSData(msisdn="27820000001", text="Hello", extra_digits="12"),
        campaign="Spring",
        postback_status_url="https://portal.example/postbacks/abc",
        postback_status_types=(PostbackType.SUBMIT, PostbackType.DELIVERY),
        postback_reply_url="https://portal.example/replies/abc",
        submit_not_before=datetime(2030, 1, 2, 8, 5, 59, tzinfo=sast),
        submit_not_after=datetime(2030, 1, 2, 23, 30, tzinfo=UTC),
        approval_batch="B1",
    )

    wire = message.to_json()

    assert wire["PostbackStatusTypes"] == "submit,delivery"
    assert wire["SubmitNotBefore"] == "2030-01-02 06:05"
    assert wire["SubmitNotAfter"] == "2030-01-02 23:30"
    assert wire["Campaign"] == "Spring"
    assert wire["PostbackStatusUrl"] == "https://portal.example/postbacks/abc"
    assert wire["PostbackReplyUrl"] == "https://portal.example/replies/abc"
    assert wire["ApprovalBatch"] == "B1"
    assert wire["Data"]["extra_digits"] == "12"


def test_it_leaves_out_empty_optional_fields_rather_than_sending_blanks():
    wire = NewMessage(mvno_id=7, data=SMSData(msisdn="27820000001", text="x")).to_json()

    for key in ("Campaign", "PostbackStatusUrl", "PostbackStatusTypes", "PostbackReplyUrl"):
        assert key not in wire
    assert "SubmitNotBefore" not in wire


def test_an_mms_sends_slide_durations_as_strings():
    image = SlideContent.from_bytes(SlideContentType.IMAGE, "image/png", b"\x89PNG", "a.png")
    data = MMSData(
        msisdn="27820000001",
        subject="Look",
        slides=(Slide(duration=5, content=(TEXT, image)),),
    )

    wire = NewMessage(mvno_id=7, data=data).to_json()

    assert wire["Action"] == ActionType.MMS
    assert wire["Data"] == {
        "message_type": "mms",
        "msisdn": ["27820000001"],
        "network": "*",
        "subject": "Look",
        "slides": [
            {
                "duration": "5",
                "content": [
                    {"type": "text", "mime": "text/plain", "data": "Hi", "name": "t.txt"},
                    {"type": "image", "mime": "image/png", "data": "iVBORw==", "name": "a.png"},
                ],
            }
        ],
    }


def test_a_text_slide_made_from_bytes_holds_plain_text():
    content = SlideContent.from_bytes(SlideContentType.TEXT, "text/plain", "Grüße".encode())

    assert content.data == "Grüße"


def test_an_email_carries_its_attachments_in_base64():
    data = EmailData(
        address="someone@example.com",
        subject="Invoice",
        html="<p>Hi</p>",
        fromname="Shop",
        attachments=(EmailAttachment.from_bytes("a.txt", b"hello"),),
    )

    wire = NewMessage(mvno_id=7, data=data).to_json()

    assert wire["Action"] == ActionType.EMAIL
    assert wire["Data"] == {
        "message_type": "email",
        "address": ["someone@example.com"],
        "network": "*",
        "subject": "Invoice",
        "html": "<p>Hi</p>",
        "fromname": "Shop",
        "attachments": [{"filename": "a.txt", "data": "aGVsbG8="}],
    }


def test_an_explicit_archive_action_wins_over_the_data_kind():
    message = NewMessage(
        mvno_id=7, data=SMSData(msisdn="27820000001", text="x"), action=ActionType.ARCHIVE
    )

    assert message.to_json()["Action"] == 4


def test_a_build_request_sends_data_and_after_build_data_as_json_strings():
    request = BuildRequest(
        mvno_id=7,
        recipient="27820000001",
        data={"name": "Thandi", "amount": 12},
        build_template=3,
        campaign="Video",
        forced_size="High",
        postback_status_url="https://portal.example/p/1",
        postback_status_types=(PostbackType.BUILD,),
    )

    wire = request.to_json()

    assert json.loads(wire["Data"]) == {"name": "Thandi", "amount": 12}
    assert json.loads(wire["AfterBuildData"]) == {
        "message_type": "mms",
        "msisdn": ["27820000001"],
        "network": "*",
        "slides": [],
        "subject": "",
    }
    assert wire["AfterBuildAction"] == 1
    assert wire["BuildTemplate"] == 3
    assert "BuildTemplateRef" not in wire
    assert wire["ForcedSize"] == "High"
    assert wire["PostbackStatusTypes"] == "build"


def test_a_build_request_passes_a_json_string_through_untouched():
    wire = BuildRequest(mvno_id=7, recipient="27820000001", data='{"a": 1}').to_json()

    assert wire["Data"] == '{"a": 1}'


def test_a_build_request_for_email_names_an_address():
    request = BuildRequest(
        mvno_id=7,
        recipient="a@example.com",
        data="{}",
        build_template_ref="welcome",
        after_build_action=ActionType.EMAIL,
    )

    wire = request.to_json()

    assert json.loads(wire["AfterBuildData"])["address"] == ["a@example.com"]
    assert wire["BuildTemplateRef"] == "welcome"
    assert "BuildTemplate" not in wire


def test_an_archive_only_build_may_have_no_after_build_data():
    request = BuildRequest(
        mvno_id=7, data="{}", build_template=3, after_build_action=ActionType.ARCHIVE
    )

    assert "AfterBuildData" not in request.to_json()


def test_a_resend_names_its_one_recipient():
    request = ResendRequest(
        message_id="abc",
        email="a@example.com",
        postback_status_url="https://portal.example/p",
        postback_status_types=ALL_POSTBACK_TYPES,
    )

    assert request.to_json() == {
        "MessageID": "abc",
        "Email": "a@example.com",
        "PostbackStatusUrl": "https://portal.example/p",
        "PostbackStatusTypes": "build,submit,archive,sent,delivery",
    }


def test_a_naive_send_window_cannot_be_put_on_the_wire():
    message = NewMessage(
        mvno_id=7,
        data=SMSData(msisdn="27820000001", text="x"),
        submit_not_before=datetime(2030, 1, 1, 8, 0),
    )

    with pytest.raises(ValueError, match="timezone-aware"):
        message.to_json()


def test_the_pipeline_table_has_every_documented_code():
    assert sorted(PIPELINE_CODES) == list(range(1, 19))
    assert PIPELINE_CODES[9] == "NotMMS"
