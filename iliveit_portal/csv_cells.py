"""Cells of the CSV files the portal hands out (a campaign's messages, an opt-out list): one
rule for what a spreadsheet may safely open."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from iliveit_portal.templatetags.portal import local_time

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV
# injection"); recipients, errors and descriptions come from outside, so such a cell gets a
# leading quote. Tab and carriage return start formulas in some spreadsheets too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Echo:
    """A file-like object whose write hands the line back instead of keeping it, so that the
    csv writer can format rows for a generator (Django's "streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any, zone: tzinfo | None = None) -> str | int:
    """One cell: times in ISO 8601 in TIME_ZONE with their offset (as the pages show them, and
    still one exact moment for a program), None as empty, text guarded against formulas.
    A long export passes the `zone` (timezone.get_current_timezone()) it read once: looking
    it up costs several times what converting to it does, on every time of a million rows."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if zone is not None and value.tzinfo is not None:
            return value.astimezone(zone).isoformat()
        return local_time(value).isoformat()
    if isinstance(value, int):
        # Numbers the portal wrote itself (ids, codes, attempts) may be negative: kept as is.
        return value
    return csv_text(str(value))


def csv_text(text: str) -> str:
    """A text cell, guarded against formulas: csv_cell's rule for text, for a writer that
    already knows which of its columns hold text."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
