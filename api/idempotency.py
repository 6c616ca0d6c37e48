"""Idempotency-Key: a POST retried with the same key acts once and answers the same.

1. Before the view acts, its key is reserved by INSERTing an IdempotencyKey row in a
   transaction of its own; the unique (owner, key) constraint lets exactly one of two
   concurrent tries win. The loser answers 409 (still in progress) or, once the winner is done,
   gets the winner's answer replayed with `Idempotent-Replayed: true`.
2. The same key with another method, path or body answers 422: it is a client bug, and acting
   on it could send something nobody asked for twice.
3. The answer (any status below 500) is stored on the row. A 5xx or an exception deletes the
   row, so that a failure on our side does not poison the key: the retry acts afresh.

Keys expire after KEY_LIFETIME; idempotency_keys_prune deletes them for the retention job.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.errors import IdempotencyInProgress, IdempotencyKeyReused
from api.models import ApiToken, IdempotencyKey, IdempotencyState

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def idempotency_keys_prune() -> int:
    """Delete keys past their lifetime; answers how many went."""
    cutoff = timezone.now() - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotent(handler):
    """Wrap a DRF view's POST handler. Without the header the request is handled as usual."""

    @wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        key = _key_from(request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        # Parsing first means a body that cannot be read answers 400/415 without using the key.
        body_sha256 = _body_digest(request.data)
        row = _reserve(
            owner=_owner(request),
            key=key,
            method=request.method,
            path=request.path[:255],
            body_sha256=body_sha256,
        )
        if isinstance(row, Response):
            return row
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:  # every outcome must settle the key
            try:
                response = view.handle_exception(exc)  # API errors become 4xx answers
            except Exception:
                IdempotencyKey.objects.filter(pk=row.pk).delete()
                raise
        _settle(row, response)
        return response

    return wrapped


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )
    return key


def _owner(request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _body_digest(data) -> str:
    # The parsed JSON, written canonically: the same request sent with other spacing or key
    # order is the same request.
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reserve(*, owner, key, method, path, body_sha256) -> IdempotencyKey | Response:
    """The new row we now hold, or the answer to give instead of acting."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    owner=owner, key=key, method=method, path=path, body_sha256=body_sha256
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue  # its holder failed and let it go; try to take it
        if existing.created_at < timezone.now() - KEY_LIFETIME:
            # Expired: as if never used. Only this row, in case another try just replaced it.
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if (existing.method, existing.path, existing.body_sha256) != (method, path, body_sha256):
            raise IdempotencyKeyReused()
        if existing.state != IdempotencyState.DONE:
            raise IdempotencyInProgress()
        return Response(
            existing.response_body,
            status=existing.response_status,
            headers={REPLAYED_HEADER: "true"},
        )
    raise IdempotencyInProgress()


def _settle(row: IdempotencyKey, response: Response) -> None:
    if response.status_code >= 500:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return
    IdempotencyKey.objects.filter(pk=row.pk).update(
        state=IdempotencyState.DONE,
        response_status=response.status_code,
        response_body=getattr(response, "data", None),
    )
