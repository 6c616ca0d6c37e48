"""Making, revoking and checking API tokens.

A token reads `ilv_<prefix>_<secret>`. The prefix finds the row; the SHA-256 of the whole token
proves it. The token itself is returned once by api_token_create and never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import ApiToken
from audit.models import AuditAction
from audit.services import audit_record

TOKEN_PREFIX = "ilv"  # noqa: S105 - a fixed marker, not a secret
# A request refreshes last_used_at at most this often, so that busy clients do not write the
# token row on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenError(ValueError):
    """A token operation was refused; the text says why."""


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str  # the whole token, shown to its owner once

    def __repr__(self) -> str:
        # Keeps the secret out of tracebacks and debug output.
        return f"NewApiToken(token={self.token!r}, secret='***')"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user, name: str, actor) -> NewApiToken:
    name = name.strip()
    if not name:
        raise ApiTokenError("Give the token a name that says what it is for.")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, secret_hash=token_hash(raw)
        )
        audit_record(
            actor=actor,
            action=AuditAction.API_TOKEN_CREATE,
            target=token,
            detail={"user": user.get_username(), "prefix": prefix},
        )
    return NewApiToken(token=token, secret=raw)


def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    with transaction.atomic():
        now = timezone.now()
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not revoked:
            raise ApiTokenError(f"The token {token.prefix}… is already revoked.")
        token.revoked_at = now
        audit_record(
            actor=actor,
            action=AuditAction.API_TOKEN_REVOKE,
            target=token,
            detail={"user": token.user.get_username(), "prefix": token.prefix},
        )
    return token


def api_token_find(raw: str) -> ApiToken | None:
    """The active token `raw` is, or None. Revoked tokens and inactive users count as none."""
    # The secret part may itself contain "_" (URL-safe base64).
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, token_hash(raw)):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that the token was used, at most once per LAST_USED_RESOLUTION."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
