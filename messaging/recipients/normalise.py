"""One recipient: the stored form of a phone number or email address, or why it is not one.

MSISDNs are stored as E.164 digits without '+' ("27821234567"): the form iLiveIt takes. Imports,
single sends and the test-send form all check a recipient here.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from messaging.models import Channel

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.MMS, Channel.VIDEO})

# The sandbox's magic numbers (27000000001, ...) are not real South African numbers, so
# phonenumbers calls them invalid. They are accepted on purpose, written internationally
# (with or without '+'), so that demo and test campaigns can reach every sandbox behaviour.
SANDBOX_TEST_NUMBER = re.compile(r"270000000\d\d", re.ASCII)

# Message.recipient is 254 characters, the longest address SMTP can carry (RFC 5321).
MAX_RECIPIENT_LENGTH = 254

_PUNCTUATION = re.compile(r"[\s\-.()/]+")
_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)


class InvalidRecipient(ValueError):
    """One value is not a recipient for the channel; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def normalise_any_recipient(value: str) -> str:
    """The stored form of a recipient given for every channel at once (an application's
    opt-out list): an address as for email, anything else as a number, as for SMS."""
    channel = Channel.EMAIL if "@" in value else Channel.SMS
    return normalise_recipient(value, channel=channel)


def _normalise_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidRecipient(f"{shorten(value)!r} is not a valid email address") from None
    if len(value) > MAX_RECIPIENT_LENGTH:
        raise InvalidRecipient(
            f"{shorten(value)!r} is longer than {MAX_RECIPIENT_LENGTH} characters"
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
        raise InvalidRecipient(f"{shorten(value)!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient(
            f"{shorten(value)!r} is not a valid phone number for region {region}"
        )
    if number.extension:
        raise InvalidRecipient(f"{shorten(value)!r} has an extension; messages cannot use one")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def dedupe_key(recipient: str, *, channel: str) -> str:
    """What two stored recipients share when they are the same person."""
    # Mailboxes are case-insensitive in practice: Jo@x.com and jo@x.com are one person.
    return recipient.lower() if channel == Channel.EMAIL else recipient


def shorten(value: str, limit: int = 80) -> str:
    """`value` cut to `limit` characters, to quote in a reason or list as a rejected value."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
