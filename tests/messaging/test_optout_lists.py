"""Opt-out lists as files and searches: a CSV of numbers and addresses read row by row, the
export's rows, the search over a list."""

import csv
import io

import pytest

from messaging.models import OptOut, OptOutSource
from messaging.optout_lists import (
    EXPORT_HEADER,
    RecipientFileError,
    opt_out_export_filename,
    opt_out_export_rows,
    opt_outs_filter,
    read_opt_out_file,
)


def read(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return read_opt_out_file(file=io.BytesIO(data))


def test_a_single_column_without_a_header_is_read_whole():
    parsed = read("0821234567\nann@example.com\n\n0821234568\n")

    assert parsed.accepted == ["27821234567", "ann@example.com", "27821234568"]
    assert parsed.rejected_total == 0


def test_a_header_names_the_recipient_column_whatever_the_separator():
    parsed = read("Name;Recipient;Amount\nAnn;0821234567;12\nBen;ben@example.com;3\n")

    assert parsed.accepted == ["27821234567", "ben@example.com"]


def test_bad_rows_are_rejected_by_line_and_repeats_counted():
    parsed = read("email\nann@example.com\nnot an address\nANN@example.com\n\n12\n")

    assert parsed.accepted == ["ann@example.com"]
    assert parsed.duplicates == 1
    assert [(row.line, row.value) for row in parsed.rejected] == [
        (3, "not an address"),
        (6, "12"),
    ]
    assert all(row.reason for row in parsed.rejected)


def test_a_spreadsheets_utf16_export_is_read():
    parsed = read("recipient\r\nann@example.com\r\n".encode("utf-16"))

    assert parsed.accepted == ["ann@example.com"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x00binary", "not a text file"),
        (b"recipient\n", "no recipients"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(data, says):
    with pytest.raises(RecipientFileError, match=says):
        read(data)


@pytest.mark.django_db
def test_the_export_is_newest_first_with_every_cell_safe(application, other_application):
    OptOut.objects.create(application=application, recipient="27821234567", source="reply")
    OptOut.objects.create(
        application=application,
        recipient="-2@example.com",
        source=OptOutSource.BOUNCE,
        reason="=HYPERLINK(1)",
    )
    OptOut.objects.create(application=other_application, recipient="27821234568", source="reply")

    rows = list(csv.reader(io.StringIO("".join(opt_out_export_rows(application=application)))))

    assert rows[0] == EXPORT_HEADER
    assert [row[:3] for row in rows[1:]] == [
        ["'-2@example.com", "bounce", "'=HYPERLINK(1)"],
        ["27821234567", "reply", ""],
    ]
    assert rows[1][3].startswith("20") and "T" in rows[1][3]


@pytest.mark.django_db
def test_the_export_filename_is_plain_ascii(application):
    application.name = 'Énergie / Promo: "Dec"'
    assert opt_out_export_filename(application=application) == (
        f"opt-outs-{application.pk}-energie-promo-dec.csv"
    )


@pytest.mark.django_db
def test_the_search_matches_part_of_a_recipient_or_the_whole_normalised(application):
    for recipient, source in [("27821234567", "reply"), ("ann@example.com", "bounce")]:
        OptOut.objects.create(application=application, recipient=recipient, source=source)

    def found(**criteria) -> list[str]:
        return [e.recipient for e in opt_outs_filter(application=application, **criteria)]

    assert found(text="0821234567") == ["27821234567"]
    assert found(text=" example ") == ["ann@example.com"]
    assert found(source="reply") == ["27821234567"]
    assert found(text="ann", source="reply") == []
    assert found() == ["ann@example.com", "27821234567"]
