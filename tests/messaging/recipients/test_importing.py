"""Importing into a campaign: DRAFT messages for new recipients only, in the list's order, and
only while the campaign has not been launched."""

import random
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import (
    Campaign,
    CampaignState,
    Channel,
    Message,
    MessageState,
    OptOutSource,
)
from messaging.optouts import opt_out_record
from messaging.recipients.files import read_recipient_file
from messaging.recipients.importing import (
    CampaignNotEditable,
    _insert_drafts,
    campaign_add_recipients,
)
from messaging.recipients.parsing import parse_recipients
from tests.messaging.recipients.helpers import upload


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


# --- the opt-out list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_opted_out_recipient_is_rejected_with_when_and_how(make_campaign, application):
    opt_out_record(application=application, recipient="27831234567", source=OptOutSource.REPLY)
    campaign = make_campaign()
    parsed = parse_recipients(lines="0821234567\nbad\n083 123 4567\n", channel=Channel.SMS)

    result = campaign_add_recipients(campaign=campaign, parsed=parsed)

    # The portal's day (TIME_ZONE), which is not UTC's for two hours each night.
    today = timezone.localdate().isoformat()
    assert result.added == 1
    assert (result.already_present, result.rejected_total) == (0, 2)
    # In line order, beside the rows the parse rejected.
    assert [str(row) for row in result.rejected] == [
        "line 2: 'bad' is not a phone number",
        f"line 3: opted out on {today} (Reply)",
    ]
    assert result.rejected[1].value == "27831234567"
    assert list(campaign.messages.values_list("recipient", flat=True)) == ["27821234567"]


@pytest.mark.django_db
def test_only_the_campaigns_own_application_list_counts(
    make_campaign, application, other_application
):
    opt_out_record(application=other_application, recipient="27821234567", source="manual")
    parsed = parse_recipients(lines="0821234567", channel=Channel.SMS)

    result = campaign_add_recipients(campaign=make_campaign(), parsed=parsed)

    assert (result.added, result.rejected_total) == (1, 0)


@pytest.mark.django_db
def test_the_opt_out_check_is_one_lookup_for_the_whole_list(make_campaign, application):
    numbers = [f"278210{n:05d}" for n in range(3000)]
    for number in numbers[::100]:
        opt_out_record(application=application, recipient=number, source="manual")
    campaign = make_campaign()
    parsed = parse_recipients(lines="\n".join(numbers), channel=Channel.SMS)

    with CaptureQueriesContext(connection) as queries:
        result = campaign_add_recipients(campaign=campaign, parsed=parsed)

    assert (result.added, result.rejected_total) == (2970, 30)
    lookups = [q["sql"] for q in queries.captured_queries if "messaging_optout" in q["sql"]]
    assert len(lookups) == 1


# --- fields -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_message_stores_its_own_fields_once(make_campaign):
    campaign = make_campaign()
    text = 'msisdn,First Name,Amount\n0821234567,Thandi,"1 234.50"\n0831234567,,\n'
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)

    result = campaign_add_recipients(campaign=campaign, parsed=parsed)

    assert result.added == 2
    assert dict(campaign.messages.values_list("recipient", "fields")) == {
        "27821234567": {"first_name": "Thandi", "amount": "1 234.50"},
        "27831234567": None,
    }
    # Stored as JSON the database can query, as the launch check does.
    assert campaign.messages.filter(fields__has_key="amount").count() == 1


@pytest.mark.django_db
def test_a_recipient_already_present_keeps_its_fields(make_campaign):
    campaign = make_campaign()
    first = read_recipient_file(file=upload("msisdn,name\n0821234567,Old\n"), channel=Channel.SMS)
    again = read_recipient_file(file=upload("msisdn,name\n0821234567,New\n"), channel=Channel.SMS)
    campaign_add_recipients(campaign=campaign, parsed=first)
    result = campaign_add_recipients(campaign=campaign, parsed=again)
    assert (result.added, result.already_present) == (0, 1)
    assert campaign.messages.get().fields == {"name": "Old"}


@pytest.mark.django_db
def test_it_warns_of_added_rows_missing_a_field_the_content_uses(make_campaign):
    campaign = make_campaign(
        body_text='Hi {{ first_name }}, R{{ amount }} due, {{ city|default:"" }} {{ recipient }}'
    )
    text = "msisdn,first_name,amount\n0821234567,Thandi,10\n0831234567,,5\n0841234567,Lee,\n"
    parsed = read_recipient_file(file=upload(text), channel=Channel.SMS)

    result = campaign_add_recipients(campaign=campaign, parsed=parsed)

    assert result.added == 3  # a warning, not a rejection
    assert [(m.name, m.count, m.examples) for m in result.missing_fields] == [
        ("amount", 1, ("27841234567",)),
        ("first_name", 1, ("27831234567",)),
    ]
    assert result.warnings == [
        "{{ amount }} has no fallback and 1 recipient has no amount: 27841234567.",
        "{{ first_name }} has no fallback and 1 recipient has no first_name: 27831234567.",
    ]


@pytest.mark.django_db
def test_the_warning_names_the_first_few_and_counts_the_rest(make_campaign):
    campaign = make_campaign(body_text="Hi {{ name }}")
    parsed = parse_recipients(
        lines="\n".join(f"08212345{n:02d}" for n in range(8)), channel=Channel.SMS
    )
    result = campaign_add_recipients(campaign=campaign, parsed=parsed)
    assert result.warnings == [
        "{{ name }} has no fallback and 8 recipients have no name: 27821234500, 27821234501, "
        "27821234502, 27821234503, 27821234504 and 3 more."
    ]


@pytest.mark.django_db
def test_content_without_placeholders_warns_of_nothing(make_campaign):
    campaign = make_campaign(body_text="Hi")
    result = campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines="0821234567", channel=Channel.SMS)
    )
    assert result.warnings == []
