"""Into the campaign: parsed recipients become DRAFT messages, skipping those it already has.

The insert is raw SQL (one statement a batch on PostgreSQL) because a 100k-row import through
the ORM took over a minute; _insert_drafts says why and bench/recipients_import.py times it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from messaging.models import Campaign, Message, MessageState
from messaging.optouts import opt_out_reason, opted_out
from messaging.personalise import MissingField, campaign_fields_missing
from messaging.recipients.normalise import dedupe_key
from messaging.recipients.parsing import MAX_LISTED_REJECTS, ParsedRecipients, RejectedRow
from messaging.states import EDITABLE_STATES

INSERT_BATCH_SIZE = 2000


class CampaignNotEditable(ValueError):
    """Recipients may only change before a campaign is launched."""


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_present: int
    duplicates: int
    rejected: list[RejectedRow]
    rejected_total: int
    # Fields the content needs that some added rows lack: a warning, since a later import
    # or an edit of the content may still fix it (the launch refuses it if not).
    missing_fields: list[MissingField] = field(default_factory=list)

    @property
    def rejected_not_listed(self) -> int:
        return self.rejected_total - len(self.rejected)

    @property
    def warnings(self) -> list[str]:
        return [f"{missing}." for missing in self.missing_fields]


def campaign_add_recipients(*, campaign: Campaign, parsed: ParsedRecipients) -> ImportResult:
    """Add the parsed recipients to the campaign as DRAFT messages, skipping ones it has."""
    if parsed.channel != campaign.channel:
        raise ValueError(
            f"recipients were parsed for {parsed.channel}, the campaign is {campaign.channel}"
        )
    with transaction.atomic():
        # The row lock queues concurrent imports into one campaign behind each other, and
        # keeps a launch from slipping in between the state check and the insert.
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.state not in EDITABLE_STATES:
            raise CampaignNotEditable(
                f"Recipients cannot be added to a campaign that is {locked.get_state_display()}."
            )
        allowed, opted = _without_opted_out(locked, parsed)
        present = _present_keys(locked)
        new = [r for r in allowed if dedupe_key(r, channel=locked.channel) not in present]
        added = _insert_drafts(locked, new, fields=parsed.fields)
    # In line order, and still only the first MAX_LISTED_REJECTS of them.
    rejected = sorted([*parsed.rejected, *opted], key=lambda row: row.line)
    return ImportResult(
        added=added,
        already_present=len(allowed) - added,
        duplicates=parsed.duplicates,
        rejected=rejected[:MAX_LISTED_REJECTS],
        rejected_total=parsed.rejected_total + len(opted),
        missing_fields=campaign_fields_missing(
            campaign=locked, recipients=new, fields=parsed.fields
        ),
    )


def _without_opted_out(
    campaign: Campaign, parsed: ParsedRecipients
) -> tuple[list[str], list[RejectedRow]]:
    """The accepted recipients not on the application's opt-out list, and a rejected row for
    each one that is. One lookup for the whole list (messaging.optouts.opted_out)."""
    entries = opted_out(application_id=campaign.application_id, recipients=parsed.accepted)
    if not entries:
        return parsed.accepted, []
    allowed, rejected = [], []
    for recipient, line in zip(parsed.accepted, parsed.accepted_lines, strict=True):
        entry = entries.get(recipient)
        if entry is None:
            allowed.append(recipient)
        else:
            rejected.append(RejectedRow(line=line, value=recipient, reason=opt_out_reason(entry)))
    return allowed, rejected


def _present_keys(campaign: Campaign) -> set[str]:
    # The rows the unique (campaign, recipient) constraint covers.
    recipients = Message.objects.filter(
        campaign=campaign, is_test=False, is_single=False
    ).values_list("recipient", flat=True)
    return {dedupe_key(r, channel=campaign.channel) for r in recipients.iterator(5000)}


def _insert_drafts(
    campaign: Campaign, recipients: list[str], *, fields: dict[str, dict[str, str]] | None = None
) -> int:
    """Insert DRAFT messages in input order, each with its fields (by recipient), a batch at a
    time; answers how many went in.

    This is bulk_create(ignore_conflicts=True) without its per-field work, which measured 4x
    the CPU (Message has 32 fields, and bulk_create prepares each of every row in Python) and
    made a 100k-row import take over a minute. bench/recipients_import.py times it. Columns and
    defaults still come from the model, so a new field needs no change here.
    """
    db = transaction.get_connection()
    layout = _DraftLayout.for_campaign(campaign, db)
    insert = _insert_unnest if db.vendor == "postgresql" else _insert_executemany
    fields = fields or {}
    added = 0
    with db.cursor() as cursor:
        for start in range(0, len(recipients), INSERT_BATCH_SIZE):
            batch = recipients[start : start + INSERT_BATCH_SIZE]
            columns = [batch] + [
                [f.get_db_prep_save(f.get_default(), db) for _ in batch] for f in layout.generated
            ]
            added += insert(cursor, layout, columns, [fields.get(r) for r in batch])
    return added


@dataclass(frozen=True)
class _DraftLayout:
    """Message's columns for an import: most are the same on every row, a few are not."""

    table: str
    constant: list[str]
    constant_values: list[Any]
    # The recipient, then the generated columns, in that order.
    varying: list[str]
    varying_types: list[str]
    generated: list[models.Field]
    # Each row's own fields (JSON), sent apart from the other varying columns: see
    # _insert_unnest.
    fields: str

    @classmethod
    def for_campaign(cls, campaign: Campaign, db: BaseDatabaseWrapper) -> _DraftLayout:
        fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
        # Callable defaults (uuid, ref) are unique per message, so each row needs its own.
        generated = [f for f in fields if f.has_default() and callable(f.default)]
        own_fields = Message._meta.get_field("fields")
        varying = [Message._meta.get_field("recipient"), *generated]
        constant = [f for f in fields if f not in varying and f != own_fields]
        template = Message(campaign=campaign, recipient="", state=MessageState.DRAFT)
        quote = db.ops.quote_name
        return cls(
            table=quote(Message._meta.db_table),
            constant=[quote(f.column) for f in constant],
            constant_values=[
                f.get_db_prep_save(f.pre_save(template, add=True), db) for f in constant
            ],
            varying=[quote(f.column) for f in varying],
            varying_types=[f.db_type(db) for f in varying],
            generated=generated,
            fields=quote(own_fields.column),
        )


# ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): the unique (campaign, recipient)
# constraint has the final word, and rows it refuses are simply not counted as added.
# Only the model's own table and column names go into the SQL text; values are parameters.


def _insert_executemany(
    cursor: CursorWrapper, layout: _DraftLayout, columns: list[list], fields: list[dict | None]
) -> int:
    names = ", ".join([*layout.constant, *layout.varying, layout.fields])
    placeholders = ", ".join(["%s"] * (len(layout.constant) + len(layout.varying) + 1))
    sql = f"INSERT INTO {layout.table} ({names}) VALUES ({placeholders})"  # noqa: S608
    documents = [json.dumps(values) if values else None for values in fields]
    rows = [(*layout.constant_values, *row) for row in zip(*columns, documents, strict=True)]
    cursor.executemany(f"{sql} ON CONFLICT DO NOTHING", rows)
    # Both sqlite3 and psycopg sum rowcount over executemany.
    return cursor.rowcount


def _insert_unnest(
    cursor: CursorWrapper, layout: _DraftLayout, columns: list[list], fields: list[dict | None]
) -> int:
    """PostgreSQL: one statement a batch, the varying columns sent as arrays.

    A statement per row costs PostgreSQL ~4x more (measured 2.5 s against 0.65 s for 10k
    rows), whether sent by executemany or as one multi-row VALUES list.

    The rows' fields go as one JSON array, each row taking its element by position. Sent as a
    jsonb[] of JSON texts instead, psycopg spent ~20 µs a row quoting them into an array
    literal: 2 s of CPU for 100k rows of 5 fields (bench/recipients_import.py), against
    0.1 s this way.
    """
    names = ", ".join([*layout.constant, *layout.varying, layout.fields])
    arrays = ", ".join(f"%s::{db_type}[]" for db_type in layout.varying_types)
    aliases = [f"c{i}" for i in range(len(layout.varying))]
    own_fields = "NULLIF((%s::jsonb) -> (r.n::integer - 1), 'null'::jsonb)"
    selected = ", ".join(["%s"] * len(layout.constant) + [f"r.{a}" for a in aliases] + [own_fields])
    # WITH ORDINALITY ... ORDER BY keeps input order in the ids: a canary takes the first ones.
    sql = (
        f"INSERT INTO {layout.table} ({names}) SELECT {selected} "  # noqa: S608
        f"FROM unnest({arrays}) WITH ORDINALITY AS r({', '.join(aliases)}, n) ORDER BY r.n "
        "ON CONFLICT DO NOTHING"
    )
    cursor.execute(sql, [*layout.constant_values, json.dumps(fields), *columns])
    return cursor.rowcount
