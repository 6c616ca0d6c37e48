"""Recipient import: pasted text or an uploaded CSV becomes DRAFT messages of a campaign.

Three steps, each usable alone:
- `parse_recipients` / `read_recipient_file` turn text or a file into a `ParsedRecipients`:
  normalised, de-duplicated recipients plus every rejected line with its reason. No database.
- `campaign_add_recipients` writes the accepted ones as DRAFT `Message` rows, skipping those
  the campaign already has.
- `normalise_recipient` checks one value; single sends and the test-send form use it too.

MSISDNs are stored as E.164 digits without '+' ("27821234567"): the form iLiveIt takes.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.template.defaultfilters import filesizeformat

from messaging.models import Campaign, Channel, Message, MessageState
from messaging.states import EDITABLE_STATES

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.MMS, Channel.VIDEO})

# A list of 100k bad rows would hold 100k reasons in memory and on the page; past this many we
# only count them.
MAX_LISTED_REJECTS = 1000

# The sandbox's magic numbers (27000000001, ...) are not real South African numbers, so
# phonenumbers calls them invalid. They are accepted on purpose, written internationally
# (with or without '+'), so that demo and test campaigns can reach every sandbox behaviour.
SANDBOX_TEST_NUMBER = re.compile(r"270000000\d\d", re.ASCII)

# Message.recipient is 254 characters, the longest address SMTP can carry (RFC 5321).
MAX_RECIPIENT_LENGTH = 254

INSERT_BATCH_SIZE = 2000

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

_PUNCTUATION = re.compile(r"[\s\-.()/]+")
_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)
_NOT_LETTERS = re.compile(r"[^a-z]+")


class InvalidRecipient(ValueError):
    """One value is not a recipient for the channel; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecipientFileError(ValueError):
    """The upload as a whole cannot be read; the message is shown to the user."""


class CampaignNotEditable(ValueError):
    """Recipients may only change before a campaign is launched."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    value: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedRecipients:
    channel: str
    # Normalised, de-duplicated, in input order.
    accepted: list[str] = field(default_factory=list)
    # The first MAX_LISTED_REJECTS rejects; rejected_total counts them all.
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0
    # Rows dropped because an earlier row had the same recipient.
    duplicates: int = 0

    @property
    def rejected_not_listed(self) -> int:
        return self.rejected_total - len(self.rejected)

    def add_reject(self, *, line: int, value: str, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED_REJECTS:
            self.rejected.append(RejectedRow(line=line, value=_shorten(value), reason=reason))


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_present: int
    duplicates: int
    rejected: list[RejectedRow]
    rejected_total: int

    @property
    def rejected_not_listed(self) -> int:
        return self.rejected_total - len(self.rejected)


# --- One recipient ---------------------------------------------------------------------------


def normalise_recipient(value: str, *, channel: str) -> str:
    """The stored form of one recipient, or InvalidRecipient saying why it is not one."""
    value = value.strip()
    if not value:
        raise InvalidRecipient("no recipient given")
    if channel == Channel.EMAIL:
        return _normalise_email(value)
    if channel in PHONE_CHANNELS:
        return _normalise_msisdn(value, region=settings.PHONE_DEFAULT_REGION)
    raise ValueError(f"unknown channel {channel!r}")


def _normalise_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidRecipient(f"{_shorten(value)!r} is not a valid email address") from None
    if len(value) > MAX_RECIPIENT_LENGTH:
        raise InvalidRecipient(
            f"{_shorten(value)!r} is longer than {MAX_RECIPIENT_LENGTH} characters"
        )
    # Domains are case-insensitive; the local part is, strictly, the receiving server's business.
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _normalise_msisdn(value: str, *, region: str) -> str:
    compact = _PUNCTUATION.sub("", value)
    if SANDBOX_TEST_NUMBER.fullmatch(compact.removeprefix("+")):
        return compact.removeprefix("+")
    return _quick_msisdn(compact, region=region) or _parse_msisdn(value, region=region)


def _quick_msisdn(compact: str, *, region: str) -> str | None:
    """E.164 digits for the everyday shapes of a valid number in `region`, else None.

    phonenumbers.parse costs ~55 µs a number, which alone is over 5 s for a 100k-row list
    (measured). "0821234567", "+27821234567" and "27821234567" need none of its generality: we
    strip the trunk or country code ourselves and only ask is_valid_number (~20 µs). Anything
    else, and every invalid number, goes through the full parse, which also words the reason.
    Tests check that both paths agree.
    """
    if not _DIGITS.fullmatch(compact):
        return None
    country_code, trunk, longest_national = _region_prefixes(region)
    if compact.startswith("+" + country_code):
        national = compact[len(country_code) + 1 :]
    elif trunk and compact.startswith(trunk):
        national = compact[len(trunk) :]
    # Without '+', parse only reads a leading country code as one when the whole is too long
    # to be a national number; anything shorter is left to parse to decide.
    elif compact.startswith(country_code) and len(compact) > longest_national:
        national = compact[len(country_code) :]
    else:
        return None
    # A leading zero would need phonenumbers' italian_leading_zero handling: leave it to parse.
    if not national or national.startswith("0") or (trunk and national.startswith(trunk)):
        return None
    number = phonenumbers.PhoneNumber(country_code=int(country_code), national_number=int(national))
    if not phonenumbers.is_valid_number(number):
        return None
    return country_code + national


@functools.cache
def _region_prefixes(region: str) -> tuple[str, str, int]:
    """(country code, trunk prefix, longest national number) where the quick path is safe.

    A trunk prefix is only returned when parse strips it literally; regions whose prefix is a
    pattern or is rewritten (Argentina, Brazil, ...) get "" and use the full parse for it.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise ValueError(f"PHONE_DEFAULT_REGION {region!r} is not a region phonenumbers knows")
    trunk = metadata.national_prefix or ""
    parsing = metadata.national_prefix_for_parsing
    if (parsing not in (None, trunk)) or metadata.national_prefix_transform_rule:
        trunk = ""
    return str(metadata.country_code), trunk, max(metadata.general_desc.possible_length)


def _parse_msisdn(value: str, *, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidRecipient(f"{_shorten(value)!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient(
            f"{_shorten(value)!r} is not a valid phone number for region {region}"
        )
    if number.extension:
        raise InvalidRecipient(f"{_shorten(value)!r} has an extension; messages cannot use one")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def _dedupe_key(recipient: str, *, channel: str) -> str:
    # Mailboxes are case-insensitive in practice: Jo@x.com and jo@x.com are one person.
    return recipient.lower() if channel == Channel.EMAIL else recipient


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- Many recipients -------------------------------------------------------------------------


def parse_recipients(*, lines: Iterable[str] | str, channel: str) -> ParsedRecipients:
    """Pasted recipients, one a line. Blank lines are skipped but still counted as lines."""
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline=None)
    numbered = ((number, line) for number, line in enumerate(lines, start=1) if line.strip())
    return _parse_numbered(numbered, channel=channel)


def _parse_numbered(rows: Iterable[tuple[int, str]], *, channel: str) -> ParsedRecipients:
    result = ParsedRecipients(channel=channel)
    seen: set[str] = set()
    for line, value in rows:
        try:
            recipient = normalise_recipient(value, channel=channel)
        except InvalidRecipient as exc:
            result.add_reject(line=line, value=value.strip(), reason=exc.reason)
            continue
        key = _dedupe_key(recipient, channel=channel)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        result.accepted.append(recipient)
    return result


def read_recipient_file(*, file: IO[bytes], channel: str) -> ParsedRecipients:
    """An uploaded CSV (or plain list) of recipients: decoded, sniffed and parsed.

    Raises RecipientFileError when the file as a whole is unusable: too large, binary, empty.
    """
    text = _decode(_read_capped(file))
    rows = list(_recipient_cells(text, channel=channel))
    if not rows:
        raise RecipientFileError("The file has no recipients in it.")
    return _parse_numbered(rows, channel=channel)


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


def _recipient_cells(text: str, *, channel: str) -> Iterator[tuple[int, str]]:
    """(line number, recipient cell) for each non-blank row, header row excluded."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    column: int | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if column is None:
                column = _header_column(row, channel=channel)
                if column is not None:
                    continue
                column = 0
            # line_num counts physical lines, so a quoted newline cannot shift later rows'
            # numbers; a row spanning lines reports its last one.
            yield reader.line_num, row[column] if column < len(row) else ""
    except csv.Error as exc:
        raise RecipientFileError(f"line {reader.line_num}: the CSV is malformed ({exc}).") from None


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


def _header_column(row: list[str], *, channel: str) -> int | None:
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


# --- Into the campaign -----------------------------------------------------------------------


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
        present = _present_keys(locked)
        new = [r for r in parsed.accepted if _dedupe_key(r, channel=locked.channel) not in present]
        added = _insert_drafts(locked, new)
    return ImportResult(
        added=added,
        already_present=len(parsed.accepted) - added,
        duplicates=parsed.duplicates,
        rejected=parsed.rejected,
        rejected_total=parsed.rejected_total,
    )


def _present_keys(campaign: Campaign) -> set[str]:
    # The rows the unique (campaign, recipient) constraint covers.
    recipients = Message.objects.filter(
        campaign=campaign, is_test=False, is_single=False
    ).values_list("recipient", flat=True)
    return {_dedupe_key(r, channel=campaign.channel) for r in recipients.iterator(5000)}


def _insert_drafts(campaign: Campaign, recipients: list[str]) -> int:
    """Insert DRAFT messages in input order, a batch at a time; answers how many went in.

    This is bulk_create(ignore_conflicts=True) without its per-field work, which measured 4x
    the CPU (Message has 32 fields, and bulk_create prepares each of every row in Python) and
    made a 100k-row import take over a minute. bench/recipients_import.py times it. Columns and
    defaults still come from the model, so a new field needs no change here.
    """
    db = transaction.get_connection()
    layout = _DraftLayout.for_campaign(campaign, db)
    insert = _insert_unnest if db.vendor == "postgresql" else _insert_executemany
    added = 0
    with db.cursor() as cursor:
        for start in range(0, len(recipients), INSERT_BATCH_SIZE):
            batch = recipients[start : start + INSERT_BATCH_SIZE]
            columns = [batch] + [
                [f.get_db_prep_save(f.get_default(), db) for _ in batch] for f in layout.generated
            ]
            added += insert(cursor, layout, columns)
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

    @classmethod
    def for_campaign(cls, campaign: Campaign, db: BaseDatabaseWrapper) -> _DraftLayout:
        fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
        # Callable defaults (uuid, ref) are unique per message, so each row needs its own.
        generated = [f for f in fields if f.has_default() and callable(f.default)]
        varying = [Message._meta.get_field("recipient"), *generated]
        constant = [f for f in fields if f not in varying]
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
        )


# ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): the unique (campaign, recipient)
# constraint has the final word, and rows it refuses are simply not counted as added.
# Only the model's own table and column names go into the SQL text; values are parameters.


def _insert_executemany(cursor: CursorWrapper, layout: _DraftLayout, columns: list[list]) -> int:
    names = ", ".join([*layout.constant, *layout.varying])
    placeholders = ", ".join(["%s"] * (len(layout.constant) + len(layout.varying)))
    sql = f"INSERT INTO {layout.table} ({names}) VALUES ({placeholders})"  # noqa: S608
    rows = [(*layout.constant_values, *row) for row in zip(*columns, strict=True)]
    cursor.executemany(f"{sql} ON CONFLICT DO NOTHING", rows)
    # Both sqlite3 and psycopg sum rowcount over executemany.
    return cursor.rowcount


def _insert_unnest(cursor: CursorWrapper, layout: _DraftLayout, columns: list[list]) -> int:
    """PostgreSQL: one statement a batch, the varying columns sent as arrays.

    A statement per row costs PostgreSQL ~4x more (measured 2.5 s against 0.65 s for 10k
    rows), whether sent by executemany or as one multi-row VALUES list.
    """
    names = ", ".join([*layout.constant, *layout.varying])
    arrays = ", ".join(f"%s::{db_type}[]" for db_type in layout.varying_types)
    aliases = [f"c{i}" for i in range(len(layout.varying))]
    selected = ", ".join(["%s"] * len(layout.constant) + [f"r.{a}" for a in aliases])
    # WITH ORDINALITY ... ORDER BY keeps input order in the ids: a canary takes the first ones.
    sql = (
        f"INSERT INTO {layout.table} ({names}) SELECT {selected} "  # noqa: S608
        f"FROM unnest({arrays}) WITH ORDINALITY AS r({', '.join(aliases)}, n) ORDER BY r.n "
        "ON CONFLICT DO NOTHING"
    )
    cursor.execute(sql, [*layout.constant_values, *columns])
    return cursor.rowcount
