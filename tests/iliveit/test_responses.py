"""The tolerant, strict reading of the response types: status results, archived messages and
scrub results."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iliveit import (
    ArchivedMessage,
    MalformedPayload,
    MalformedStatus,
    PostbackType,
    ScrubResult,
    StageStatus,
    StatusResult,
)

# The reference's example answer, verbatim.
DOCUMENTED_STATUS = {
    "type": "message_type",
    "campaign": "campaign_name",
    "message_id": "message-id",
    "template": 1,
    "network": "actual submitted network",
    "msisdn": "27000000000",
    "email": "email@example.com",
    "mvno": 1,
    "date_received": "2015-01-06T10:20:30Z",
    "build_status": 14,
    "build_timestamp": "2015-01-06T10:20:30Z",
    "archive_status": 4,
    "archive_timestamp": "2015-01-06T10:20:30Z",
    "submit_status": 2,
    "submit_timestamp": "2015-01-06T10:20:30Z",
    "sent_status": 1,
    "sent_timestamp": "2015-01-06T10:20:30Z",
    "delivered_status": 1,
    "delivered_timestamp": "2015-01-06T10:20:30Z",
}
WHEN = datetime(2015, 1, 6, 10, 20, 30, tzinfo=UTC)


# --- StatusResult -------------------------------------------------------------------------------


def test_it_reads_the_documented_status():
    result = StatusResult.from_json(DOCUMENTED_STATUS)

    assert result.message_id == "message-id"
    assert result.template == 1
    assert result.mvno == 1
    assert result.msisdn == "27000000000"
    assert result.date_received == WHEN
    assert result.build == StageStatus(code=14, description="", timestamp=WHEN)
    assert result.delivered == StageStatus(code=1, description="", timestamp=WHEN)
    assert result.postback_type is None
    assert result.raw is DOCUMENTED_STATUS


def test_it_reads_keys_in_any_case():
    body = {
        "Type": "sms",
        "MessageID": "m1",
        "MSISDN": "27820000001",
        "Network": "vodacom",
        "MVNO": 3,
        "Submit_Status": 2,
        "SubmitStatusDescription": "Submitted",
        "SUBMIT_TIMESTAMP": "2015-01-06T10:20:30Z",
        "PostbackType": "Submit",
        "NetworkReference": "ref-9",
    }

    result = StatusResult.from_json(body)

    assert (result.type, result.message_id, result.msisdn) == ("sms", "m1", "27820000001")
    assert result.network == "vodacom"
    assert result.mvno == 3
    assert result.submit == StageStatus(code=2, description="Submitted", timestamp=WHEN)
    assert result.postback_type is PostbackType.SUBMIT
    assert result.network_reference == "ref-9"


def test_stages_that_have_not_happened_are_absent():
    body = {
        "message_id": "m1",
        "build_status": 0,
        "build_status_description": "",
        "build_timestamp": "0001-01-01T00:00:00Z",
        "sent_status": None,
        "date_received": "0001-01-01T00:00:00Z",
    }

    result = StatusResult.from_json(body)

    assert result.build is None
    assert result.archive is None
    assert result.sent is None
    assert result.date_received is None
    assert result.template is None
    assert result.mvno is None


def test_a_stage_with_a_zero_timestamp_keeps_its_code():
    body = {"message_id": "m1", "submit_status": 1, "submit_timestamp": "0001-01-01T00:00:00Z"}

    assert StatusResult.from_json(body).submit == StageStatus(
        code=1, description="", timestamp=None
    )


def test_it_keeps_unknown_codes_and_descriptions():
    body = {
        "message_id": "m1",
        "delivered_status": 77,
        "delivered_status_description": "Handset exploded",
        "submit_status": 99,
    }

    result = StatusResult.from_json(body)

    assert result.delivered.code == 77
    assert result.delivered.label == "Handset exploded"
    assert result.submit.label == "code 99"


def test_a_stage_without_a_description_is_labelled_from_the_pipeline_table():
    result = StatusResult.from_json({"message_id": "m1", "submit_status": 9})

    assert result.submit.label == "NotMMS"


def test_it_accepts_codes_written_as_numeric_strings_and_offsets_in_times():
    body = {
        "message_id": "m1",
        "sent_status": " 1 ",
        "sent_timestamp": "2015-01-06T12:20:30.123456789+02:00",
    }

    result = StatusResult.from_json(body)

    assert result.sent.code == 1
    assert result.sent.timestamp == WHEN + timedelta(microseconds=123456)


def test_an_unknown_postback_type_is_dropped_but_kept_in_raw():
    body = {"message_id": "m1", "postback_type": "teleport"}

    result = StatusResult.from_json(body)

    assert result.postback_type is None
    assert result.raw["postback_type"] == "teleport"


# The webhook once quarantined these; it parses bodies with StatusResult.from_body now, so one
# rule holds for polls and postbacks: the unknown type is dropped and the stage still counts.
@pytest.mark.parametrize(
    "body",
    [
        {"message_id": "MSG-0001", "postback_type": "teleport", "sent_status": 1},
        {"MessageID": "MSG-0001", "PostbackType": "teleport", "SentStatus": 1},
    ],
    ids=["snake case", "Go case"],
)
def test_a_postback_body_of_an_unknown_type_keeps_its_stages(body):
    result = StatusResult.from_body(json.dumps(body).encode())

    assert result.postback_type is None
    assert result.sent.code == 1


@pytest.mark.parametrize(
    "body", [b"", b'{"message_id": ', b'"\xff"', b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000]
)
def test_a_body_that_is_not_json_is_a_malformed_status(body):
    with pytest.raises(MalformedStatus, match="body is not JSON"):
        StatusResult.from_body(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([1, 2], "expected a JSON object, got array"),
        ("status", "expected a JSON object, got string"),
        (None, "expected a JSON object, got null"),
        ({}, "message_id: required"),
        ({"message_id": 12}, "message_id: expected a string, got number"),
        ({"message_id": "m", "submit_status": "two"}, "submit_status: expected an integer"),
        ({"message_id": "m", "submit_status": "²"}, "submit_status: expected an integer"),
        ({"message_id": "m", "submit_status": 1.5}, "submit_status: expected an integer"),
        ({"message_id": "m", "submit_status": True}, "submit_status: expected an integer"),
        ({"message_id": "m", "sent_timestamp": "yesterday"}, "sent_timestamp: not an RFC 3339"),
        ({"message_id": "m", "sent_timestamp": 1420539630}, "sent_timestamp: expected an RFC"),
        (
            {"message_id": "m", "sent_timestamp": "0001-01-01T01:00:00+05:00"},
            "sent_timestamp: timestamp out of range",
        ),
        ({"message_id": "m", "network": ["vodacom"]}, "network: expected a string, got array"),
        ({"message_id": "m", "postback_type": 3}, "postback_type: expected a string"),
    ],
)
def test_it_refuses_a_status_of_the_wrong_shape(body, reason):
    with pytest.raises(MalformedStatus, match=reason.replace("(", r"\(")):
        StatusResult.from_json(body)


def test_malformed_status_is_a_value_error():
    assert issubclass(MalformedStatus, ValueError)


_STATUS_KEYS = [
    *DOCUMENTED_STATUS,
    "MessageID",
    "MSISDN",
    "Network",
    "postback_type",
    "network_reference",
    *(f"{stage}_status_description" for stage in ("build", "archive", "submit", "sent")),
]
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["0001-01-01T00:00:00Z", "2015-01-06T10:20:30Z", "12", "", " 3 "])
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_status_like = st.dictionaries(
    st.sampled_from(_STATUS_KEYS) | st.text(max_size=12), _json_values, max_size=20
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_status_like, _json_values))
def test_it_raises_nothing_but_malformed_status_on_any_json(document):
    try:
        result = StatusResult.from_json(document)
    except MalformedStatus:
        return
    assert result.message_id


@settings(max_examples=200, deadline=None)
@given(
    code=st.integers(min_value=1, max_value=10**6),
    moment=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    key_case=st.sampled_from([str.lower, str.upper]),
)
def test_it_reads_back_any_well_formed_stage(code, moment, key_case):
    body = {
        key_case("message_id"): "m1",
        key_case("delivered_status"): code,
        key_case("delivered_timestamp"): moment.isoformat().replace("+00:00", "Z"),
    }

    result = StatusResult.from_json(body)

    assert result.delivered == StageStatus(code=code, description="", timestamp=moment)


# --- ArchivedMessage and ScrubResult ------------------------------------------------------------


def test_it_reads_an_archived_message():
    body = {"type": "sms", "date_created": "2015-01-06T10:20:30Z", "data": {"text": "Hi"}}

    assert ArchivedMessage.from_json(body) == ArchivedMessage(
        type="sms", date_created=WHEN, data={"text": "Hi"}
    )


def test_an_archived_message_needs_its_data():
    with pytest.raises(MalformedPayload, match="data: expected a JSON object, got null"):
        ArchivedMessage.from_json({"type": "sms"})


def test_it_reads_a_scrub_result():
    body = {
        "msisdn": "27820000001",
        "network": "vodacom",
        "handset_make": "Sandbox",
        "handset_model": "Phone",
        "is_mms_provisioned": True,
        "is_mms_capable": True,
        "allow_send": True,
        "screen_size": {"width": 720, "height": 1280},
        "error_code": 0,
        "error": "",
    }

    result = ScrubResult.from_json(body)

    assert result.allow_send is True
    assert (result.screen_width, result.screen_height) == (720, 1280)
    assert result.network == "vodacom"


def test_a_scrub_result_without_allow_send_forbids_sending():
    assert ScrubResult.from_json({"msisdn": "27820000001"}).allow_send is False


# The C# client reads the flags as booleans and error_code, width and height as integers; the Go
# client reads every one of them as a string (NOTES.md, "Routes").
CSHARP_SCRUB = {
    "is_mms_provisioned": True,
    "is_mms_capable": False,
    "allow_send": True,
    "screen_size": {"width": 720, "height": 1280},
    "error_code": 0,
}
GO_SCRUB = {
    "is_mms_provisioned": "true",
    "is_mms_capable": "false",
    "allow_send": "true",
    "screen_size": {"width": "720", "height": "1280"},
    "error_code": "0",
}
GO_SCRUB_DIGITS = GO_SCRUB | {"is_mms_provisioned": "1", "is_mms_capable": "0", "allow_send": "1"}


@pytest.mark.parametrize(
    "body", [CSHARP_SCRUB, GO_SCRUB, GO_SCRUB_DIGITS], ids=["csharp", "go", "go-digits"]
)
def test_a_scrub_result_is_read_in_either_clients_types(body):
    result = ScrubResult.from_json(body)

    assert (result.is_mms_provisioned, result.is_mms_capable, result.allow_send) == (
        True,
        False,
        True,
    )
    assert (result.screen_width, result.screen_height) == (720, 1280)
    assert result.error_code == 0


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("True", True),
        ("FALSE", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        ("", False),
        (None, False),
    ],
)
def test_a_scrub_flag_is_read_in_every_form_the_clients_use(flag, expected):
    assert ScrubResult.from_json({"allow_send": flag}).allow_send is expected


@pytest.mark.parametrize("error_code", [8, "8", " 8 "])
def test_a_scrub_error_code_is_read_as_a_number_or_a_string(error_code):
    assert ScrubResult.from_json({"error_code": error_code}).error_code == 8


@pytest.mark.parametrize("flag", ["yes", "maybe", "2", 2, -1, 0.5, [], {}])
def test_a_scrub_result_refuses_a_nonsense_flag(flag):
    with pytest.raises(MalformedPayload, match="allow_send: expected true or false"):
        ScrubResult.from_json({"allow_send": flag})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error_code": "none"}, "error_code"),
        ({"error_code": True}, "error_code"),
        ({"screen_size": {"width": "wide"}}, "width"),
        ({"screen_size": "720x1280"}, "screen_size"),
    ],
)
def test_a_scrub_result_refuses_a_nonsense_number(body, field):
    with pytest.raises(MalformedPayload, match=field):
        ScrubResult.from_json(body)
