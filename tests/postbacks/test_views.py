"""The postback webhook (postbacks.views): who may post, what it stores and answers, and its
body size limit. What a stored postback then does to its message is tested with the module
that does it (test_services, test_drain, test_merge, test_replies)."""

import json
import socket

import pytest
from django.db import DatabaseError, connections
from django.urls import reverse
from django.utils import timezone

from messaging.models import Message, MessageState
from messaging.postback_urls import sign
from postbacks import views
from postbacks.drain import postbacks_drain, postbacks_sweep
from postbacks.models import InboxState, MessageEvent, PostbackInbox
from tests.postbacks.webhook import (
    delivery_body,
    only_inbox_row,
    post,
    post_only,
    post_reply,
    sms_reply_body,
    url_for,
)

pytestmark = pytest.mark.django_db


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


def test_the_webhook_stores_without_the_connection_health_check(client, message, monkeypatch):
    # Its one INSERT is the answer's only round trip; after a database restart that insert
    # fails and is answered 503 (above), and iLiveIt posts again.
    checks = []
    database = connections["default"]
    monkeypatch.setattr(database, "is_usable", lambda: checks.append("SELECT 1") or True)
    monkeypatch.setattr(database, "health_check_enabled", True)
    monkeypatch.setattr(database, "health_check_done", False)

    response = post_only(client, message, delivery_body(message))

    assert response.status_code == 200
    assert PostbackInbox.objects.count() == 1
    assert checks == []
    # Any other use of the connection is still checked first.
    database.health_check_done = False
    Message.objects.count()
    assert checks == ["SELECT 1"]


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


# --- the body size limit ------------------------------------------------------------------


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


# --- the reply route ------------------------------------------------------------------------


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


def test_the_reply_route_takes_only_post(client, message):
    url = reverse(
        "postbacks:reply", kwargs={"ref": message.ref, "mac": sign(message.ref, purpose="reply")}
    )

    assert client.get(url).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_body_cut_short_in_transit_is_refused_and_not_stored(live_server, message):
    """The connection drops mid-body (a proxy or the network cut it): the stub is not what
    iLiveIt sent, which never saw an answer and sends the whole postback again."""
    body = json.dumps(delivery_body(message)).encode()
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(
            f"POST {url_for(message)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body[: len(body) // 2]
        )
        connection.shutdown(socket.SHUT_WR)
        answer = connection.makefile("rb").read()

    assert answer.startswith(b"HTTP/1.1 400")
    assert not PostbackInbox.objects.exists()
