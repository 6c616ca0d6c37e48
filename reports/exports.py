"""A campaign's messages as CSV rows, generated a chunk at a time for a streamed download.

Each row ends with its replies, for those who may read replies: how many there are, and the
latest one's time and text. The latest, because a later reply is the one that stands ("STOP"
after "yes please"; a correction after a typo) and one cell per message keeps the file one
row per message for a spreadsheet; the count says when there is more to read, and the
campaign's replies page has them all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.text import slugify

from iliveit import STAGES
from iliveit_portal.csv_cells import Echo, csv_cell
from messaging.models import Campaign, Message
from postbacks.models import Reply

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
REPLY_COLUMNS = (
    ("reply_count", "replies"),
    ("last_reply_at", "last_reply_at"),
    ("last_reply", "last_reply"),
)
HEADER = [title for _, title in COLUMNS]
FIELDS = [field for field, _ in COLUMNS]
HEADER_WITH_REPLIES = HEADER + [title for _, title in REPLY_COLUMNS]


def _reply_annotations() -> dict:
    """Per message, from the replies' (message, content_hash) index: an index probe each."""
    of_message = Reply.objects.filter(message=OuterRef("pk")).order_by()
    latest = of_message.order_by("-received_at", "-id")
    count = of_message.values("message").annotate(n=Count("id")).values("n")
    return {
        "reply_count": Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        "last_reply_at": Subquery(latest.values("received_at")[:1]),
        "last_reply": Subquery(latest.values("text")[:1]),
    }


def campaign_export_rows(*, campaign: Campaign, with_replies: bool = True) -> Iterator[str]:
    """The header, then one CSV line per message of the campaign (test sends excluded), in id
    order, read CHUNK_SIZE rows at a time. `with_replies` adds the reply columns (leave them
    out for someone who may not read replies)."""
    writer = csv.writer(Echo())
    yield writer.writerow(HEADER_WITH_REPLIES if with_replies else HEADER)
    messages = Message.objects.filter(campaign=campaign, is_test=False).order_by("id")
    fields = list(FIELDS)
    if with_replies:
        messages = messages.annotate(**_reply_annotations())
        fields += [field for field, _ in REPLY_COLUMNS]
    for row in messages.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow([csv_cell(value) for value in row])


def campaign_export_filename(*, campaign: Campaign) -> str:
    """`messages-<id>-<name>.csv` with the name slugified to ASCII letters, digits, '-' and
    '_', so that the Content-Disposition header needs no quoting or encoding."""
    name = slugify(campaign.name)[:60].strip("-_") or "campaign"
    return f"messages-{campaign.pk}-{name}.csv"
