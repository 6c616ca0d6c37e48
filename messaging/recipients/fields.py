"""A recipient's fields: the values its content's placeholders take ({"first_name": "Thandi"}).

A recipients CSV's header names them (every column but the recipient's); the API sends them
with each recipient. Either way the same rules hold here: what a name looks like, how many
fields and how long a value may be. An empty value is no value: it is not stored, so that
`{{ name|default:"..." }}` and the launch check treat an empty cell and a missing one alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from messaging.placeholders import BUILT_INS, is_field_name

MAX_FIELDS = 50
MAX_VALUE_CHARS = 1000

# Runs of anything but letters and digits (of any script); "_" counts among them.
_NOT_NAME = re.compile(r"[\W_]+")


class FieldsInvalid(ValueError):
    """Names or values that cannot be fields; the text says why, for the person who sent them."""


def field_name(header: str) -> str:
    """A header cell as a field name: lower-cased, each run of anything but letters and digits
    made one "_", none at either end ("First Name" is first_name, "E-mail (work)" email_work,
    "Prénom" prénom)."""
    return _NOT_NAME.sub("_", header.lower()).strip("_")


def check_field_names(names: Iterable[str]) -> None:
    """Refuse names a placeholder could not reach, a built-in's name, and too many."""
    names = list(names)
    if len(names) > MAX_FIELDS:
        raise FieldsInvalid(f"{len(names)} fields; a recipient may have at most {MAX_FIELDS}.")
    for name in names:
        if not is_field_name(name):
            raise FieldsInvalid(
                f"“{name}” is not a field name: use lower-case letters, digits and single _ "
                "between them, as in first_name."
            )
        if name in BUILT_INS:
            raise FieldsInvalid(
                f"“{name}” is a built-in placeholder ({{{{ {name} }}}}); name the field otherwise."
            )


def field_value_refusal(fields: dict[str, str]) -> str | None:
    """Why these values cannot be stored, or None. (Per row: a long cell rejects its row.)"""
    for name, value in fields.items():
        if len(value) > MAX_VALUE_CHARS:
            return f"{name} is {len(value):,} characters; a field holds at most {MAX_VALUE_CHARS:,}"
        if "\x00" in value:
            # PostgreSQL's jsonb cannot hold U+0000.
            return f"{name} holds a null character"
    return None


def fields_kept(pairs: Iterable[tuple[str, str]]) -> dict[str, str] | None:
    """(name, value) pairs as stored: values trimmed, empty ones dropped; None when none are
    left."""
    kept = {}
    for name, value in pairs:
        value = value.strip()
        if value:
            kept[name] = value
    return kept or None


@dataclass(frozen=True)
class RecipientItem:
    """A recipient as a list gives it, before it is parsed: its value, and its fields (as
    fields_kept leaves them)."""

    recipient: str
    fields: dict[str, str] | None = None
