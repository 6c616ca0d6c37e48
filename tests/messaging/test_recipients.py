import io
import random
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.recipients import (
    MAX_LISTED_REJECTS,
    CampaignNotEditable,
    InvalidRecipient,
    ParsedRecipients,
    RecipientFileError,
    campaign_add_recipients,
    normalise_recipient,
    parse_recipients,
    read_recipient_file,
)
from messaging.recipients.importing import _insert_drafts
from messaging.recipients.normalise import _parse_msisdn, _quick_msisdn


@pytest.fixture
def application():
    return Application.objects.create(
        name="Recipients test", endpoint="http://127.0.0.1:1", token="t" * 20, mvno_id=1
    )


@pytest.fixture
def make_campaign(application):
    def make(channel: str = Channel.SMS, state: str = CampaignState.DRAFT) -> Campaign:
        return Campaign.objects.create(
            name="Import", channel=channel, application=application, state=state
        )

    return make


def upload(text: str | bytes, name: str = "recipients.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def reasons(parsed: ParsedRecipients) -> list[str]:
    return [str(row) for row in parsed.rejected]


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


# --- parse_recipients ------------------------------------------------------------------------


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


# --- read_recipient_file ---------------------------------------------------------------------


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


# --- campaign_add_recipients -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_adds_draft_messages_for_the_accepted_recipients(make_campaign):
    campaign = make_campaign()
    parsed = parse_recipients(lines="0821234567\n0831234567\nbad\n", channel=Channel.SMS)

    result = campaign_add_recipients(campaign=campaign, parsed=parsed)

    assert result.added == 2
    assert result.already_present == 0
    assert [str(row) for row in result.rejected] == ["line 3: 'bad' is not a phone number"]
    assert result.rejected_total == 1
    messages = Message.objects.filter(campaign=campaign)
    assert sorted(messages.values_list("recipient", flat=True)) == ["27821234567", "27831234567"]
    assert set(messages.values_list("state", flat=True)) == {MessageState.DRAFT}
    assert not messages.filter(is_test=True).exists()
    assert len(set(messages.values_list("ref", flat=True))) == 2


@pytest.mark.django_db
def test_a_second_upload_skips_recipients_already_in_the_campaign(make_campaign):
    campaign = make_campaign()
    first = parse_recipients(lines="0821234567\n0831234567", channel=Channel.SMS)
    campaign_add_recipients(campaign=campaign, parsed=first)
    second = read_recipient_file(
        file=upload("msisdn\n+27 83 123 4567\n0841234567\n0841234567\n"), channel=Channel.SMS
    )

    result = campaign_add_recipients(campaign=campaign, parsed=second)

    assert (result.added, result.already_present, result.duplicates) == (1, 1, 1)
    assert Message.objects.filter(campaign=campaign).count() == 3


@pytest.mark.django_db
def test_email_recipients_already_present_compare_case_insensitively(make_campaign):
    campaign = make_campaign(channel=Channel.EMAIL)
    campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines=["jo@example.com"], channel="email")
    )
    again = parse_recipients(lines=["JO@Example.com", "sam@example.com"], channel=Channel.EMAIL)

    result = campaign_add_recipients(campaign=campaign, parsed=again)

    assert (result.added, result.already_present) == (1, 1)
    assert Message.objects.filter(campaign=campaign).count() == 2


@pytest.mark.django_db
def test_a_test_send_to_a_recipient_does_not_count_as_present(make_campaign):
    campaign = make_campaign()
    Message.objects.create(campaign=campaign, recipient="27821234567", is_test=True)

    result = campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines="0821234567", channel=Channel.SMS)
    )

    assert result.added == 1
    assert Message.objects.filter(campaign=campaign, is_test=False).count() == 1


@pytest.mark.django_db
def test_a_single_send_to_a_recipient_does_not_count_as_present(make_campaign):
    campaign = make_campaign()
    Message.objects.create(campaign=campaign, recipient="27821234567", is_single=True)

    result = campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines="0821234567", channel=Channel.SMS)
    )

    assert result.added == 1


@pytest.mark.django_db
def test_messages_are_numbered_in_the_order_of_the_list(make_campaign):
    # A canary launch queues the lowest ids first: they must be the top of the list.
    campaign = make_campaign()
    numbers = [f"27{prefix}{n:07d}" for n in range(2500) for prefix in ("83", "82")][::-1]
    campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines=numbers, channel=Channel.SMS)
    )

    stored = Message.objects.filter(campaign=campaign).order_by("id")
    assert list(stored.values_list("recipient", flat=True)) == numbers


@pytest.mark.django_db
def test_other_campaigns_recipients_do_not_count_as_present(make_campaign):
    other, campaign = make_campaign(), make_campaign()
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)
    campaign_add_recipients(campaign=other, parsed=parsed)

    assert campaign_add_recipients(campaign=campaign, parsed=parsed).added == 1


@pytest.mark.django_db
def test_a_scheduled_campaign_still_takes_recipients(make_campaign):
    campaign = make_campaign(state=CampaignState.SCHEDULED)
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)
    assert campaign_add_recipients(campaign=campaign, parsed=parsed).added == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state",
    [CampaignState.SENDING, CampaignState.PAUSED, CampaignState.DONE, CampaignState.CANCELLED],
)
def test_it_refuses_a_campaign_that_has_been_launched(make_campaign, state):
    campaign = make_campaign(state=state)
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)

    with pytest.raises(CampaignNotEditable):
        campaign_add_recipients(campaign=campaign, parsed=parsed)
    assert not Message.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db
def test_it_checks_the_state_in_the_database_not_the_stale_object(make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.SENDING)
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)

    with pytest.raises(CampaignNotEditable, match="Sending"):
        campaign_add_recipients(campaign=campaign, parsed=parsed)


@pytest.mark.django_db
def test_it_refuses_recipients_parsed_for_another_channel(make_campaign):
    campaign = make_campaign(channel=Channel.EMAIL)
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)

    with pytest.raises(ValueError, match="parsed for sms"):
        campaign_add_recipients(campaign=campaign, parsed=parsed)


@pytest.mark.django_db
def test_an_empty_parse_adds_nothing(make_campaign):
    campaign = make_campaign()
    result = campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines="", channel=Channel.SMS)
    )
    assert (result.added, result.already_present, result.rejected_total) == (0, 0, 0)


def hundred_thousand_row_csv() -> tuple[bytes, set[str]]:
    """100k rows in three shapes, some repeated and some bad; answers the file and the set of
    distinct valid numbers in it."""
    rng = random.Random(7)
    shapes = ("0{} {} {}", "+27 {} {} {}", "27{}{}{}")
    rows, expected = ["Name;Mobile"], set()
    for i in range(100_000):
        if i % 1000 == 999:
            rows.append(f"Person {i};12345")
            continue
        parts = (rng.choice(("82", "83", "72", "84")), f"{rng.randrange(1000):03d}", "")
        parts = (*parts[:2], f"{rng.randrange(10000):04d}")
        rows.append(f"Person {i};{rng.choice(shapes).format(*parts)}")
        expected.add("27" + "".join(parts))
    return "\r\n".join(rows).encode(), expected


@pytest.mark.slow
@pytest.mark.django_db
def test_a_hundred_thousand_row_upload_imports_in_seconds(make_campaign):
    campaign = make_campaign()
    data, expected = hundred_thousand_row_csv()

    start = time.perf_counter()
    parsed = read_recipient_file(file=upload(data), channel=Channel.SMS)
    result = campaign_add_recipients(campaign=campaign, parsed=parsed)
    elapsed = time.perf_counter() - start

    assert parsed.rejected_total == 100
    assert len(parsed.accepted) == len(expected)
    assert parsed.duplicates == 100_000 - 100 - len(expected)
    assert result.added == len(expected)
    assert Message.objects.filter(campaign=campaign).count() == len(expected)
    # Generous: a shared CI box varies by a factor of several; this catches a quadratic slip.
    assert elapsed < 60


@pytest.mark.django_db
def test_imported_rows_carry_the_models_defaults(make_campaign):
    campaign = make_campaign()
    parsed = parse_recipients(lines="0821234567\n0831234567", channel=Channel.SMS)
    campaign_add_recipients(campaign=campaign, parsed=parsed)

    first, second = Message.objects.filter(campaign=campaign)
    assert first.uuid != second.uuid
    assert first.ref != second.ref and len(first.ref) >= 20
    assert (first.is_test, first.body, first.iliveit_id, first.attempts) == (False, None, None, 0)
    assert first.created_at is not None and first.updated_at is not None
    assert first.last_error == "" and first.network == ""


@pytest.mark.django_db
def test_a_row_the_constraint_refuses_is_not_counted_as_added(make_campaign):
    # As if another writer added the recipient between our read of the campaign and our insert.
    campaign = make_campaign()
    Message.objects.create(campaign=campaign, recipient="27821234567")

    assert _insert_drafts(campaign, ["27821234567", "27831234567"]) == 1
    assert Message.objects.filter(campaign=campaign).count() == 2
