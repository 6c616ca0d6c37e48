"""Many recipients at once: a list becomes a ParsedRecipients, each recipient normalised and
kept once with its fields, each rejected line listed with its reason. No database.

parse_recipients reads pasted lines (which have no fields); messaging/recipients/files.py
reads an upload's cells and the API its JSON list, and both end here too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from messaging.recipients.fields import field_value_refusal
from messaging.recipients.normalise import (
    InvalidRecipient,
    dedupe_key,
    normalise_recipient,
    shorten,
)

# A list of 100k bad rows would hold 100k reasons in memory and on the page; past this many we
# only count them.
MAX_LISTED_REJECTS = 1000


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
    # The line (or 1-based position) each accepted recipient came from, to name it if the
    # import rejects it later (an opt-out).
    accepted_lines: list[int] = field(default_factory=list)
    # The first MAX_LISTED_REJECTS rejects; rejected_total counts them all.
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0
    # Rows dropped because an earlier row had the same recipient.
    duplicates: int = 0
    # Each accepted recipient's fields, by recipient; one without fields is not listed.
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    # The field names the list's header gave (a CSV's columns), in its order.
    field_names: tuple[str, ...] = ()

    @property
    def rejected_not_listed(self) -> int:
        return self.rejected_total - len(self.rejected)

    def add_reject(self, *, line: int, value: str, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED_REJECTS:
            self.rejected.append(RejectedRow(line=line, value=shorten(value), reason=reason))


def parse_recipients(*, lines: Iterable[str] | str, channel: str) -> ParsedRecipients:
    """Pasted recipients, one a line. Blank lines are skipped but still counted as lines."""
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline=None)
    numbered = ((number, line, None) for number, line in enumerate(lines, start=1) if line.strip())
    return parse_numbered(numbered, channel=channel)


def parse_numbered(
    rows: Iterable[tuple[int, str, dict[str, str] | None]],
    *,
    channel: str,
    field_names: tuple[str, ...] = (),
) -> ParsedRecipients:
    """(line number, value, fields) rows, from pasted lines, a file's cells or the API's list,
    parsed. Fields are as messaging/recipients/fields.py keeps them (trimmed, None if none);
    a row with a value too long to keep is rejected, like a bad recipient."""
    result = ParsedRecipients(channel=channel, field_names=field_names)
    seen: set[str] = set()
    for line, value, fields in rows:
        try:
            recipient = normalise_recipient(value, channel=channel)
        except InvalidRecipient as exc:
            result.add_reject(line=line, value=value.strip(), reason=exc.reason)
            continue
        if fields:
            refusal = field_value_refusal(fields)
            if refusal:
                result.add_reject(line=line, value=value.strip(), reason=refusal)
                continue
        key = dedupe_key(recipient, channel=channel)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        result.accepted.append(recipient)
        result.accepted_lines.append(line)
        if fields:
            result.fields[recipient] = fields
    return result
