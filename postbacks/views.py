"""The postback webhook. Kept to the healthchecks ping shape: one indexed lookup, one short
transaction to store the body, then the answer; applying it is separate work that may fail
without losing the postback."""

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.models import Message
from postbacks.models import InboxKind
from postbacks.replies import reply_apply
from postbacks.services import postback_apply, postback_store
from postbacks.signing import verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Headers worth keeping with the raw body for later diagnosis; never cookies or auth.
KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For")


def _read_body(request: HttpRequest) -> tuple[bytes, bool]:
    body = request.read(MAX_BODY_BYTES + 1)
    return body[:MAX_BODY_BYTES], len(body) > MAX_BODY_BYTES


@csrf_exempt
@require_POST
def status_postback(request: HttpRequest, ref: str, mac: str) -> HttpResponse:
    return _receive(request, ref, mac, kind=InboxKind.STATUS, apply=postback_apply)


@csrf_exempt
@require_POST
def reply_postback(request: HttpRequest, ref: str, mac: str) -> HttpResponse:
    return _receive(request, ref, mac, kind=InboxKind.REPLY, apply=reply_apply)


def _receive(
    request: HttpRequest, ref: str, mac: str, *, kind: str, apply: Callable[..., str]
) -> HttpResponse:
    """Authenticate the URL, commit the raw body, answer 200; then try to apply it."""
    # Each kind has its own MAC, so a status URL handed to iLiveIt cannot post replies.
    if not verify(ref, mac, purpose=str(kind)):
        logger.warning(
            "%s postback with a bad token for ref %s from %s", kind, ref[:40], _source(request)
        )
        return HttpResponse("Not found", status=404, content_type="text/plain")
    message_id = Message.objects.filter(ref=ref).values_list("pk", flat=True).first()
    if message_id is None:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    body, truncated = _read_body(request)
    try:
        inbox = postback_store(
            message=Message(pk=message_id),
            kind=kind,
            body=body,
            truncated=truncated,
            headers={k: request.headers[k] for k in KEPT_HEADERS if k in request.headers},
            source_ip=_source(request),
        )
    except DatabaseError:
        # Not stored: only now may iLiveIt be told to retry.
        logger.exception("could not store a %s postback for message %s", kind, message_id)
        return HttpResponse("Try again", status=503, content_type="text/plain")
    try:
        apply(inbox_id=inbox.pk)
    except Exception:
        # Stored and answered; the sweeper applies it again later.
        logger.exception("postback %s stored but not applied", inbox.pk)
    return HttpResponse("OK", content_type="text/plain")


def _source(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
