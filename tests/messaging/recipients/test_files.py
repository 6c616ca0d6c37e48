"""Uploaded recipient files: whatever a spreadsheet saved is read, and a file that cannot be
is refused as a whole, saying why."""

import io

import pytest
from django.test import override_settings

from messaging.models import Channel
from messaging.recipients.files import RecipientFileError, read_recipient_file
from messaging.recipients.parsing import MAX_LISTED_REJECTS
from tests.messaging.recipients.helpers import reasons, upload


def test_it_reads_a_plain_list_with_no_header():
    parsed = read_recipient_file(file=upload("0821234567\n0831234567\n"), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]


def test_it_skips_a_utf8_byte_order_mark():
    data = "\ufeffmsisdn\r\n0821234567\r\n".encode()
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected_total == 0


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_it_sniffs_the_separator_and_picks_the_header_column(separator):
    text = "\n".join(
        separator.join(row)
        for row in [
            ["name", "mobile", "city"],
            ["Jo", "082 123 4567", "Durban"],
            ["Sam", "12345", "Cape Town"],
            ["Lee", "0831234567", "Pretoria"],
        ]
    )
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]
    assert reasons(parsed) == ["line 3: '12345' is not a valid phone number for region ZA"]


def test_without_a_header_it_uses_the_first_column():
    text = "0821234567;Jo\n0831234567;Sam\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]


@pytest.mark.parametrize(
    "header",
    ["MSISDN", "Mobile Number", "Cell No.", "Phone", "phone_number", "Recipients", "Number"],
)
def test_it_recognises_phone_column_headers(header):
    text = f"Name,{header}\nJo,0821234567\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected_total == 0


@pytest.mark.parametrize("header", ["Email", "E-mail Address", "EMAIL_ADDRESS", "Address"])
def test_it_recognises_email_column_headers(header):
    text = f"Name,{header}\nJo,jo@example.com\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.EMAIL)
    assert parsed.accepted == ["jo@example.com"]
    assert parsed.rejected_total == 0


def test_with_both_kinds_of_column_it_picks_the_campaigns_channel():
    text = "email,name,mobile\njo@example.com,Jo,0821234567\n"
    sms = read_recipient_file(file=upload(text), channel=Channel.SMS)
    email = read_recipient_file(file=upload(text), channel=Channel.EMAIL)
    assert sms.accepted == ["27821234567"]
    assert email.accepted == ["jo@example.com"]


def test_a_header_of_the_other_channel_is_still_a_header():
    text = "name,email\nJo,jo@example.com\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert reasons(parsed) == ["line 2: 'jo@example.com' is not a phone number"]


@pytest.mark.parametrize(
    "text",
    [
        'name,phone\r\n"Soap, Jo; Mr","082 123 4567"\r\n"Lee\r\nSmith",12345\r\nSam,0831234567\r\n',
        'name;phone\r\n"Soap, Jo; Mr";"082 123 4567"\r\n"Lee\r\nSmith";12345\r\nSam;0831234567\r\n',
    ],
)
def test_quoted_fields_may_hold_separators_and_newlines(text):
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]
    assert [row.line for row in parsed.rejected] == [4]


def test_a_quoted_single_column_is_read():
    text = '"082 123 4567"\n"0831234567"\n'
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]


def test_a_file_already_read_by_a_validator_is_read_from_the_start():
    file = upload("0821234567\n")
    file.read()
    assert read_recipient_file(file=file, channel=Channel.SMS).accepted == ["27821234567"]


def test_crlf_line_numbers_count_physical_lines():
    text = "msisdn\r\n0821234567\r\n\r\nbad\r\n0831234567\r\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567", "27831234567"]
    assert reasons(parsed) == ["line 4: 'bad' is not a phone number"]


def test_blank_rows_are_skipped_but_a_row_missing_its_recipient_is_rejected():
    text = "name,phone\nJo,0821234567\n,,\n\nSam,\nLee\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert reasons(parsed) == ["line 5: no recipient given", "line 6: no recipient given"]


def test_it_reads_a_cp1252_file():
    data = "name;msisdn\r\nZoë;0821234567\r\nRené;café\r\n".encode("cp1252")
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected[0].value == "café"


def test_it_reads_bytes_that_are_not_even_cp1252():
    # 0x81 is undefined in cp1252, so only latin-1 reads it.
    data = b"msisdn\n0821234567\n\x81\xe9\n"
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected[0].value == "\x81é"


def test_it_reads_excels_utf16_unicode_text():
    data = "Name\tMobile\r\nJo\t082 123 4567\r\n".encode("utf-16")
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]


def test_it_reads_an_email_list_from_a_file():
    text = "Email\nJo@Example.com\njo@example.com\nnot an address\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.EMAIL)
    assert parsed.accepted == ["Jo@example.com"]
    assert parsed.duplicates == 1
    assert reasons(parsed) == ["line 4: 'not an address' is not a valid email address"]


def test_it_reads_a_plain_binary_file_object():
    parsed = read_recipient_file(file=io.BytesIO(b"0821234567\n"), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]


def test_ten_thousand_bad_rows_are_all_counted():
    text = "msisdn\n" + "".join(f"bad{i}\n" for i in range(10_000)) + "0821234567\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]
    assert parsed.rejected_total == 10_000
    assert len(parsed.rejected) == MAX_LISTED_REJECTS
    assert parsed.rejected[0].line == 2
    assert str(parsed.rejected[0]) == "line 2: 'bad0' is not a phone number"


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n\t\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused_clearly(data):
    with pytest.raises(RecipientFileError, match=r"empty|no recipients"):
        read_recipient_file(file=upload(data), channel=Channel.SMS)


def test_a_file_with_only_a_header_is_refused_clearly():
    with pytest.raises(RecipientFileError, match="no recipients"):
        read_recipient_file(file=upload("msisdn\r\n\r\n"), channel=Channel.SMS)


def test_a_spreadsheet_is_refused_with_advice_to_save_as_csv():
    data = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
    with pytest.raises(RecipientFileError, match="Save it as CSV"):
        read_recipient_file(file=upload(data, name="list.xlsx"), channel=Channel.SMS)


@override_settings(RECIPIENTS_MAX_UPLOAD_BYTES=100)
def test_an_upload_over_the_size_cap_is_refused():
    with pytest.raises(RecipientFileError, match="larger than 100"):
        read_recipient_file(file=upload(b"0821234567\n" * 10), channel=Channel.SMS)


@override_settings(RECIPIENTS_MAX_UPLOAD_BYTES=100)
def test_an_upload_of_exactly_the_cap_is_read():
    data = (b"0821234567\n" * 10)[:99] + b"\n"
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    assert parsed.accepted == ["27821234567"]


@override_settings(RECIPIENTS_MAX_UPLOAD_BYTES=100)
def test_a_stream_without_a_size_is_still_capped():
    with pytest.raises(RecipientFileError, match="larger than"):
        read_recipient_file(file=io.BytesIO(b"0" * 101), channel=Channel.SMS)


@override_settings(RECIPIENTS_MAX_UPLOAD_BYTES=100)
def test_an_upload_that_says_it_is_too_large_is_not_read():
    class Huge(io.BytesIO):
        size = 10**9

        def read(self, *args):
            raise AssertionError("read a file already known to be too large")

    with pytest.raises(RecipientFileError, match="larger than"):
        read_recipient_file(file=Huge(), channel=Channel.SMS)


# --- fields -------------------------------------------------------------------------------------


def test_with_a_header_every_other_column_is_a_field_of_its_rows_recipient():
    text = (
        "First Name,Mobile,Amount (ZAR),City\n"
        "  Thandi ,082 123 4567,1 234.50,Durban\n"
        "Sam,0831234567,,\n"
        "Lee,0841234567\n"
    )
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.field_names == ("first_name", "amount_zar", "city")
    assert parsed.fields == {
        "27821234567": {"first_name": "Thandi", "amount_zar": "1 234.50", "city": "Durban"},
        # Empty cells and cells the row does not reach are no value.
        "27831234567": {"first_name": "Sam"},
        "27841234567": {"first_name": "Lee"},
    }


def test_a_list_without_a_header_has_no_fields():
    parsed = read_recipient_file(
        file=upload("0821234567;Jo\n0831234567;Sam\n"), channel=Channel.SMS
    )
    assert parsed.fields == {} and parsed.field_names == ()


def test_a_column_whose_header_names_nothing_is_left_out():
    text = "msisdn,name,,--\n0821234567,Jo,x,y\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.field_names == ("name",)
    assert parsed.fields == {"27821234567": {"name": "Jo"}}


def test_a_value_over_a_thousand_characters_rejects_its_row_only():
    long = "x" * 1001
    text = f"msisdn,note\n0821234567,{long}\n0831234567,short\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)
    assert parsed.accepted == ["27831234567"]
    assert reasons(parsed) == ["line 2: note is 1,001 characters; a field holds at most 1,000"]
    assert parsed.fields == {"27831234567": {"note": "short"}}


def test_more_than_fifty_field_columns_refuse_the_file():
    header = ",".join(["msisdn", *(f"c{n}" for n in range(51))])
    with pytest.raises(
        RecipientFileError, match=r"51 columns besides the recipient.s; .* at most 50"
    ):
        read_recipient_file(file=upload(f"{header}\n0821234567\n"), channel=Channel.SMS)


def test_fifty_field_columns_are_kept():
    header = ",".join(["msisdn", *(f"c{n}" for n in range(50))])
    values = ",".join(["0821234567", *(str(n) for n in range(50))])
    parsed = read_recipient_file(file=upload(f"{header}\n{values}\n"), channel=Channel.SMS)
    assert len(parsed.fields["27821234567"]) == 50


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("msisdn,First Name,first-name", "both make the field name first_name"),
        ("msisdn,Unsubscribe URL", "is a built-in placeholder"),
    ],
)
def test_a_header_whose_names_cannot_be_fields_refuses_the_file(header, words):
    with pytest.raises(RecipientFileError, match=words):
        read_recipient_file(file=upload(f"{header}\n0821234567,a,b\n"), channel=Channel.SMS)
