"""reports.exports: a campaign's messages as CSV lines, generated chunk by chunk."""

import csv
import io
from datetime import UTC, datetime

import pytest

from messaging.models import Message, MessageState
from postbacks.models import Reply, ReplyKind
from reports import exports
from reports.exports import (
    HEADER,
    HEADER_WITH_REPLIES,
    campaign_export_filename,
    campaign_export_rows,
    csv_cell,
)
from tests.messaging.compose_helpers import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(application):
    """Without messages: each test adds the messages it exports."""
    return make_campaign("sms", application=application, name="Spring sale")


def read(campaign) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(campaign_export_rows(campaign=campaign)))))


def test_it_writes_a_header_then_one_row_per_message_in_id_order(campaign):
    first = Message.objects.create(campaign=campaign, recipient="27820000001")
    second = Message.objects.create(campaign=campaign, recipient="27820000002")
    lines = list(campaign_export_rows(campaign=campaign))
    assert next(csv.reader([lines[0]])) == HEADER_WITH_REPLIES
    rows = read(campaign)
    assert [row["id"] for row in rows] == [str(first.id), str(second.id)]


def test_every_column_is_filled_and_times_are_iso_8601(campaign):
    sent_at = datetime(2026, 11, 25, 8, 30, 5, tzinfo=UTC)
    Message.objects.create(
        campaign=campaign,
        recipient="27820000001",
        state=MessageState.DELIVERED,
        network="vodacom",
        iliveit_id="abc123",
        attempts=2,
        last_error="timed out once",
        submitted_at=sent_at,
        submit_code=2,
        submit_description="Submitted",
        submit_at=sent_at,
        delivered_code=1,
        delivered_description="Delivered",
        delivered_at=sent_at,
    )
    (row,) = read(campaign)
    assert row["recipient"] == "27820000001"
    assert row["state"] == "delivered"
    assert row["network"] == "vodacom"
    assert row["iliveit_message_id"] == "abc123"
    assert row["attempts"] == "2"
    assert row["last_error"] == "timed out once"
    assert datetime.fromisoformat(row["submitted_at"]) == sent_at
    # In TIME_ZONE (Africa/Johannesburg in tests), with its offset, as the pages show it.
    assert row["submitted_at"] == "2026-11-25T10:30:05+02:00"
    assert row["submit_code"] == "2"
    assert row["submit_description"] == "Submitted"
    assert datetime.fromisoformat(row["delivered_at"]) == sent_at
    # Stages never reported are empty, not "None".
    assert row["build_code"] == row["build_at"] == row["build_description"] == ""


def test_it_leaves_out_test_sends_and_other_campaigns(campaign):
    Message.objects.create(campaign=campaign, recipient="27820000001")
    Message.objects.create(campaign=campaign, recipient="27820000002", is_test=True)
    other = make_campaign("sms", application=campaign.application)
    Message.objects.create(campaign=other, recipient="27820000003")
    assert [row["recipient"] for row in read(campaign)] == ["27820000001"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_a_cell_that_would_run_as_a_formula_is_quoted(campaign, start):
    Message.objects.create(
        campaign=campaign,
        recipient=f"{start}cmd|' /C calc'!A0",
        state=MessageState.FAILED,
        sent_code=2,
        sent_description=f'{start}HYPERLINK("http://evil.example")',
    )
    (row,) = read(campaign)
    assert row["recipient"] == f"'{start}cmd|' /C calc'!A0"
    assert row["sent_description"].startswith(f"'{start}HYPERLINK")


def test_numbers_the_portal_wrote_are_not_quoted():
    assert csv_cell(-3) == -3
    assert csv_cell(None) == ""
    assert csv_cell("27820000001") == "27820000001"


def test_rows_are_read_lazily_a_chunk_at_a_time(campaign, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(5)
    )
    rows = campaign_export_rows(campaign=campaign)
    with django_assert_num_queries(0):
        next(rows)  # the header is written before any message is read
    with django_assert_num_queries(2):  # the messages, and the first chunk's replies
        assert next(rows).count("\r\n") == 2  # a chunk's lines come as one piece
    with django_assert_num_queries(2):  # the two other chunks' replies
        assert "".join(rows).count("\r\n") == 3


def test_times_keep_their_microseconds_and_their_moment(campaign):
    sent_at = datetime(2026, 11, 25, 23, 59, 59, 123456, tzinfo=UTC)
    Message.objects.create(campaign=campaign, recipient="27820000001", submitted_at=sent_at)
    (row,) = read(campaign)
    # The next day in Africa/Johannesburg.
    assert row["submitted_at"] == "2026-11-26T01:59:59.123456+02:00"


def test_the_filename_is_safe_whatever_the_campaign_is_called(campaign):
    campaign.name = 'Sale "50%" ../../etc\r\nX-Evil: 1'
    name = campaign_export_filename(campaign=campaign)
    assert name == f"messages-{campaign.pk}-sale-50-etc-x-evil-1.csv"
    campaign.name = "Ünïcödé ☃"
    assert campaign_export_filename(campaign=campaign) == f"messages-{campaign.pk}-unicode.csv"
    campaign.name = "☃☃"
    assert campaign_export_filename(campaign=campaign) == f"messages-{campaign.pk}-campaign.csv"


def reply(message, text, *, at):
    made = Reply.objects.create(
        message=message,
        kind=ReplyKind.SMS,
        sender=message.recipient,
        text=text,
        content_hash=text,
    )
    Reply.objects.filter(pk=made.pk).update(received_at=at)


def test_each_row_ends_with_its_reply_count_and_latest_reply(campaign):
    asked = Message.objects.create(campaign=campaign, recipient="27820000001")
    Message.objects.create(campaign=campaign, recipient="27820000002")
    reply(asked, "Yes please", at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    reply(asked, "STOP", at=datetime(2026, 11, 25, 9, 15, tzinfo=UTC))

    answered, silent = read(campaign)

    assert answered["replies"] == "2"
    assert answered["last_reply"] == "STOP"
    assert answered["last_reply_at"] == "2026-11-25T11:15:00+02:00"
    assert silent["replies"] == "0"
    assert silent["last_reply"] == silent["last_reply_at"] == ""


def test_a_reply_that_would_run_as_a_formula_is_quoted(campaign):
    message = Message.objects.create(campaign=campaign, recipient="27820000001")
    reply(message, "=HYPERLINK(1)", at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    (row,) = read(campaign)
    assert row["last_reply"] == "'=HYPERLINK(1)"


def test_without_replies_the_reply_columns_are_left_out(campaign):
    message = Message.objects.create(campaign=campaign, recipient="27820000001")
    reply(message, "private", at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    lines = list(campaign_export_rows(campaign=campaign, with_replies=False))
    assert next(csv.reader([lines[0]])) == HEADER
    assert "private" not in "".join(lines)


def test_replies_are_read_a_chunk_at_a_time_and_land_on_their_own_rows(
    campaign, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    messages = [
        Message.objects.create(campaign=campaign, recipient=f"2782000000{n}") for n in range(5)
    ]
    test_send = Message.objects.create(campaign=campaign, recipient="27829999999", is_test=True)
    for message in [*messages[1::2], test_send]:
        reply(message, f"from {message.recipient}", at=datetime(2026, 11, 25, 8, tzinfo=UTC))

    with django_assert_max_num_queries(8):  # the messages, then one query per chunk of 2
        rows = read(campaign)

    assert [row["last_reply"] for row in rows] == [
        "",
        "from 27820000001",
        "",
        "from 27820000003",
        "",
    ]
    assert [row["replies"] for row in rows] == ["0", "1", "0", "1", "0"]
