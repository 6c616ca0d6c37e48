"""A recipient's fields: how a header cell names one, which names and values are refused, and
what is kept of a row's values."""

import pytest

from messaging.recipients.fields import (
    MAX_FIELDS,
    FieldsInvalid,
    check_field_names,
    field_name,
    field_value_refusal,
    fields_kept,
)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("First Name", "first_name"),
        ("first_name", "first_name"),
        ("  AMOUNT  ", "amount"),
        ("Amount (ZAR)", "amount_zar"),
        ("E-mail -- work", "e_mail_work"),
        ("__id__", "id"),
        ("Account No.", "account_no"),
        ("2nd line", "2nd_line"),
        ("Prénom", "prénom"),
        ("?!", ""),
    ],
)
def test_a_header_cell_becomes_a_field_name(header, name):
    assert field_name(header) == name


def test_names_a_placeholder_can_reach_are_taken():
    check_field_names(["first_name", "amount", "a1", "prénom"])


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["First Name"], "is not a field name"),
        (["first__name"], "is not a field name"),
        (["amount-due"], "is not a field name"),
        ([""], "is not a field name"),
        (["recipient"], "is a built-in placeholder"),
        (["unsubscribe_url"], "is a built-in placeholder"),
        ([f"f{n}" for n in range(MAX_FIELDS + 1)], "at most 50"),
    ],
)
def test_bad_names_are_refused_saying_why(names, words):
    with pytest.raises(FieldsInvalid, match=words):
        check_field_names(names)


def test_values_are_trimmed_and_empty_ones_are_not_kept():
    assert fields_kept([("a", "  x "), ("b", ""), ("c", "   ")]) == {"a": "x"}
    assert fields_kept([("b", " ")]) is None
    assert fields_kept([]) is None


def test_a_value_over_a_thousand_characters_is_refused_naming_the_field():
    assert field_value_refusal({"a": "x" * 1000}) is None
    assert field_value_refusal({"a": "x", "note": "x" * 1001}) == (
        "note is 1,001 characters; a field holds at most 1,000"
    )
    assert field_value_refusal({"a": "b\x00"}) == "a holds a null character"
