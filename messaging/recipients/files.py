"""Reading an uploaded recipient list, a CSV or a plain list, as spreadsheets save them: its size
capped, its encoding worked out, its separator sniffed and the recipient column found by its
header. With a header, every other column is a field of each row's recipient, named after its
header cell (messaging/recipients/fields.py); a list without a header has no fields.

A file that cannot be read at all is refused whole (RecipientFileError); otherwise its cells are
parsed like pasted lines (messaging/recipients/parsing.py), each bad one rejected by line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from messaging.models import Channel
from messaging.recipients.fields import (
    MAX_FIELDS,
    FieldsInvalid,
    check_field_names,
    field_name,
    fields_kept,
)
from messaging.recipients.parsing import ParsedRecipients, parse_numbered

# Header cells, lower-cased with everything but letters removed ("E-mail Address" is
# "emailaddress"). Earlier names win when a header has several.
PHONE_COLUMNS = (
    "msisdn",
    "mobile",
    "mobilenumber",
    "mobileno",
    "cell",
    "cellphone",
    "cellnumber",
    "cellno",
    "phone",
    "phonenumber",
    "phoneno",
    "telephone",
    "number",
    "recipient",
)
EMAIL_COLUMNS = ("email", "emailaddress", "mail", "address", "recipient")
ALL_COLUMNS = frozenset(PHONE_COLUMNS) | frozenset(EMAIL_COLUMNS)

# csv.Sniffer only needs a few lines; sniffing a whole 50 MB file would take seconds.
SNIFF_SAMPLE_CHARS = 64 * 1024

_NOT_LETTERS = re.compile(r"[^a-z]+")


class RecipientFileError(ValueError):
    """The upload as a whole cannot be read; the message is shown to the user."""


def read_recipient_file(*, file: IO[bytes], channel: str) -> ParsedRecipients:
    """An uploaded CSV (or plain list) of recipients: decoded, sniffed and parsed.

    Raises RecipientFileError when the file as a whole is unusable: too large, binary, empty.
    """
    text = upload_text(file)
    header = _Header()
    rows = list(_recipient_rows(text, channel=channel, header=header))
    if not rows:
        raise RecipientFileError("The file has no recipients in it.")
    return parse_numbered(rows, channel=channel, field_names=header.field_names)


def upload_text(file: IO[bytes]) -> str:
    """An uploaded list's text: size-capped and decoded, or RecipientFileError saying why not."""
    return _decode(_read_capped(file))


def csv_reader(text: str):
    """A csv.reader over `text`, split on whichever separator it uses (comma, semicolon, tab)."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))


def _read_capped(file: IO[bytes]) -> bytes:
    limit = settings.RECIPIENTS_MAX_UPLOAD_BYTES
    too_large = RecipientFileError(
        f"The file is larger than {filesizeformat(limit)}, the most a recipient list may be. "
        "Split it into smaller files."
    )
    # UploadedFile knows its size: refuse without reading it.
    if (getattr(file, "size", None) or 0) > limit:
        raise too_large
    # A form validator may have read some of it already.
    if getattr(file, "seekable", lambda: False)():
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data.strip():
        raise RecipientFileError("The file is empty.")
    return data


def _decode(data: bytes) -> str:
    # Excel's "Unicode text" export is UTF-16 with a byte-order mark.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RecipientFileError("The file is not readable UTF-16 text.") from None
    # Text files never hold NUL bytes; spreadsheets (.xlsx is a zip) and images do.
    if b"\x00" in data:
        raise RecipientFileError(
            "This is not a text file (a spreadsheet?). Save it as CSV and upload that."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Older Excel on Windows saves CSV as cp1252; latin-1 takes any byte, as a last resort.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Header:
    """What the first row said: the recipient column, and the fields' columns and names."""

    column: int | None = None
    field_columns: tuple[tuple[int, str], ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.field_columns)


def _recipient_rows(
    text: str, *, channel: str, header: _Header
) -> Iterator[tuple[int, str, dict[str, str] | None]]:
    """(line number, recipient cell, fields) for each non-blank row, header row excluded;
    fills `header` on the way."""
    reader = csv_reader(text)
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header.column is None:
                header.column = header_column(row, channel=channel)
                if header.column is not None:
                    header.field_columns = _field_columns(row, recipient_column=header.column)
                    continue
                header.column = 0
            column, width = header.column, len(row)
            fields = None
            if header.field_columns:
                fields = fields_kept(
                    (name, row[index]) for index, name in header.field_columns if index < width
                )
            # line_num counts physical lines, so a quoted newline cannot shift later rows'
            # numbers; a row spanning lines reports its last one.
            yield reader.line_num, row[column] if column < width else "", fields
    except csv.Error as exc:
        raise RecipientFileError(f"line {reader.line_num}: the CSV is malformed ({exc}).") from None


def _field_columns(row: list[str], *, recipient_column: int) -> tuple[tuple[int, str], ...]:
    """(index, field name) of the header's other columns. A column whose header cell names
    nothing (blank, or only punctuation) is left out: spreadsheets often save empty ones."""
    columns = [
        (index, field_name(cell))
        for index, cell in enumerate(row)
        if index != recipient_column and field_name(cell)
    ]
    if len(columns) > MAX_FIELDS:
        raise RecipientFileError(
            f"The file has {len(columns)} columns besides the recipient's; a recipient may have "
            f"at most {MAX_FIELDS} fields. Remove the columns the content does not use."
        )
    seen: dict[str, str] = {}
    for index, name in columns:
        if name in seen:
            raise RecipientFileError(
                f"The header cells “{seen[name]}” and “{row[index].strip()}” both make the "
                f"field name {name}; rename one of them."
            )
        seen[name] = row[index].strip()
    try:
        check_field_names(name for _, name in columns)
    except FieldsInvalid as error:
        raise RecipientFileError(f"The header row: {error}") from None
    return tuple(columns)


def _sniff_delimiter(text: str) -> str:
    sample = text[:SNIFF_SAMPLE_CHARS]
    # A cut-off last line can mislead the sniffer's per-line counts.
    if len(text) > SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # A single column has no delimiter to find.
        return ","


def header_column(row: list[str], *, channel: str) -> int | None:
    """The recipient column's index if `row` is a header row, else None."""
    names = [_NOT_LETTERS.sub("", cell.lower()) for cell in row]
    names = [name if name in ALL_COLUMNS else name.removesuffix("s") for name in names]
    # The channel's own kind of column first; the other kind still marks a header row.
    if channel == Channel.EMAIL:
        candidates = (*EMAIL_COLUMNS, *PHONE_COLUMNS)
    else:
        candidates = (*PHONE_COLUMNS, *EMAIL_COLUMNS)
    for wanted in candidates:
        if wanted in names:
            return names.index(wanted)
    return None
