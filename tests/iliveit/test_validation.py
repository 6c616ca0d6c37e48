"""Each provider rule refuses a broken request, naming the wire field and the reason."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from iliveit import (
    ActionType,
    BuildRequest,
    EmailAttachment,
    EmailData,
    InvalidMessage,
    MMSData,
    NewMessage,
    PostbackType,
    ResendRequest,
    Slide,
    SlideContent,
    SlideContentType,
    SMSData,
    validate_build_request,
    validate_message_id,
    validate_msisdn,
    validate_new_message,
    validate_resend_request,
)

TEXT = SlideContent(type=SlideContentType.TEXT, mime="text/plain", data="Hi")
IMAGE = SlideContent(type=SlideContentType.IMAGE, mime="image/png", data="iVBORw==")
SMS = SMSData(msisdn="27820000001", text="Hello")
EMAIL = EmailData(address="a@example.com", subject="Hi", text="Body")
MMS = MMSData(msisdn="27820000001", subject="Look", slides=(Slide(duration=5, content=(TEXT,)),))
URL = "https://portal.example/postbacks/1"
NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def message(data=SMS, **changes) -> NewMessage:
    return NewMessage(mvno_id=7, data=data, **changes)


def slide(*content, duration=5) -> Slide:
    return Slide(duration=duration, content=content)


def refuses(check, request, field: str, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        check(request)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    "request_",
    [
        message(SMS),
        message(EMAIL),
        message(MMS),
        message(replace(EMAIL, text="", html="<p>x</p>")),
        message(replace(MMS, slides=(slide(TEXT, IMAGE), slide(IMAGE, duration=1)))),
        message(SMS, action=ActionType.ARCHIVE),
        message(SMS, postback_status_url=URL, postback_status_types=(PostbackType.SUBMIT,)),
        message(SMS, postback_status_url=URL, postback_status_types=("delivery",)),
        message(SMS, submit_not_before=NOON, submit_not_after=NOON.replace(minute=1)),
        message(
            replace(EMAIL, attachments=(EmailAttachment.from_bytes("a.pdf", b"%PDF"),)),
        ),
    ],
)
def test_it_accepts_a_well_formed_message(request_):
    validate_new_message(request_)


@pytest.mark.parametrize(
    ("request_", "field", "reason"),
    [
        (replace(message(), mvno_id=0), "MVNOID", "non-zero"),
        (replace(message(), mvno_id="7"), "MVNOID", "integer"),
        (message(action=ActionType.MMS), "Action", "MMS cannot send SMSData"),
        (message(action=9), "Action", "must be 1 (MMS)"),
        (message(data={"text": "x"}), "Data", "SMSData, EmailData or MMSData"),
        # one recipient
        (message(replace(SMS, msisdn="")), "Data.msisdn", "required"),
        (message(replace(SMS, msisdn=("27820000001",) * 2)), "Data.msisdn", "exactly one"),
        (message(replace(SMS, msisdn="+27820000001")), "Data.msisdn", "no '+'"),
        (message(replace(SMS, msisdn="2782000")), "Data.msisdn", "8 to 15 digits"),
        (message(replace(SMS, msisdn="2782000000012345")), "Data.msisdn", "8 to 15 digits"),
        (message(replace(SMS, text=" ")), "Data.text", "required"),
        (message(replace(SMS, extra_digits="1a")), "Data.extra_digits", "digits"),
        # email
        (message(replace(EMAIL, address="not-an-address")), "Data.address", "valid email"),
        (message(replace(EMAIL, address=["a@example.com"] * 2)), "Data.address", "exactly one"),
        (message(replace(EMAIL, subject="")), "Data.subject", "required"),
        (message(replace(EMAIL, text="", html="")), "Data.html", "html or a text body"),
        (message(replace(EMAIL, replyto="nope")), "Data.replyto", "valid email"),
        (
            message(replace(EMAIL, attachments=(EmailAttachment(filename="", data="aGk="),))),
            "Data.attachments[0].filename",
            "required",
        ),
        (
            message(replace(EMAIL, attachments=(EmailAttachment(filename="a", data="not b64!"),))),
            "Data.attachments[0].data",
            "base64",
        ),
        # mms
        (message(replace(MMS, subject="")), "Data.subject", "required"),
        (message(replace(MMS, slides=())), "Data.slides", "at least one slide"),
        (message(replace(MMS, slides=(slide(),))), "Data.slides[0].content", "at least one"),
        (
            message(replace(MMS, slides=(slide(TEXT), slide(TEXT, duration=0)))),
            "Data.slides[1].duration",
            "positive",
        ),
        (
            message(replace(MMS, slides=(slide(TEXT, duration="5"),))),
            "Data.slides[0].duration",
            "whole number",
        ),
        (
            message(replace(MMS, slides=(slide(TEXT, replace(IMAGE, data="%%%")),))),
            "Data.slides[0].content[1].data",
            "base64",
        ),
        (
            message(replace(MMS, slides=(slide(replace(IMAGE, type="gif")),))),
            "Data.slides[0].content[0].type",
            "text, image, video, audio",
        ),
        (
            message(replace(MMS, slides=(slide(replace(TEXT, data="")),))),
            "Data.slides[0].content[0].data",
            "required",
        ),
        (
            message(replace(MMS, slides=(slide(replace(IMAGE, mime="")),))),
            "Data.slides[0].content[0].mime",
            "required",
        ),
        # postbacks
        (
            message(postback_status_url=URL, postback_status_types=("read",)),
            "PostbackStatusTypes",
            "'read' is not one of build, submit, archive, sent, delivery",
        ),
        (
            message(postback_status_url=URL, postback_status_types="submit,delivery"),
            "PostbackStatusTypes",
            "not a string",
        ),
        (
            message(postback_status_types=(PostbackType.SENT,)),
            "PostbackStatusTypes",
            "without a PostbackStatusUrl",
        ),
        (message(postback_status_url="ftp://x/y"), "PostbackStatusUrl", "http(s) URL"),
        (message(postback_status_url="https://"), "PostbackStatusUrl", "http(s) URL"),
        (message(postback_reply_url="portal/replies"), "PostbackReplyUrl", "http(s) URL"),
        # send window
        (
            message(submit_not_before=datetime(2030, 1, 1, 8, 0)),
            "SubmitNotBefore",
            "timezone-aware",
        ),
        (message(submit_not_after="2030-01-01 08:00"), "SubmitNotAfter", "datetime"),
        (
            message(submit_not_before=NOON, submit_not_after=NOON.replace(second=30)),
            "SubmitNotAfter",
            "a minute after SubmitNotBefore",
        ),
    ],
)
def test_it_refuses_a_broken_message(request_, field, reason):
    refuses(validate_new_message, request_, field, reason)


def build(**changes) -> BuildRequest:
    values = {"mvno_id": 7, "recipient": "27820000001", "data": {"a": 1}, "build_template": 3}
    return BuildRequest(**(values | changes))


@pytest.mark.parametrize(
    "request_",
    [
        build(),
        build(data='{"a": 1}'),
        build(build_template=0, build_template_ref="welcome"),
        build(after_build_action=ActionType.EMAIL, recipient="a@example.com"),
        build(after_build_action=ActionType.SMS),
        build(after_build_action=ActionType.ARCHIVE, recipient=""),
        build(forced_size="Low"),
    ],
)
def test_it_accepts_a_well_formed_build_request(request_):
    validate_build_request(request_)


@pytest.mark.parametrize(
    ("request_", "field", "reason"),
    [
        (build(mvno_id=0), "MVNOID", "non-zero"),
        (build(build_template=0), "BuildTemplate", "non-zero BuildTemplate or a BuildTemplateRef"),
        (build(build_template_ref="x"), "BuildTemplate", "not both"),
        (build(build_template="3"), "BuildTemplate", "integer"),
        (build(data="{not json"), "Data", "must be a JSON string"),
        (build(data=""), "Data", "must be a JSON string"),
        (build(data={"when": datetime(2030, 1, 1)}), "Data", "cannot be serialised"),
        (build(data=42), "Data", "JSON string or an object"),
        (build(after_build_action=7), "AfterBuildAction", "must be 1 (MMS)"),
        (build(recipient=""), "AfterBuildData.msisdn", "required"),
        (build(recipient="27820000001", after_build_action=3), "AfterBuildData.address", "email"),
        (build(forced_size="Medium"), "ForcedSize", '"High" or "Low"'),
        (
            build(postback_status_url=URL, postback_status_types=("built",)),
            "PostbackStatusTypes",
            "'built'",
        ),
    ],
)
def test_it_refuses_a_broken_build_request(request_, field, reason):
    refuses(validate_build_request, request_, field, reason)


@pytest.mark.parametrize(
    "request_",
    [
        ResendRequest(message_id="m1", msisdn="27820000001"),
        ResendRequest(message_id="m1", email="a@example.com"),
        ResendRequest(
            message_id="m1",
            msisdn="27820000001",
            postback_status_url=URL,
            postback_status_types=(PostbackType.DELIVERY,),
        ),
    ],
)
def test_it_accepts_a_well_formed_resend(request_):
    validate_resend_request(request_)


@pytest.mark.parametrize(
    ("request_", "field", "reason"),
    [
        (ResendRequest(message_id="", msisdn="27820000001"), "MessageID", "required"),
        (ResendRequest(message_id="m1"), "MSISDN", "an MSISDN or an Email"),
        (
            ResendRequest(message_id="m1", msisdn="27820000001", email="a@example.com"),
            "Email",
            "not both",
        ),
        (ResendRequest(message_id="m1", msisdn="0820000001x"), "MSISDN", "digits"),
        (ResendRequest(message_id="m1", email="a@"), "Email", "valid email"),
    ],
)
def test_it_refuses_a_broken_resend(request_, field, reason):
    refuses(validate_resend_request, request_, field, reason)


@pytest.mark.parametrize("msisdn", ["", "27 82 000 0001", "27820000001\n", "٢٧٨٢٠٠٠٠٠٠١", None])
def test_it_refuses_a_malformed_msisdn_for_scrub(msisdn):
    with pytest.raises(InvalidMessage) as caught:
        validate_msisdn(msisdn)
    assert caught.value.field == "msisdn"


@pytest.mark.parametrize("message_id", ["", "  ", None, 12])
def test_it_refuses_an_empty_message_id(message_id):
    with pytest.raises(InvalidMessage) as caught:
        validate_message_id(message_id)
    assert caught.value.field == "message_id"


def test_the_error_names_field_and_reason_in_its_text():
    with pytest.raises(InvalidMessage, match=r"^Data\.text: required$"):
        validate_new_message(message(replace(SMS, text="")))


# --- header injection ---------------------------------------------------------------------------

# Each can end a mail or MMS header line (CR, LF, and what Unicode-aware parsers also split on:
# VT, FF, the file/group/record separators, NEL, LINE and PARAGRAPH SEPARATOR), or is a control
# character that has no business in a header (NUL, ESC, DEL, C1 controls, tab).
BREAKERS = [
    "\r\n",
    "\n",
    "\r",
    "\x00",
    "\t",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1c",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
]


@pytest.mark.parametrize("breaker", BREAKERS)
@pytest.mark.parametrize(
    ("data", "field"),
    [
        (lambda b: replace(EMAIL, subject=f"s{b}Bcc: x@y.z"), "Data.subject"),
        (lambda b: replace(EMAIL, fromname=f"Ann{b}Bcc: x@y.z"), "Data.fromname"),
        (lambda b: replace(EMAIL, replyto=f'"a{b}b"@example.com'), "Data.replyto"),
        (lambda b: replace(MMS, subject=f"s{b}X-Evil: 1"), "Data.subject"),
        (
            lambda b: replace(
                EMAIL, attachments=(EmailAttachment(filename=f"a{b}.txt", data="aGk="),)
            ),
            "Data.attachments[0].filename",
        ),
    ],
)
def test_it_refuses_control_characters_in_a_header(data, field, breaker):
    refuses(validate_new_message, message(data(breaker)), field, "control characters")


@pytest.mark.parametrize(
    "subject", ["Prices: 50% off", "Ünïcödé ✓ 😀", "Right-to-left: שלום", "a  b"]
)
def test_it_accepts_printable_unicode_in_a_header(subject):
    validate_new_message(message(replace(EMAIL, subject=subject, fromname=subject)))
    validate_new_message(message(replace(MMS, subject=subject)))


def test_line_breaks_in_a_body_are_not_a_header_matter():
    validate_new_message(message(replace(EMAIL, text="Line one\r\nLine two\tTabbed")))
    validate_new_message(message(replace(SMS, text="Line one\nLine two")))
