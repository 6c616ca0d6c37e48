"""A campaign's messages as CSV rows, generated a chunk at a time for a streamed download."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.utils.text import slugify

from iliveit import STAGES
from messaging.models import Campaign, Message

# Rows are fetched from the database this many at a time (a server-side cursor on
# PostgreSQL), so a campaign of a million messages never sits in memory at once.
CHUNK_SIZE = 2000

COLUMNS = (
    ("id", "id"),
    ("recipient", "recipient"),
    ("state", "state"),
    ("network", "network"),
    ("iliveit_id", "iliveit_message_id"),
    ("attempts", "attempts"),
    ("last_error", "last_error"),
    ("submitted_at", "submitted_at"),
    *(
        (f"{stage}_{part}", f"{stage}_{part}")
        for stage in STAGES
        for part in ("code", "description", "at")
    ),
)
HEADER = [title for _, title in COLUMNS]
FIELDS = [field for field, _ in COLUMNS]

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV
# injection"); recipients, errors and descriptions come from outside, so such a cell gets a
# leading quote. Tab and carriage return start formulas in some spreadsheets too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write hands the line back instead of keeping it, so that the
    csv writer can format rows for a generator (Django's "streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str | int:
    """One cell: times in ISO 8601, None as empty, text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        # Numbers the portal wrote itself (ids, codes, attempts) may be negative: kept as is.
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def campaign_export_rows(*, campaign: Campaign) -> Iterator[str]:
    """The header, then one CSV line per message of the campaign (test sends excluded), in id
    order, read CHUNK_SIZE rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = (
        Message.objects.filter(campaign=campaign, is_test=False)
        .order_by("id")
        .values_list(*FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def campaign_export_filename(*, campaign: Campaign) -> str:
    """`messages-<id>-<name>.csv` with the name slugified to ASCII letters, digits, '-' and
    '_', so that the Content-Disposition header needs no quoting or encoding."""
    name = slugify(campaign.name)[:60].strip("-_") or "campaign"
    return f"messages-{campaign.pk}-{name}.csv"
