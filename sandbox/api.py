"""The iLiveIt Messaging API routes (NOTES.md, "Routes"). Authentication and rate limiting
happen before these run (see server.py); each handler answers or raises ApiError."""

from __future__ import annotations

import time
from typing import Any

from sandbox.magic import Magic, magic_for
from sandbox.scrub import scrub_result
from sandbox.state import Sandbox
from sandbox.status import rfc3339
from sandbox.store import Message
from sandbox.validation import (
    ACTION_OF_MESSAGE_TYPE,
    ResendRequest,
    Submission,
    ValidationError,
    check_msisdn,
    normal_key,
    parse_build_request,
    parse_new_message,
    parse_resend,
)
from sandbox.web import ApiError, Request, Response, RouteTable, ok

RATE_LIMITED = "Maximum messages per second exceeded"
NOT_FOUND = "Message not found"


def ping(sandbox: Sandbox, request: Request) -> Response:
    return ok({"Body": "Pong!"})


def send_message(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    assert request.app is not None
    sub = parse_new_message(body, mvno_id=request.app.mvno_id)
    return _accept(sandbox, request, sub, body, faults=True)


def generate_video(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    assert request.app is not None
    sub = parse_build_request(body, mvno_id=request.app.mvno_id)
    return _accept(sandbox, request, sub, body, faults=True)


def resend(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    wanted = parse_resend(body)
    original = _own_message(sandbox, request, wanted.message_id)
    if not sandbox.store.is_archived(original):
        # Only archived content can be sent again; OTP-like messages never are archived.
        raise ValidationError("MessageID", "message not archived yet")
    sub = _resubmission(original, wanted)
    return _accept(sandbox, request, sub, body, resend_of=original.message_id)


def status(sandbox: Sandbox, request: Request) -> Response:
    return ok(_status(sandbox, request, extended=False))


def status_extended(sandbox: Sandbox, request: Request) -> Response:
    return ok(_status(sandbox, request, extended=True))


def archived_message(sandbox: Sandbox, request: Request) -> Response:
    message = _own_message(sandbox, request, request.params["id"])
    if not sandbox.store.is_archived(message):
        raise ApiError(400, "Message not archived yet")
    return ok(
        {
            "type": message.submission.message_type,
            "date_created": rfc3339(message.received_at),
            "data": message.submission.data,
        }
    )


def scrub(sandbox: Sandbox, request: Request) -> Response:
    msisdn = check_msisdn(request.params["msisdn"], "msisdn")
    _answer_magic_errors(sandbox, request, msisdn, submission=False)
    if magic_for(msisdn) is Magic.SLOW:
        time.sleep(sandbox.config.slow_seconds)
    return ok(scrub_result(msisdn))


def _accept(
    sandbox: Sandbox,
    request: Request,
    sub: Submission,
    body: Any,
    *,
    resend_of: str | None = None,
    faults: bool = False,
) -> Response:
    assert request.app is not None
    _answer_magic_errors(sandbox, request, sub.recipient, submission=True)
    # After validation and the magic recipients: only a call that would have been accepted
    # draws a fault, so a seeded run's faults do not depend on its refused calls.
    if faults and sandbox.inject_error():
        raise ApiError(503, "Service unavailable")
    if faults and sandbox.inject_throttle():
        raise ApiError(429, RATE_LIMITED)
    message = sandbox.accept(sub, app=request.app, request=body, resend_of=resend_of)
    if message.magic is Magic.SLOW or (faults and sandbox.inject_slow()):
        # Stored and running before the wait: a client that times out has sent a message
        # whose outcome it cannot know, which is exactly what slow answers are for.
        time.sleep(sandbox.config.slow_seconds)
    return ok({"MessageID": message.message_id})


def _answer_magic_errors(
    sandbox: Sandbox, request: Request, recipient: str, *, submission: bool
) -> None:
    magic = magic_for(recipient)
    if magic is Magic.SERVER_ERROR:
        raise ApiError(500, "Internal server error")
    if magic is Magic.RATE_LIMITED:
        raise ApiError(429, RATE_LIMITED)
    flaky = submission and magic is Magic.FLAKY
    if flaky and sandbox.store.first_flaky_attempt(request.token, recipient):
        raise ApiError(503, "Service temporarily unavailable")


def _own_message(sandbox: Sandbox, request: Request, message_id: str) -> Message:
    # Another application's message is as unknown as one that never existed.
    message = sandbox.store.get(message_id, request.token)
    if message is None:
        raise ApiError(404, NOT_FOUND)
    return message


def _status(sandbox: Sandbox, request: Request, *, extended: bool) -> dict[str, Any]:
    found = sandbox.store.status(request.params["id"], request.token, extended=extended)
    if found is None:
        raise ApiError(404, NOT_FOUND)
    return found


def _resubmission(original: Message, wanted: ResendRequest) -> Submission:
    """The original's archived content sent again to a new recipient. A video is not rebuilt:
    its built content goes out as the message type it was built into."""
    sub = original.submission
    if sub.message_type == "email":
        if not wanted.email:
            raise ValidationError("Email", "required to resend an email message")
        recipient, key = wanted.email, "address"
    else:
        if not wanted.msisdn:
            raise ValidationError("MSISDN", f"required to resend an {sub.message_type} message")
        recipient, key = wanted.msisdn, "msisdn"
    data = {name: value for name, value in sub.data.items() if normal_key(name) != key}
    data[key] = [recipient]
    return Submission(
        kind=sub.message_type,
        action=ACTION_OF_MESSAGE_TYPE[sub.message_type],
        message_type=sub.message_type,
        recipient=recipient,
        campaign=sub.campaign,
        template=sub.template,
        postback_status_url=wanted.postback_status_url,
        postback_status_types=wanted.postback_status_types,
        postback_reply_url=sub.postback_reply_url,
        data=data,
        extra_digits=sub.extra_digits,
    )


def build_routes() -> RouteTable:
    routes = RouteTable()
    routes.add("GET", "ping", ping)
    routes.add("POST", "message/send", send_message)
    routes.add("POST", "message/resend", resend)
    routes.add("POST", "generate/video", generate_video)
    routes.add("GET", "message/{id}/status", status)
    routes.add("GET", "message/{id}/statusExtended", status_extended)
    routes.add("GET", "message/{id}", archived_message)
    routes.add("GET", "scrub/{msisdn}", scrub)
    return routes
