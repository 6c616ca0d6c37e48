"""A campaign's messages as CSV rows, generated a chunk at a time for a streamed download."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.utils.text import slugify

from iliveit import STAGES
from iliveit_portal.csv_cells import Echo, csv_cell
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


def campaign_export_rows(*, campaign: Campaign) -> Iterator[str]:
    """The header, then one CSV line per message of the campaign (test sends excluded), in id
    order, read CHUNK_SIZE rows at a time."""
    writer = csv.writer(Echo())
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
