"""The opt-out list of each application: recipients it must not send to any more.

Every change goes through these functions, whoever asks (a STOP reply, a bounce, the unsubscribe
page, staff, the API), so each is audited the same way. Lookups are set-based: one query for a
whole list of recipients, never one per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from audit.models import AuditAction
from audit.services import audit_record, audit_record_many
from iliveit_portal.templatetags.portal import local_time
from messaging.models import Application, Message, OptOut, OptOutSource

# Recipients per IN (...) list (SQLite): well under its bound-parameter limit.
LOOKUP_BATCH = 5000


def opt_out_record(
    *,
    application: Application,
    recipient: str,
    source: OptOutSource | str,
    reason: str = "",
    message: Message | None = None,
    user=None,
) -> tuple[OptOut, bool]:
    """Opt `recipient` (already normalised) out of the application; answer the entry and
    whether it is new. An existing entry is kept as it was: the first opt-out is the record."""
    existing = OptOut.objects.filter(application=application, recipient=recipient).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = OptOut.objects.create(
                application=application,
                recipient=recipient,
                source=source,
                reason=reason[:255],
                message=message,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            audit_record(
                actor=user,
                action=AuditAction.OPT_OUT_ADD,
                target=entry,
                detail={"source": str(source), "reason": reason[:255]},
            )
    except IntegrityError:
        # Another opt-out of the same recipient (a second STOP, say) won the race.
        return OptOut.objects.get(application=application, recipient=recipient), False
    return entry, True


def opt_outs_record_many(
    *,
    application: Application,
    recipients: Iterable[str],
    source: OptOutSource | str,
    reason: str = "",
    user=None,
) -> tuple[int, int]:
    """Opt many recipients (already normalised) out at once, as opt_out_record does one, and
    answer (added, already on the list). Set-based, for a staff import of thousands: one lookup
    per LOOKUP_BATCH, bulk inserts, and still an audit entry per new entry."""
    wanted = list(dict.fromkeys(recipients))
    try:
        added = _record_missing(
            application=application, recipients=wanted, source=source, reason=reason, user=user
        )
    except IntegrityError:
        # One of them opted out between the lookup and the insert (a STOP reply landed):
        # the whole batch was rolled back, so look again once.
        added = _record_missing(
            application=application, recipients=wanted, source=source, reason=reason, user=user
        )
    return added, len(wanted) - added


def _record_missing(
    *, application: Application, recipients: list[str], source: str, reason: str, user
) -> int:
    existing = opted_out(application_id=application.pk, recipients=recipients)
    entries = [
        OptOut(
            application=application,
            recipient=recipient,
            source=source,
            reason=reason[:255],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        for recipient in recipients
        if recipient not in existing
    ]
    with transaction.atomic():
        OptOut.objects.bulk_create(entries, batch_size=LOOKUP_BATCH)
        audit_record_many(
            actor=user,
            action=AuditAction.OPT_OUT_ADD,
            targets=entries,
            detail={"source": str(source), "reason": reason[:255]},
        )
    return len(entries)


def opt_out_remove(*, opt_out: OptOut, user=None, reason: str = "") -> None:
    """Opt the recipient back in (a START reply, or an admin removing the entry)."""
    with transaction.atomic():
        audit_record(
            actor=user,
            action=AuditAction.OPT_OUT_REMOVE,
            target=opt_out,
            detail={"source": opt_out.source, "reason": reason[:255]},
        )
        opt_out.delete()


def opted_out(*, application_id: int, recipients: Iterable[str]) -> dict[str, OptOut]:
    """The entries, by recipient, of those of `recipients` who opted out of the application."""
    wanted = list(dict.fromkeys(recipients))
    entries = OptOut.objects.filter(application_id=application_id)
    found: dict[str, OptOut] = {}
    if connection.vendor == "postgresql":
        # The whole list as one array parameter. IN lists of 5,000 parameters made a
        # 100,000-recipient lookup take 5-6 s against 100,000 opt-outs; `= ANY(array)` takes
        # 0.5 s (bench/recipients_import.py --opt-outs).
        quote = connection.ops.quote_name
        column = f"{quote(OptOut._meta.db_table)}.{quote('recipient')}"
        # Only the model's own names go into the SQL text; the list is a parameter.
        matching = RawSQL(  # noqa: S611
            f"{column} = ANY(%s)", [wanted], output_field=BooleanField()
        )
        for entry in entries.filter(matching):
            found[entry.recipient] = entry
        return found
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        for entry in entries.filter(recipient__in=batch):
            found[entry.recipient] = entry
    return found


def opt_out_reason(entry: OptOut) -> str:
    """How an import or a send refusal names the opt-out: "opted out on 2026-12-06 (Reply)"."""
    # The date in TIME_ZONE, as the pages show it: a STOP at 01:00 local is not the day before.
    return f"opted out on {local_time(entry.created_at):%Y-%m-%d} ({entry.get_source_display()})"
