"""API tokens and idempotency keys.

A token's secret is shown once, when it is made; only its SHA-256 is kept, so a copy of the
database lets nobody call the API. The short prefix is what people see to tell tokens apart.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    # Also the lookup key: the full token carries it, so a request finds its row by index.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField("SHA-256 of the token", max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyKey(models.Model):
    """One Idempotency-Key of one caller: reserved before the request acts, then holding the
    answer that a retry with the same key gets back."""

    # "token:<id>" or "user:<id>": a key belongs to whoever sent it, so two callers' keys never
    # meet, while a person's session and each of their tokens stay apart.
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    body_sha256 = models.CharField(max_length=64)
    state = models.CharField(
        max_length=12, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The reservation: of two concurrent first tries, only one INSERT succeeds.
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_owner_key"),
        ]
        indexes = [
            # idempotency_keys_prune: rows past their 24 hours.
            models.Index(fields=["created_at"], name="idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key} ({self.state})"
