"""Recording what staff and integrators did. Services call `audit_record` inside their own
transaction, so an action and its entry are kept or rolled back together, whichever of the
pages, the API or the admin asked for it."""

from __future__ import annotations

from typing import Any

from django.db import models

from audit.models import AuditAction, AuditEntry


def audit_record(
    *,
    actor,
    action: AuditAction,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        detail=detail or {},
    )


def audit_record_many(
    *,
    actor,
    action: AuditAction,
    targets: list[models.Model],
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry per target, written in batches: an import of thousands of rows is audited
    row by row without a query per row."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=user,
                actor_name=user.get_username() if user else "",
                action=action,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                target_label=str(target)[:255],
                detail=detail or {},
            )
            for target in targets
        ],
        batch_size=1000,
    )
