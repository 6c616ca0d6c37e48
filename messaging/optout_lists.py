"""An application's opt-out list as staff handle it on its page: finding entries, reading a CSV
of recipients to opt out, and writing the list out as CSV. Changes still go through
messaging/optouts.py, which audits them.

One list holds an application's numbers and addresses together, so each value is read by
normalise_any_recipient (messaging/recipients/normalise.py): an email address when it has an
"@", a phone number otherwise, each normalised as a campaign's recipients are.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from typing import IO

from django.db.models import Q, QuerySet
from django.utils.text import slugify

from iliveit_portal.csv_cells import Echo, csv_cell
from messaging.models import Application, Channel, OptOut

# The upload is read as a campaign's recipient list is (size cap, encodings, separators); only
# the choice of column and of channel differ, so the steps are borrowed rather than copied.
from messaging.recipients.files import (
    RecipientFileError,
    csv_reader,
    header_column,
    upload_text,
)
from messaging.recipients.normalise import InvalidRecipient, normalise_any_recipient
from messaging.recipients.parsing import ParsedRecipients

__all__ = [
    "EXPORT_HEADER",
    "InvalidRecipient",
    "RecipientFileError",
    "opt_out_export_filename",
    "opt_out_export_rows",
    "opt_outs_filter",
    "read_opt_out_file",
]

EXPORT_HEADER = ["recipient", "source", "reason", "opted_out_at", "message_id", "added_by"]
EXPORT_CHUNK_SIZE = 2000


def opt_outs_filter(
    *, application: Application, text: str = "", source: str = ""
) -> QuerySet[OptOut]:
    """The application's entries, newest first, narrowed to a recipient search and a source.

    The search matches part of the stored recipient, or the whole of it once normalised, so
    that "082 123 4567" finds 27821234567.
    """
    entries = OptOut.objects.filter(application=application)
    text = text.strip()
    if text:
        match = Q(recipient__icontains=text)
        with contextlib.suppress(InvalidRecipient):  # not a whole recipient: a part then
            match |= Q(recipient=normalise_any_recipient(text))
        entries = entries.filter(match)
    if source:
        entries = entries.filter(source=source)
    return entries.select_related("created_by").order_by("-created_at", "-id")


def read_opt_out_file(*, file: IO[bytes]) -> ParsedRecipients:
    """An uploaded CSV of recipients to opt out: one column, or a header row naming the
    recipient column (recipient, msisdn, mobile, email, ... as for campaigns). Numbers and
    addresses may be mixed. RecipientFileError when the file as a whole is unusable."""
    reader = csv_reader(upload_text(file))
    result = ParsedRecipients(channel="")
    seen: set[str] = set()
    column: int | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if column is None:
                column = header_column(row, channel=Channel.SMS)
                if column is not None:
                    continue
                column = 0
            value = row[column] if column < len(row) else ""
            try:
                recipient = normalise_any_recipient(value)
            except InvalidRecipient as error:
                result.add_reject(line=reader.line_num, value=value.strip(), reason=error.reason)
                continue
            # Mailboxes are case-insensitive in practice (as messaging.recipients dedupes them).
            key = recipient.lower()
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            result.accepted.append(recipient)
    except csv.Error as error:
        raise RecipientFileError(
            f"line {reader.line_num}: the CSV is malformed ({error})."
        ) from None
    if not (result.accepted or result.rejected_total or result.duplicates):
        raise RecipientFileError("The file has no recipients in it.")
    return result


def opt_out_export_rows(*, application: Application) -> Iterator[str]:
    """The header, then one CSV line per entry, newest first. Recipients and reasons come from
    outside (a reply, an import), so every cell is guarded against spreadsheet formulas."""
    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_HEADER)
    rows = (
        OptOut.objects.filter(application=application)
        .order_by("-created_at", "-id")
        .values_list(
            "recipient", "source", "reason", "created_at", "message_id", "created_by__username"
        )
        .iterator(chunk_size=EXPORT_CHUNK_SIZE)
    )
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def opt_out_export_filename(*, application: Application) -> str:
    """`opt-outs-<id>-<name>.csv`, ASCII only, so the header needs no quoting."""
    name = slugify(application.name)[:60].strip("-_") or "application"
    return f"opt-outs-{application.pk}-{name}.csv"
