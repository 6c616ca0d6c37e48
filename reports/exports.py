"""A campaign's messages as CSV rows, generated a chunk at a time for a streamed download.

Each row ends with its replies, for those who may read replies: how many there are, and the
latest one's time and text. The latest, because a later reply is the one that stands ("STOP"
after "yes please"; a correction after a typo) and one cell per message keeps the file one
row per message for a spreadsheet; the count says when there is more to read, and the
campaign's replies page has them all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import tzinfo
from itertools import islice

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, IntegerField, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from psycopg.types.datetime import TimestamptzLoader

from iliveit import STAGES
from iliveit_portal.csv_cells import csv_cell, csv_text
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
REPLY_HEADER = ["replies", "last_reply_at", "last_reply"]
HEADER = [title for _, title in COLUMNS]
FIELDS = [field for field, _ in COLUMNS]
HEADER_WITH_REPLIES = HEADER + REPLY_HEADER

# Where FIELDS' times and texts are. A row is written column by kind (_cells) rather than
# through csv_cell's type tests on each of its cells, the export's largest cost once the times
# were read quickly (py-spy). The numbers (ids, codes, attempts) are written as they are, and
# None as an empty cell, as csv_cell writes them.
_FIELD_TYPES = [type(Message._meta.get_field(field)) for field in FIELDS]
TIME_COLUMNS = [i for i, kind in enumerate(_FIELD_TYPES) if issubclass(kind, DateTimeField)]
TEXT_COLUMNS = [
    i for i, kind in enumerate(_FIELD_TYPES) if not issubclass(kind, (DateTimeField, IntegerField))
]


def _replies_of(
    campaign: Campaign, first_id: int, last_id: int
) -> dict[int, tuple[int, object, str]]:
    """{message id: (how many replies, the latest's time, its text)} for the campaign's
    messages with ids from first_id to last_id (one chunk of rows), in one query: a query per
    chunk rather than three subqueries per row, which made the export ten times slower, and a
    range rather than a list of 2000 ids to send and plan."""
    found: dict[int, tuple[int, object, str]] = {}
    replies = (
        Reply.objects.filter(campaign=campaign, message_id__gte=first_id, message_id__lte=last_id)
        .order_by("message_id", "received_at", "id")
        .values_list("message_id", "received_at", "text")
    )
    for message_id, received_at, text in replies:
        count = found.get(message_id, (0, None, ""))[0]
        found[message_id] = (count + 1, received_at, text)
    return found


def _message_chunks(campaign: Campaign) -> Iterator[list[tuple]]:
    """The campaign's messages (test sends excluded) as tuples of FIELDS, in id order, in
    lists of up to CHUNK_SIZE rows, each read as it is needed."""
    rows = (
        Message.objects.filter(campaign=campaign, is_test=False).order_by("id").values_list(*FIELDS)
    )
    if connections[rows.db].vendor == "postgresql" and settings.USE_TZ:
        yield from _chunks_with_psycopg_times(rows)
        return
    iterator = rows.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        yield chunk


def _chunks_with_psycopg_times(rows: QuerySet) -> Iterator[list[tuple]]:
    """The rows from a server-side cursor, as QuerySet.iterator reads them, but with psycopg's
    own timestamptz loader (in C) instead of Django's.

    Django loads every timestamptz through a loader of its own written in Python (BaseTzLoader
    in django/db/backends/postgresql/psycopg_any.py, which calls psycopg's pure-Python parser
    and then sets the time zone). A row here has six times; py-spy showed them taking more
    than half of the export, and reading 100,000 rows took 4.4 s of CPU with them against
    0.2 s without (0.5 s with this loader). psycopg's C loader gives the same moment, aware,
    in the connection's time zone (UTC, which Django sets), and every time is converted to
    TIME_ZONE when written anyway.
    The loader is registered on this cursor only; the connection keeps Django's.
    """
    sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    with connections[rows.db].chunked_cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield chunk


def _cells(row: tuple, zone: tzinfo) -> list:
    """The message's cells as csv_cell writes them: times in TIME_ZONE, text guarded."""
    cells = list(row)
    for index in TIME_COLUMNS:
        if cells[index] is not None:
            cells[index] = csv_cell(cells[index], zone)
    for index in TEXT_COLUMNS:
        if cells[index]:
            cells[index] = csv_text(cells[index])
    return cells


def _reply_cells(reply: tuple[int, object, str], zone: tzinfo) -> list:
    count, received_at, text = reply
    return [count, csv_cell(received_at, zone), csv_text(text)]


def _lines(rows: Iterator[list]) -> str:
    """CSV lines, as one string: a chunk is handed to the response as one piece, because
    each piece costs the response (and the server, a write) as much as a short row does."""
    lines = io.StringIO()
    csv.writer(lines).writerows(rows)
    return lines.getvalue()


def campaign_export_rows(*, campaign: Campaign, with_replies: bool = True) -> Iterator[str]:
    """The header, then the CSV lines of the campaign's messages (test sends excluded, one
    line per message, in id order), a string per CHUNK_SIZE messages read. `with_replies` adds
    the reply columns (leave them out for someone who may not read replies)."""
    zone = timezone.get_current_timezone()
    yield _lines([HEADER_WITH_REPLIES if with_replies else HEADER])
    no_replies = (0, None, "")
    for chunk in _message_chunks(campaign):
        if not with_replies:
            yield _lines(_cells(row, zone) for row in chunk)
            continue
        replies = _replies_of(campaign, chunk[0][0], chunk[-1][0])
        yield _lines(
            _cells(row, zone) + _reply_cells(replies.get(row[0], no_replies), zone) for row in chunk
        )


def campaign_export_filename(*, campaign: Campaign) -> str:
    """`messages-<id>-<name>.csv` with the name slugified to ASCII letters, digits, '-' and
    '_', so that the Content-Disposition header needs no quoting or encoding."""
    name = slugify(campaign.name)[:60].strip("-_") or "campaign"
    return f"messages-{campaign.pk}-{name}.csv"
