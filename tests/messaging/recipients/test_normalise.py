"""One recipient: every everyday shape of a phone number or address is stored one way, and
everything else is refused with a reason the user can act on."""

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.models import Channel
from messaging.recipients.normalise import (
    InvalidRecipient,
    _parse_msisdn,
    _quick_msisdn,
    normalise_any_recipient,
    normalise_recipient,
)

# --- normalise_recipient: phone numbers ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "082 123 4567",
        "+27 82 123 4567",
        "27821234567",
        "0821234567",
        "0027 82 123 4567",
        "(082) 123-4567",
        "082.123.4567",
        "  0821234567\t",
    ],
)
def test_it_normalises_every_everyday_shape_of_a_south_african_number(value):
    assert normalise_recipient(value, channel=Channel.SMS) == "27821234567"


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.MMS, Channel.VIDEO])
def test_every_phone_channel_takes_msisdns(channel):
    assert normalise_recipient("0831234567", channel=channel) == "27831234567"


def test_it_rejects_an_invalid_number_naming_the_region():
    with pytest.raises(InvalidRecipient) as caught:
        normalise_recipient("12345", channel=Channel.SMS)
    assert caught.value.reason == "'12345' is not a valid phone number for region ZA"


def test_it_rejects_text_that_is_not_a_phone_number():
    with pytest.raises(InvalidRecipient, match="'call me' is not a phone number"):
        normalise_recipient("call me", channel=Channel.SMS)


def test_it_rejects_a_number_one_digit_too_long():
    with pytest.raises(InvalidRecipient, match="not a valid phone number"):
        normalise_recipient("082 123 45678", channel=Channel.SMS)


def test_it_rejects_a_number_with_an_extension():
    with pytest.raises(InvalidRecipient, match="extension"):
        normalise_recipient("082 123 4567 ext. 12", channel=Channel.SMS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("27000000001", "27000000001"),
        ("+27000000014", "27000000014"),
        ("27 000 000 020", "27000000020"),
        ("27000000099", "27000000099"),
    ],
)
def test_it_accepts_the_sandbox_magic_numbers(value, expected):
    assert normalise_recipient(value, channel=Channel.SMS) == expected


@pytest.mark.parametrize("value", ["27000000100", "2700000001", "270000000001"])
def test_it_rejects_numbers_just_outside_the_magic_range(value):
    with pytest.raises(InvalidRecipient):
        normalise_recipient(value, channel=Channel.SMS)


def test_a_foreign_number_keeps_its_own_country_code():
    assert normalise_recipient("+44 20 7946 0958", channel=Channel.SMS) == "442079460958"


@override_settings(PHONE_DEFAULT_REGION="GB")
def test_national_numbers_follow_the_configured_region():
    assert normalise_recipient("020 7946 0958", channel=Channel.SMS) == "442079460958"
    with pytest.raises(InvalidRecipient, match="for region GB"):
        normalise_recipient("12345", channel=Channel.SMS)


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_an_empty_value_is_rejected(value):
    with pytest.raises(InvalidRecipient, match="no recipient given"):
        normalise_recipient(value, channel=Channel.SMS)


def test_an_unknown_channel_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown channel"):
        normalise_recipient("0821234567", channel="fax")


@settings(max_examples=300, deadline=None)
@given(
    region=st.sampled_from(["ZA", "GB", "US", "DE", "IT"]),
    national=st.text(alphabet="0123456789", min_size=1, max_size=12),
    shape=st.sampled_from(["trunk", "plus", "bare"]),
)
def test_the_quick_path_agrees_with_a_full_phonenumbers_parse(region, national, shape):
    prefixes = {"ZA": ("0", "27"), "GB": ("0", "44"), "US": ("1", "1"), "DE": ("0", "49")}
    trunk, country_code = prefixes.get(region, ("0", "39"))
    compact = {"trunk": trunk, "plus": "+" + country_code, "bare": country_code}[shape] + national
    quick = _quick_msisdn(compact, region=region)
    if quick is not None:
        assert quick == _parse_msisdn(compact, region=region)


def test_the_quick_path_is_taken_for_the_everyday_shapes():
    for compact in ["0821234567", "+27821234567", "27821234567"]:
        assert _quick_msisdn(compact, region="ZA") == "27821234567"


# --- normalise_recipient: email --------------------------------------------------------------


def test_it_lower_cases_the_domain_but_not_the_local_part():
    assert normalise_recipient(" Jo.Soap@Example.CO.ZA ", channel=Channel.EMAIL) == (
        "Jo.Soap@example.co.za"
    )


@pytest.mark.parametrize(
    "value", ["not-an-email", "jo@", "@example.com", "jo@example", "jo soap@example.com"]
)
def test_it_rejects_an_invalid_email_address(value):
    with pytest.raises(InvalidRecipient, match="is not a valid email address"):
        normalise_recipient(value, channel=Channel.EMAIL)


def test_it_rejects_an_address_too_long_to_store():
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    with pytest.raises(InvalidRecipient, match="longer than 254"):
        normalise_recipient(address, channel=Channel.EMAIL)


def test_an_email_channel_does_not_take_phone_numbers():
    with pytest.raises(InvalidRecipient):
        normalise_recipient("0821234567", channel=Channel.EMAIL)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("082 123 4567", "27821234567"),
        ("+27 82 123 4567", "27821234567"),
        ("27000000009", "27000000009"),  # the sandbox's STOP number
        ("Thandi@Example.COM", "Thandi@example.com"),
    ],
)
def test_any_recipient_is_a_number_or_an_address(value, stored):
    assert normalise_any_recipient(value) == stored


@pytest.mark.parametrize("value", ["", "hello", "12", "thandi@", "@example.com"])
def test_any_recipient_that_is_neither_is_refused_with_a_reason(value):
    with pytest.raises(InvalidRecipient) as error:
        normalise_any_recipient(value)
    assert error.value.reason
