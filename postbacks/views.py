"""The postback webhook. Kept to the healthchecks ping shape: one indexed lookup, one short
transaction to store the body, then the answer. A worker applies it (postbacks.drain), so
applying can neither slow the answer nor lose the postback."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from iliveit_portal.client_address import client_address
from messaging.postback_urls import verify
from postbacks.models import InboxKind
from postbacks.services import postback_store
from postbacks.tasks import drain_request

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Headers worth keeping with the raw body for later diagnosis; never cookies or auth. Read by
# their WSGI names: request.headers would first copy every header (5% of the webhook's CPU).
KEPT_HEADERS = {
    "Content-Type": "CONTENT_TYPE",
    "Content-Length": "CONTENT_LENGTH",
    "User-Agent": "HTTP_USER_AGENT",
    "X-Forwarded-For": "HTTP_X_FORWARDED_FOR",
}


def _read_body(request: HttpRequest) -> tuple[bytes, bool]:
    body = request.read(MAX_BODY_BYTES + 1)
    return body[:MAX_BODY_BYTES], len(body) > MAX_BODY_BYTES


@csrf_exempt
@require_POST
def status_postback(request: HttpRequest, ref: str, mac: str) -> HttpResponse:
    return _receive(request, ref, mac, kind=InboxKind.STATUS)


@csrf_exempt
@require_POST
def reply_postback(request: HttpRequest, ref: str, mac: str) -> HttpResponse:
    return _receive(request, ref, mac, kind=InboxKind.REPLY)


def _receive(request: HttpRequest, ref: str, mac: str, *, kind: str) -> HttpResponse:
    """Authenticate the URL, commit the raw body, ask for a drain, answer 200."""
    # Each kind has its own MAC, so a status URL handed to iLiveIt cannot post replies.
    if not verify(ref, mac, purpose=str(kind)):
        logger.warning(
            "%s postback with a bad token for ref %s from %s", kind, ref[:40], _source(request)
        )
        return HttpResponse("Not found", status=404, content_type="text/plain")
    # The MAC proves we made this URL, so the body is stored without looking the message up:
    # the insert is the answer's only database statement. A message deleted since is found
    # missing when the row is applied, and the row quarantined.
    body, truncated = _read_body(request)
    if not truncated and len(body) < _declared_length(request):
        # The connection dropped mid-body: what came is not what iLiveIt sent, and it never
        # saw an answer, so it sends the whole postback again. Storing the stub would only
        # quarantine noise.
        logger.warning("%s postback for ref %s cut short in transit", kind, ref[:40])
        return HttpResponse("Body cut short", status=400, content_type="text/plain")
    # The database health check's SELECT 1 would be a second round trip on the webhook's one
    # statement (20-30% of its throughput in bench/postbacks.py). Without it, the first
    # postback after a database restart fails its insert, is answered 503 below, and is sent
    # again by iLiveIt; the broken connection is closed when the request ends.
    connection.health_check_done = True
    try:
        inbox = postback_store(
            ref=ref,
            kind=kind,
            body=body,
            truncated=truncated,
            headers={
                name: request.META[key] for name, key in KEPT_HEADERS.items() if key in request.META
            },
            source_ip=_source(request),
        )
    except DatabaseError:
        # Not stored: only now may iLiveIt be told to retry.
        logger.exception("could not store a %s postback for ref %s", kind, ref)
        return HttpResponse("Try again", status=503, content_type="text/plain")
    try:
        drain_request()
    except Exception:
        # Stored: the sweeper applies it when no drain does.
        logger.exception("postback %s stored; no drain could be queued", inbox.pk)
    return HttpResponse("OK", content_type="text/plain")


def _declared_length(request: HttpRequest) -> int:
    declared = request.META.get("CONTENT_LENGTH") or ""
    return int(declared) if declared.isdigit() else 0


def _source(request: HttpRequest) -> str | None:
    return client_address(request) or None
