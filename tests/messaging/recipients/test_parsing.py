"""Pasted recipients: each line accepted once or rejected with its line number and reason."""

from messaging.models import Channel
from messaging.recipients.parsing import MAX_LISTED_REJECTS, parse_numbered, parse_recipients
from tests.messaging.recipients.helpers import reasons


def test_it_lists_each_reject_with_its_line_number():
    text = "0821234567\n\n12345\n0831234567\nhello\n"
    parsed = parse_recipients(lines=text, channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]
    assert reasons(parsed) == [
        "line 3: '12345' is not a valid phone number for region ZA",
        "line 5: 'hello' is not a phone number",
    ]
    assert parsed.rejected[0].value == "12345"
    assert parsed.rejected_total == 2


def test_blank_lines_are_skipped_not_rejected():
    parsed = parse_recipients(lines="\n  \n0821234567\r\n\t\n", channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected_total == 0


def test_it_drops_duplicates_keeping_the_first_in_input_order():
    text = "0831234567\n0821234567\n+27 83 123 4567\n27821234567\n0841234567"
    parsed = parse_recipients(lines=text, channel=Channel.SMS)
    assert parsed.accepted == ["27831234567", "27821234567", "27841234567"]
    assert parsed.duplicates == 2


def test_email_duplicates_compare_case_insensitively():
    lines = ["Jo@Example.com", "jo@example.com", "JO@EXAMPLE.COM", "sam@example.com"]
    parsed = parse_recipients(lines=lines, channel=Channel.EMAIL)
    assert parsed.accepted == ["Jo@example.com", "sam@example.com"]
    assert parsed.duplicates == 2


def test_it_takes_any_iterable_of_lines():
    parsed = parse_recipients(lines=iter(["0821234567", "x"]), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert [row.line for row in parsed.rejected] == [2]


def test_it_keeps_counting_rejects_past_the_listed_cap():
    lines = [f"bad {i}" for i in range(MAX_LISTED_REJECTS + 5)]
    parsed = parse_recipients(lines=lines, channel=Channel.SMS)
    assert len(parsed.rejected) == MAX_LISTED_REJECTS
    assert parsed.rejected_total == MAX_LISTED_REJECTS + 5
    assert parsed.rejected_not_listed == 5
    assert parsed.rejected[-1].line == MAX_LISTED_REJECTS


def test_a_huge_rejected_value_is_shortened_for_display():
    parsed = parse_recipients(lines=["9" * 500], channel=Channel.SMS)
    assert len(parsed.rejected[0].value) == 80
    assert len(parsed.rejected[0].reason) < 200


def test_pasted_lines_have_no_fields():
    parsed = parse_recipients(lines="first_name\n0821234567", channel=Channel.SMS)
    assert parsed.fields == {} and parsed.field_names == ()


def test_a_row_whose_field_is_too_long_is_rejected_with_the_reason():
    rows = [
        (1, "0821234567", {"note": "x" * 1001}),
        (2, "0831234567", {"note": "fine"}),
        (3, "0831234567", {"note": "the duplicate's fields are not kept"}),
    ]
    parsed = parse_numbered(rows, channel=Channel.SMS, field_names=("note",))
    assert parsed.accepted == ["27831234567"]
    assert parsed.fields == {"27831234567": {"note": "fine"}}
    assert reasons(parsed) == ["line 1: note is 1,001 characters; a field holds at most 1,000"]
