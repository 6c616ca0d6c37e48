"""Saving an iLiveIt application, with every change in the audit log.

An application's endpoint and token decide where its messages (and the token) go, so who set
them, and to what, must be on record. The token itself never is: only its last characters.
"""

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from messaging.models import Application

# What the audit log shows old and new values of; the token is recorded apart, by its hint.
AUDITED_FIELDS = ("name", "environment", "endpoint", "mvno_id", "rate_limit")


def application_save(*, application: Application, actor) -> Application:
    """Create or change an application, and record what changed."""
    with transaction.atomic():
        before = Application.objects.filter(pk=application.pk).first() if application.pk else None
        application.save()
        if before is None:
            _audit_creation(application, actor)
        else:
            _audit_changes(before, application, actor)
    return application


def _audit_creation(application: Application, actor) -> None:
    values = {field: getattr(application, field) for field in AUDITED_FIELDS}
    audit_record(
        actor=actor,
        action=AuditAction.APPLICATION_CREATE,
        target=application,
        detail={**values, "token_hint": application.token_hint},
    )
    _audit_token(application, actor, first=True)


def _audit_changes(before: Application, after: Application, actor) -> None:
    changes = {
        field: {"old": getattr(before, field), "new": getattr(after, field)}
        for field in AUDITED_FIELDS
        if getattr(before, field) != getattr(after, field)
    }
    if changes:
        audit_record(
            actor=actor, action=AuditAction.APPLICATION_CHANGE, target=after, detail=changes
        )
    if before.token != after.token:
        _audit_token(after, actor, first=False)


def _audit_token(application: Application, actor, *, first: bool) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.APPLICATION_TOKEN,
        target=application,
        # The token itself never goes in the log; its last characters tell them apart.
        detail={"token_hint": application.token_hint, "first": first},
    )
