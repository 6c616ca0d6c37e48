"""The status postback webhook, through the Django test client and the database."""

import json
import time
from datetime import UTC, datetime, timedelta
from functools import reduce

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from messaging.iliveit import STAGES as STAGE_NAMES
from messaging.iliveit import StatusResult
from messaging.iliveit.types import ZERO_TIMESTAMP
from messaging.models import Application, Campaign, CampaignState, Channel, Message, MessageState
from messaging.services import message_submit
from messaging.states import OUTCOMES
from postbacks import views
from postbacks.drain import postbacks_drain, postbacks_sweep
from postbacks.merge import MessageStatus, merge_status
from postbacks.models import EventSource, InboxKind, InboxState, MessageEvent, PostbackInbox
from postbacks.services import postbacks_apply_waiting, status_of
from postbacks.signing import sign
from tests.conftest import APP_A
from tests.postbacks.bodies import go_case, status_body
from tests.support.worker import CeleryWorker, database_url_for_workers

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
SUBMIT_AT = NOW - timedelta(minutes=3)
SENT_AT = NOW - timedelta(minutes=2)
DELIVERED_AT = NOW - timedelta(minutes=1)

SUBMITTED = (2, "Submitted", SUBMIT_AT)
SENT = (1, "Sent", SENT_AT)
DELIVERED = (1, "Delivered", DELIVERED_AT)


def url_for(message, mac: str | None = None) -> str:
    mac = sign(message.ref) if mac is None else mac
    return reverse("postbacks:status", kwargs={"ref": message.ref, "mac": mac})


def post_only(client, message, body, *, mac: str | None = None, **extra):
    """The webhook's own work: store and answer."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(url_for(message, mac), data=data, content_type="application/json", **extra)


def post(client, message, body, *, mac: str | None = None, **extra):
    """Post, then apply what was stored as the worker's drain does."""
    response = post_only(client, message, body, mac=mac, **extra)
    postbacks_drain()
    return response


def delivery_body(message, **kwargs) -> dict:
    stages = {"submit": SUBMITTED, "sent": SENT, "delivered": DELIVERED}
    return status_body(message.iliveit_id, "delivery", stages=stages, **kwargs)


def only_inbox_row() -> PostbackInbox:
    [row] = PostbackInbox.objects.all()
    return row


def events_of(message) -> list[tuple]:
    return list(message.events.order_by("stage").values_list("stage", "code", "stage_at"))


# --- one test per postback type -------------------------------------------------------------


def test_a_build_postback_marks_the_video_built(client, make_message, campaign):
    campaign.channel = Channel.VIDEO
    campaign.save()
    message = make_message()
    built = (14, "RenderFarmSuccess", SUBMIT_AT)
    body = status_body(message.iliveit_id, "build", stages={"build": built}, message_type="mms")

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.BUILT
    assert (message.build_code, message.build_description) == (14, "RenderFarmSuccess")
    assert message.build_at == SUBMIT_AT
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_submit_postback_records_the_submit_stage(client, message):
    response = post(
        client, message, status_body(message.iliveit_id, "submit", stages={"submit": SUBMITTED})
    )

    assert response.status_code == 200
    assert response.content == b"OK"
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert (message.submit_code, message.submit_description, message.submit_at) == SUBMITTED
    assert message.sent_code is None
    assert events_of(message) == [("submit", 2, SUBMIT_AT)]


def test_an_archive_postback_records_the_archive_stage(client, message):
    archived = (4, "Archived", SENT_AT)
    body = status_body(
        message.iliveit_id, "archive", stages={"submit": SUBMITTED, "archive": archived}
    )

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert (message.archive_code, message.archive_description, message.archive_at) == archived
    assert events_of(message) == [("archive", 4, SENT_AT), ("submit", 2, SUBMIT_AT)]


def test_a_sent_postback_marks_the_message_sent(client, message):
    body = status_body(message.iliveit_id, "sent", stages={"submit": SUBMITTED, "sent": SENT})

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert (message.sent_code, message.sent_description, message.sent_at) == SENT


def test_a_delivery_postback_marks_the_message_delivered(client, message):
    response = post(client, message, delivery_body(message, network="mtn"))

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.delivered_code, message.delivered_description) == (1, "Delivered")
    assert message.delivered_at == DELIVERED_AT
    assert message.network == "mtn"
    assert len(events_of(message)) == 3
    assert set(message.events.values_list("source", flat=True)) == {EventSource.POSTBACK}


def test_a_failed_delivery_postback_fails_the_message(client, message):
    body = status_body(
        message.iliveit_id,
        "delivery",
        stages={"submit": SUBMITTED, "sent": SENT, "delivered": (5, "Expired", DELIVERED_AT)},
    )

    post(client, message, body)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert (message.delivered_code, message.delivered_description) == (5, "Expired")


def test_it_reads_go_client_key_case(client, message):
    body = go_case(delivery_body(message, network="cellc"))
    assert {"MessageID", "MSISDN", "Network", "PostbackType", "DeliveredStatus"} <= body.keys()

    response = post(client, message, body)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert message.network == "cellc"
    assert (message.sent_code, message.sent_at) == (1, SENT_AT)
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_zero_timestamp_is_stored_as_no_time(client, message):
    body = status_body(
        message.iliveit_id,
        "delivery",
        stages={"delivered": (12, "Assumed Delivered", ZERO_TIMESTAMP)},
    )

    post(client, message, body)

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.delivered_code, message.delivered_at) == (12, None)


# --- stored first -------------------------------------------------------------------------


def test_behind_a_proxy_the_source_is_the_address_the_proxy_saw(client, message, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    raw = json.dumps(delivery_body(message)).encode()

    post(
        client,
        message,
        raw,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
    )

    row = only_inbox_row()
    assert row.source_ip == "203.0.113.9"
    assert row.headers["X-Forwarded-For"] == "1.2.3.4, 203.0.113.9"


def test_it_stores_the_raw_body_headers_and_source_before_answering(client, message):
    raw = json.dumps(delivery_body(message)).encode()
    before = timezone.now()

    post(
        client,
        message,
        raw,
        REMOTE_ADDR="198.51.100.7",
        HTTP_USER_AGENT="Go-http-client/1.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer should-not-be-kept",
        HTTP_COOKIE="sessionid=nope",
    )

    row = only_inbox_row()
    assert bytes(row.body) == raw
    assert row.truncated is False
    assert row.message_id == message.pk
    assert row.source_ip == "198.51.100.7"
    assert row.headers["User-Agent"] == "Go-http-client/1.1"
    assert row.headers["X-Forwarded-For"] == "203.0.113.9"
    assert row.headers["Content-Type"] == "application/json"
    assert "Authorization" not in row.headers
    assert "Cookie" not in row.headers
    assert before <= row.received_at <= timezone.now()
    assert row.processed_at is not None


def test_it_answers_before_applying_and_a_drain_applies(client, message):
    response = post_only(client, message, delivery_body(message))

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.PENDING
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED

    postbacks_drain()

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_crash_after_storing_loses_nothing(client, message, monkeypatch):
    def crash():
        raise RuntimeError("broker down")

    monkeypatch.setattr(views, "drain_request", crash)

    response = post_only(client, message, delivery_body(message))

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.PENDING

    # No drain was queued and the worker never ran: the sweeper applies it.
    postbacks_sweep(older_than_s=0)

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert only_inbox_row().state == InboxState.APPLIED


def test_it_asks_for_a_retry_when_the_body_cannot_be_stored(client, message, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(views, "postback_store", broken)

    response = post(client, message, delivery_body(message))

    assert response.status_code == 503
    assert not PostbackInbox.objects.exists()


# --- duplicates and order -----------------------------------------------------------------


def test_the_same_postback_three_times_gives_one_event_per_stage(client, message):
    body = delivery_body(message)

    for _ in range(3):
        assert post(client, message, body).status_code == 200

    assert events_of(message) == [
        ("delivered", 1, DELIVERED_AT),
        ("sent", 1, SENT_AT),
        ("submit", 2, SUBMIT_AT),
    ]
    states = list(PostbackInbox.objects.order_by("id").values_list("state", flat=True))
    assert states == [InboxState.APPLIED, InboxState.DUPLICATE, InboxState.DUPLICATE]
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_delivery_before_its_submit_ends_delivered_with_both_stages(client, message):
    delivery = status_body(message.iliveit_id, "delivery", stages={"delivered": DELIVERED})
    submit = status_body(message.iliveit_id, "submit", stages={"submit": SUBMITTED})

    post(client, message, delivery)
    post(client, message, submit)

    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert (message.submit_code, message.submit_at) == (2, SUBMIT_AT)
    assert (message.delivered_code, message.delivered_at) == (1, DELIVERED_AT)
    assert list(PostbackInbox.objects.values_list("state", flat=True)) == [InboxState.APPLIED] * 2


# --- who may post -------------------------------------------------------------------------


def assert_nothing_stored(message):
    assert not PostbackInbox.objects.exists()
    assert not MessageEvent.objects.exists()
    before = message.updated_at
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert message.updated_at == before


@pytest.mark.parametrize(
    "mac",
    ["0" * 32, "forged", "", "x" * 200],
    ids=["zeros", "short", "empty", "long"],
)
def test_a_forged_token_answers_404_and_stores_nothing(client, message, mac):
    if not mac:
        # No token at all: the route itself does not match.
        response = client.post(
            f"/postbacks/status/{message.ref}//", data=b"{}", content_type="application/json"
        )
    else:
        response = post(client, message, delivery_body(message), mac=mac)

    assert response.status_code == 404
    assert_nothing_stored(message)


def test_another_messages_token_answers_404(client, make_message):
    message, other = make_message(), make_message()

    response = post(client, message, delivery_body(message), mac=sign(other.ref))

    assert response.status_code == 404
    assert_nothing_stored(message)


def test_a_token_signed_with_a_removed_key_answers_404(client, message, settings):
    settings.POSTBACK_KEYS = ["retired-key-0123456789"]
    old_mac = sign(message.ref)
    settings.POSTBACK_KEYS = ["current-key-9876543210"]

    response = post(client, message, delivery_body(message), mac=old_mac)

    assert response.status_code == 404
    assert_nothing_stored(message)


def test_a_token_signed_with_the_previous_key_still_works(client, message, settings):
    settings.POSTBACK_KEYS = ["retired-key-0123456789"]
    old_mac = sign(message.ref)
    settings.POSTBACK_KEYS = ["current-key-9876543210", "retired-key-0123456789"]

    response = post(client, message, delivery_body(message), mac=old_mac)

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.APPLIED


def test_a_signed_ref_without_a_message_is_stored_and_quarantined(client, message):
    # A URL we signed whose message has since been deleted: authentic, but nothing to apply.
    ref = "no-such-message-ref"
    url = reverse("postbacks:status", kwargs={"ref": ref, "mac": sign(ref)})

    response = client.post(
        url, data=json.dumps(delivery_body(message)), content_type="application/json"
    )
    postbacks_drain()

    assert response.status_code == 200
    row = only_inbox_row()
    assert (row.ref, row.message_id) == (ref, None)
    assert (row.state, row.reason) == (InboxState.QUARANTINED, "no message")
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED


def test_the_webhook_stores_the_ref_and_the_drain_finds_the_message(client, message):
    post_only(client, message, delivery_body(message))
    assert (only_inbox_row().ref, only_inbox_row().message_id) == (message.ref, None)

    postbacks_drain()

    assert only_inbox_row().message_id == message.pk


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, message, method):
    response = getattr(client, method)(url_for(message))

    assert response.status_code == 405
    assert not PostbackInbox.objects.exists()


def test_a_body_naming_another_message_is_kept_as_suspicious(client, make_message):
    message, other = make_message(), make_message()

    response = post(client, message, delivery_body(other))

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.SUSPICIOUS
    assert other.iliveit_id in row.reason
    for each in (message, other):
        each.refresh_from_db()
        assert each.state == MessageState.SUBMITTED
        assert each.delivered_code is None
    assert not MessageEvent.objects.exists()


# --- before the MessageID is known ----------------------------------------------------------


def test_an_early_postback_waits_until_the_message_id_is_known(client, make_message):
    message = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    body = status_body("MSG-EARLY", "submit", stages={"submit": SUBMITTED})

    response = post(client, message, body)

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.WAITING
    assert row.processed_at is None
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTING
    assert message.iliveit_id is None
    assert not MessageEvent.objects.exists()

    # The submit task records the MessageID, then applies what waited.
    message.iliveit_id = "MSG-EARLY"
    message.state = MessageState.SUBMITTED
    message.save()
    postbacks_apply_waiting(message_ids=[message.pk])

    row.refresh_from_db()
    assert row.state == InboxState.APPLIED
    message.refresh_from_db()
    assert (message.submit_code, message.submit_at) == (2, SUBMIT_AT)
    assert events_of(message) == [("submit", 2, SUBMIT_AT)]


def test_a_waiting_postback_is_applied_by_the_sweeper(client, make_message):
    message = make_message(state=MessageState.SUBMITTING, iliveit_id=None)
    post(client, message, status_body("MSG-SWEPT", "delivery", stages={"delivered": DELIVERED}))
    assert postbacks_sweep()["postbacks_applied"] == 0

    message.iliveit_id = "MSG-SWEPT"
    message.state = MessageState.SUBMITTED
    message.save()
    postbacks_sweep()

    assert only_inbox_row().state == InboxState.APPLIED
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


@pytest.mark.parametrize("state", [MessageState.QUEUED, MessageState.UNCERTAIN])
def test_a_queued_or_uncertain_message_adopts_the_message_id(client, make_message, state):
    message = make_message(state=state, iliveit_id=None)
    body = status_body("MSG-ADOPTED", "sent", stages={"submit": SUBMITTED, "sent": SENT})

    post(client, message, body)

    message.refresh_from_db()
    assert message.iliveit_id == "MSG-ADOPTED"
    assert message.state == MessageState.SENT
    assert message.submitted_at is not None
    assert only_inbox_row().state == InboxState.APPLIED


def test_it_does_not_adopt_a_message_id_another_message_has(client, make_message):
    other = make_message()
    message = make_message(state=MessageState.UNCERTAIN, iliveit_id=None)

    response = post(client, message, delivery_body(other))

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.SUSPICIOUS
    message.refresh_from_db()
    assert message.iliveit_id is None
    assert message.state == MessageState.UNCERTAIN


# --- malformed bodies ---------------------------------------------------------------------


def deeply_nested() -> bytes:
    return b'{"message_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


MALFORMED = {
    "bad JSON": b'{"message_id": "MSG-0001", "postback_type": ',
    "not UTF-8": b'{"message_id": "\xff\xfe"}',
    "empty": b"",
    "a JSON array": b'[{"message_id": "MSG-0001"}]',
    "a JSON string": b'"delivered"',
    "no message_id": json.dumps({"postback_type": "delivery", "delivered_status": 1}).encode(),
    "a numeric message_id": json.dumps({"message_id": 1234, "postback_type": "submit"}).encode(),
    "a text status code": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": "ok"}
    ).encode(),
    "a boolean status code": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": True}
    ).encode(),
    "a bad timestamp": json.dumps(
        {
            "message_id": "MSG-0001",
            "postback_type": "sent",
            "sent_status": 1,
            "sent_timestamp": "yesterday",
        }
    ).encode(),
    "a numeric postback_type": json.dumps({"message_id": "MSG-0001", "postback_type": 5}).encode(),
    "a code too large to store": json.dumps(
        {"message_id": "MSG-0001", "postback_type": "sent", "sent_status": 70000}
    ).encode(),
    "nesting too deep to parse": deeply_nested(),
    "bare arrays nested too deep to parse": b"[" * 100_000 + b"]" * 100_000,
    "arrays nested deep but parseable": b"[" * 900 + b"]" * 900,
    "a NUL character in a description": json.dumps(
        {
            "message_id": "MSG-0001",
            "postback_type": "sent",
            "sent_status": 1,
            "sent_status_description": "Sent\u0000",
        }
    ).encode(),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_quarantined_and_answered_200(client, message, raw):
    assert message.iliveit_id == "MSG-0001"

    response = post(client, message, raw)

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.QUARANTINED
    assert row.reason
    assert row.processed_at is not None
    assert bytes(row.body) == raw
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert not MessageEvent.objects.exists()


def test_a_postback_of_an_unknown_type_is_applied_by_its_stages(client, message):
    # StatusResult's rule (tests/messaging/test_iliveit_types.py): a newer iLiveIt's type is
    # dropped, not refused, so its report still reaches the message.
    body = {"MessageID": message.iliveit_id, "PostbackType": "teleport", "SentStatus": 1}

    response = post(client, message, json.dumps(body).encode())

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.APPLIED
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_a_body_over_1_mb_is_stored_truncated_and_quarantined(client, message):
    body = delivery_body(message)
    body["padding"] = "x" * (views.MAX_BODY_BYTES + 10)
    raw = json.dumps(body).encode()

    response = post(client, message, raw)

    assert response.status_code == 200
    row = only_inbox_row()
    assert row.state == InboxState.QUARANTINED
    assert row.truncated is True
    assert bytes(row.body) == raw[: views.MAX_BODY_BYTES]
    assert "size" in row.reason
    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED


def test_a_body_of_exactly_1_mb_is_not_truncated(client, message):
    body = delivery_body(message)
    body["padding"] = ""
    base = len(json.dumps(body).encode())
    body["padding"] = "x" * (views.MAX_BODY_BYTES - base)
    raw = json.dumps(body).encode()
    assert len(raw) == views.MAX_BODY_BYTES

    post(client, message, raw)

    row = only_inbox_row()
    assert row.truncated is False
    assert row.state == InboxState.APPLIED


def test_a_late_postback_is_counted_late(client, message):
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    body = status_body(
        message.iliveit_id, "delivery", stages={"delivered": (1, "Delivered", long_ago)}
    )

    post(client, message, body)

    [event] = message.events.all()
    assert 2 * 3600 - 60 <= event.late_by_s <= 2 * 3600 + 60


def test_a_message_id_too_long_to_store_is_quarantined(client, make_message):
    message = make_message(state=MessageState.UNCERTAIN, iliveit_id=None)
    body = status_body("M" * 200, "submit", stages={"submit": SUBMITTED})

    response = post(client, message, body)

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.QUARANTINED
    message.refresh_from_db()
    assert message.iliveit_id is None
    assert message.state == MessageState.UNCERTAIN


# --- fuzz: whatever arrives, nothing breaks and nothing valid is lost ----------------------

FUZZ_TYPES = ("build", "submit", "archive", "sent", "delivery")
FUZZ_VALID_BASE = datetime(2031, 1, 1, tzinfo=UTC)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "0", " 1 ", "-1", "1e3", "\u0000", "\ud800", "0" * 5000])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fuzz_moments = st.one_of(
    st.datetimes(timezones=st.timezones() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            ZERO_TIMESTAMP,
            "0001-01-01T00:00:00+01:00",
            "0001-01-02T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "yesterday",
            "",
        ]
    ),
    json_values,
)
fuzz_codes = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 12, 13, 14, 18, 32767, 32768, -32769]),
    st.integers(),
    st.floats(),
    st.integers(-5, 40).map(str),
    json_values,
)


def fuzz_key(key: str, style: int) -> str:
    """One key in the spellings the Go client, the reference, and careless servers use."""
    camel = "".join(part.capitalize() for part in key.split("_"))
    return [key, key.upper(), camel, camel.lower(), key.replace("_", ""), key.title()][style]


# Values of the right JSON type with random content: these reach the merge and the database.
typed_moments = st.one_of(
    st.datetimes(timezones=st.timezones() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from([ZERO_TIMESTAMP, "0001-01-02T00:00:00Z", "9999-12-31T23:59:59Z", ""]),
)
typed_codes = st.sampled_from([1, 2, 3, 4, 5, 12, 13, 14, 18]) | st.integers(-40_000, 40_000)


@st.composite
def status_shaped(draw, message_id: str) -> bytes:
    """A StatusResult with random keys, case and values; when `sloppy`, of random JSON types."""
    sloppy = draw(st.booleans())
    text = (st.text(max_size=300) | json_values) if sloppy else st.text(max_size=300)
    codes = fuzz_codes if sloppy else typed_codes
    moments = fuzz_moments if sloppy else typed_moments
    document = {}
    document["message_id"] = draw(st.just(message_id) | (text if sloppy else st.just(message_id)))
    if draw(st.booleans()):
        document["postback_type"] = draw(st.sampled_from(FUZZ_TYPES) | json_values)
    for key in ("type", "network", "msisdn", "campaign"):
        if draw(st.booleans()):
            document[key] = draw(text)
    if sloppy:
        for key in ("mvno", "template", "date_received"):
            if draw(st.booleans()):
                document[key] = draw(json_values | fuzz_moments)
    for stage in STAGE_NAMES:
        if draw(st.booleans()):
            document[f"{stage}_status"] = draw(codes)
            document[f"{stage}_status_description"] = draw(text)
            document[f"{stage}_timestamp"] = draw(moments)
    spelled = {fuzz_key(key, draw(st.integers(0, 5))): value for key, value in document.items()}
    return json.dumps(spelled).encode()


@st.composite
def fuzz_body(draw, message_id: str) -> bytes:
    kind = draw(st.sampled_from(["json", "status", "status", "status", "bytes", "huge", "deep"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "status":
        return draw(status_shaped(message_id))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "huge":
        size = draw(st.sampled_from([10_000, views.MAX_BODY_BYTES - 100, views.MAX_BODY_BYTES + 1]))
        return json.dumps(
            {"message_id": message_id, "sent_status_description": "x" * size}
        ).encode()
    depth = draw(st.sampled_from([10, 900, 5_000, 200_000]))
    nested = b"[" * depth + b"]" * depth
    return b'{"message_id": "' + message_id.encode() + b'", "sent_status": ' + nested + b"}"


@given(data=st.data())
@fuzz_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz_no_body_breaks_the_webhook_or_hides_a_valid_postback(client, message, data):
    # 8 to 16 bodies an example, 200 examples: about 2,300 bodies a run (counted once).
    bodies = data.draw(st.lists(fuzz_body(message.iliveit_id), min_size=8, max_size=16))
    forged = data.draw(st.lists(st.booleans(), min_size=len(bodies), max_size=len(bodies)))
    n = PostbackInbox.objects.count()
    valid_at = FUZZ_VALID_BASE + timedelta(seconds=n)
    valid = status_body(message.iliveit_id, "delivery", stages={"delivered": (1, "OK", valid_at)})
    position = data.draw(st.integers(0, len(bodies)))
    stream = [(raw, bad) for raw, bad in zip(bodies, forged, strict=True)]
    stream.insert(position, (json.dumps(valid).encode(), False))
    before = PostbackInbox.objects.count()
    last_id = PostbackInbox.objects.order_by("-id").values_list("id", flat=True).first() or 0
    valid_row = None

    for raw, bad in stream:
        count = PostbackInbox.objects.count()
        response = post(client, message, raw, mac="0" * 32 if bad else None)
        assert response.status_code == (404 if bad else 200)
        assert PostbackInbox.objects.count() == count + (0 if bad else 1)
        if raw == json.dumps(valid).encode():
            valid_row = PostbackInbox.objects.latest("id")

    authenticated = sum(1 for _, bad in stream if not bad)
    assert PostbackInbox.objects.count() == before + authenticated
    # Each body was parsed and judged: none left pending by an exception in the apply.
    assert not PostbackInbox.objects.filter(id__gt=last_id, state=InboxState.PENDING).exists()
    valid_row.refresh_from_db()
    assert valid_row.state == InboxState.APPLIED
    assert message.events.filter(stage="delivered", code=1, stage_at=valid_at).exists()


@pytest.mark.parametrize("stage_at", ["0001-01-02T00:00:00Z", "1950-01-01T00:00:00Z"])
def test_a_stage_dated_decades_back_is_applied_not_left_pending(client, message, stage_at):
    # Found by the fuzz test: its lateness overflowed late_by_s, so on PostgreSQL the apply
    # failed and the row stayed pending, retried by every sweep.
    body = status_body(message.iliveit_id, "sent", stages={"sent": (1, "Sent", stage_at)})

    response = post(client, message, body)

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.APPLIED
    [event] = message.events.all()
    assert event.late_by_s > 60 * 365 * 24 * 3600
    message.refresh_from_db()
    assert message.state == MessageState.SENT


# --- end to end: the sandbox sends every postback twice, newest first -----------------------

E2E_FAILS_DELIVERY, E2E_FAILS_SENT = "27000000001", "27000000006"


def received_results(message) -> list[StatusResult]:
    rows = PostbackInbox.objects.filter(message=message, kind=InboxKind.STATUS)
    return [StatusResult.from_json(json.loads(bytes(row.body))) for row in rows]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_duplicated_and_reordered_postbacks_from_the_sandbox_end_each_message_right(
    live_server, sandbox, settings, request
):
    settings.PORTAL_BASE_URL = live_server.url
    sandbox.configure(duplicate_postbacks=True, reorder_postbacks=True)
    application = Application.objects.create(
        name="Sandbox", endpoint=sandbox.url, token=APP_A.token, mvno_id=APP_A.mvno_id
    )
    campaign = Campaign.objects.create(
        name="Out of order",
        channel=Channel.SMS,
        application=application,
        body_text="Hello from the portal",
        state=CampaignState.SENDING,
    )
    # The worker applies what the webhook stores, as in production.
    worker = CeleryWorker(
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        env={"DATABASE_URL": database_url_for_workers()},
        concurrency=1,
    )
    request.addfinalizer(worker.stop)
    recipients = [f"2782{n:07d}" for n in range(18)] + [E2E_FAILS_DELIVERY, E2E_FAILS_SENT]
    messages = Message.objects.bulk_create(
        Message(campaign=campaign, recipient=r, state=MessageState.QUEUED) for r in recipients
    )
    for message in messages:
        message_submit(message_id=message.pk)
    ids = dict(campaign.messages.values_list("iliveit_id", "pk"))
    assert len(ids) == 20 and None not in ids

    def all_in() -> bool:
        deliveries = sandbox.postbacks()
        return (
            not campaign.messages.exclude(state__in=OUTCOMES).exists()
            and all(d["delivered"] for d in deliveries)
            and PostbackInbox.objects.count() == len(deliveries)
            and not PostbackInbox.objects.filter(state=InboxState.PENDING).exists()
        )

    deadline = time.monotonic() + 30
    while not all_in():
        assert time.monotonic() < deadline, dict(
            campaign.messages.values_list("recipient", "state")
        )
        time.sleep(0.1)

    deliveries = sandbox.postbacks()
    for message in campaign.messages.all():
        sent = [d["body"] for d in deliveries if d["message_id"] == message.iliveit_id]
        rows = list(PostbackInbox.objects.filter(message=message).order_by("id"))
        expected = {
            E2E_FAILS_DELIVERY: MessageState.FAILED,
            E2E_FAILS_SENT: MessageState.FAILED,
        }.get(message.recipient, MessageState.DELIVERED)
        assert message.state == expected, message.recipient
        # Each postback came twice; the copy that came second changed nothing.
        assert len(rows) == len(sent) >= 8
        # Held back and released newest first: the last postback arrived first.
        assert json.loads(bytes(rows[0].body))["postback_type"] == sent[-1]["postback_type"]
        seen = set()
        for row in rows:
            body = bytes(row.body)
            if body in seen:
                assert row.state == InboxState.DUPLICATE
            else:
                assert row.state in (InboxState.APPLIED, InboxState.DUPLICATE)
            seen.add(body)
        assert len(seen) * 2 == len(rows)
        # One event per distinct stage report among the bodies received.
        results = received_results(message)
        reports = {
            (name, report.code, report.timestamp)
            for result in results
            for name in STAGE_NAMES
            if (report := getattr(result, name)) is not None
        }
        events = list(message.events.values_list("stage", "code", "stage_at"))
        assert sorted(events, key=str) == sorted(reports, key=str)
        # Nothing went backwards: the stored status is the merge of everything received.
        merged = reduce(merge_status, results, MessageStatus(state=MessageState.SUBMITTED))
        assert status_of(message) == merged


# --- the reply route ------------------------------------------------------------------------


def post_reply(client, message, body, *, mac: str | None = None, drain: bool = True):
    mac = sign(message.ref, purpose="reply") if mac is None else mac
    url = reverse("postbacks:reply", kwargs={"ref": message.ref, "mac": mac})
    data = body if isinstance(body, bytes) else json.dumps(body)
    response = client.post(url, data=data, content_type="application/json")
    if drain:
        postbacks_drain()
    return response


def sms_reply_body(message, text="STOP") -> dict:
    return {
        "MessageId": message.iliveit_id,
        "SourceMSISDN": message.recipient,
        "DestinationMSISDN": "40001",
        "Message": text,
        "ExtraDigits": "",
        "RetryCount": 0,
    }


def test_a_reply_is_stored_and_applied(client, message):
    response = post_reply(client, message, sms_reply_body(message))

    assert response.status_code == 200
    row = only_inbox_row()
    assert (row.kind, row.state) == ("reply", InboxState.APPLIED)
    assert message.replies.get().text == "STOP"


@pytest.mark.parametrize("mac", ["0" * 32, "not-a-mac", "status"])
def test_a_reply_with_a_forged_token_is_not_found(client, message, mac):
    if mac == "status":
        mac = sign(message.ref)  # the status URL's MAC does not open the reply URL

    response = post_reply(client, message, sms_reply_body(message), mac=mac)

    assert response.status_code == 404
    assert not PostbackInbox.objects.exists()


def test_a_status_postback_on_the_reply_mac_is_not_found(client, message):
    response = post(client, message, delivery_body(message), mac=sign(message.ref, purpose="reply"))

    assert response.status_code == 404


def test_a_reply_for_a_signed_ref_without_a_message_is_quarantined(client, message):
    message.ref = "no-such-message-ref"

    assert post_reply(client, message, sms_reply_body(message)).status_code == 200
    assert (only_inbox_row().state, only_inbox_row().reason) == (
        InboxState.QUARANTINED,
        "no message",
    )


def test_a_reply_is_stored_before_it_is_answered(client, message, monkeypatch):
    def crash():
        raise RuntimeError("broker down")

    monkeypatch.setattr(views, "drain_request", crash)

    response = post_reply(client, message, sms_reply_body(message), drain=False)

    assert response.status_code == 200
    row = only_inbox_row()
    assert (row.kind, row.state) == ("reply", InboxState.PENDING)
    assert json.loads(bytes(row.body))["Message"] == "STOP"

    postbacks_sweep(older_than_s=0)

    assert only_inbox_row().state == InboxState.APPLIED
    assert message.replies.count() == 1


def test_a_reply_that_cannot_be_stored_asks_for_a_retry(client, message, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(views, "postback_store", broken)

    assert post_reply(client, message, sms_reply_body(message)).status_code == 503
    assert not PostbackInbox.objects.exists()


def test_a_malformed_reply_is_answered_200_and_quarantined(client, message):
    response = post_reply(client, message, b"{not json")

    assert response.status_code == 200
    assert only_inbox_row().state == InboxState.QUARANTINED


def test_the_reply_route_takes_only_post(client, message):
    url = reverse(
        "postbacks:reply", kwargs={"ref": message.ref, "mac": sign(message.ref, purpose="reply")}
    )

    assert client.get(url).status_code == 405
