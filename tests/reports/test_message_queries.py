"""reports.message_queries: the message list's filters, keyset paging and the latest stage;
archived content is tested through its page in tests/reports/views/test_messages.py (against
the sandbox)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iliveit.responses import ArchivedMessage
from messaging.models import Message, MessageState
from reports.message_queries import (
    LONG_TEXT,
    StageReport,
    archived_data_text,
    message_failure,
    message_filter_choices,
    message_latest_stage,
    message_stages,
    message_summary,
    messages_filter,
    messages_page,
    messages_page_before,
)
from tests.messaging.compose_helpers import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(application):
    """Without messages: each test adds the messages it lists."""
    return make_campaign("sms", application=application)


def add(campaign, recipient, **fields) -> Message:
    return Message.objects.create(campaign=campaign, recipient=recipient, **fields)


def ids(querysets, **kwargs) -> list[int]:
    return [message.id for message in messages_page(querysets=querysets, **kwargs).messages]


def test_it_lists_a_campaigns_messages_by_id_across_states(campaign):
    first = add(campaign, "27820000001", state=MessageState.DELIVERED)
    second = add(campaign, "27820000002", state=MessageState.QUEUED)
    third = add(campaign, "27820000003", state=MessageState.FAILED)
    assert ids(messages_filter(campaign=campaign)) == [first.id, second.id, third.id]


def test_it_leaves_out_test_sends_and_other_campaigns(campaign):
    kept = add(campaign, "27820000001")
    add(campaign, "27820000009", is_test=True)
    add(make_campaign("sms", application=campaign.application), "27820000001")
    assert ids(messages_filter(campaign=campaign)) == [kept.id]


def test_the_state_filter_keeps_one_state(campaign):
    add(campaign, "27820000001", state=MessageState.DELIVERED)
    failed = add(campaign, "27820000002", state=MessageState.FAILED)
    querysets = messages_filter(campaign=campaign, state=MessageState.FAILED)
    assert ids(querysets) == [failed.id]


def test_the_network_filter_is_exact(campaign):
    vodacom = add(campaign, "27820000001", network="vodacom")
    add(campaign, "27820000002", network="vodacom-za")
    add(campaign, "27820000003", network="")
    assert ids(messages_filter(campaign=campaign, network="vodacom")) == [vodacom.id]


def test_the_failure_code_matches_a_failed_message_at_any_stage(campaign):
    at_submit = add(campaign, "27820000001", state=MessageState.FAILED, submit_code=9)
    at_delivery = add(
        campaign, "27820000002", state=MessageState.FAILED, submit_code=2, delivered_code=9
    )
    add(campaign, "27820000003", state=MessageState.FAILED, submit_code=3)
    # The same code on a message that did not fail is not a failure.
    add(campaign, "27820000004", state=MessageState.DELIVERED, build_code=9)
    querysets = messages_filter(campaign=campaign, failure_code=9)
    assert ids(querysets) == [at_submit.id, at_delivery.id]


def test_the_recipient_search_is_a_case_insensitive_prefix(campaign):
    ann = add(campaign, "Ann@example.com")
    add(campaign, "joann@example.com")
    anna = add(campaign, "anna@example.com")
    assert ids(messages_filter(campaign=campaign, recipient="ann")) == [ann.id, anna.id]


def test_filters_combine(campaign):
    wanted = add(campaign, "27821000001", state=MessageState.FAILED, network="mtn", sent_code=2)
    add(campaign, "27821000002", state=MessageState.FAILED, network="cellc", sent_code=2)
    add(campaign, "27831000003", state=MessageState.FAILED, network="mtn", sent_code=2)
    querysets = messages_filter(campaign=campaign, network="mtn", failure_code=2, recipient="2782")
    assert ids(querysets) == [wanted.id]


def _mixed_messages(campaign, count: int) -> list[int]:
    """`count` messages in turn delivered, failed and queued; answer their ids in order."""
    states = [MessageState.DELIVERED, MessageState.FAILED, MessageState.QUEUED]
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}", state=states[n % 3])
        for n in range(count)
    )
    return list(campaign.messages.order_by("id").values_list("id", flat=True))


def test_page_two_starts_after_page_ones_last_id_without_repeats(campaign):
    all_ids = _mixed_messages(campaign, 120)
    querysets = messages_filter(campaign=campaign)

    first = messages_page(querysets=querysets)
    assert [m.id for m in first.messages] == all_ids[:50]
    assert first.next_after == all_ids[49]
    second = messages_page(querysets=querysets, after=first.next_after)
    assert [m.id for m in second.messages] == all_ids[50:100]
    third = messages_page(querysets=querysets, after=second.next_after)
    assert [m.id for m in third.messages] == all_ids[100:]
    assert third.next_after is None
    seen = [m.id for page in (first, second, third) for m in page.messages]
    assert len(seen) == len(set(seen)) == 120


def test_a_full_last_page_has_no_next(campaign):
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(50)
    )
    page = messages_page(querysets=messages_filter(campaign=campaign))
    assert len(page.messages) == 50
    assert page.next_after is None


def test_the_last_page_holds_the_last_messages_and_walks_back_to_the_first(campaign):
    all_ids = _mixed_messages(campaign, 120)
    querysets = messages_filter(campaign=campaign)

    last = messages_page_before(querysets=querysets)
    assert [m.id for m in last.messages] == all_ids[70:]
    assert last.next_after is None
    assert last.previous_before == all_ids[70]
    middle = messages_page_before(querysets=querysets, before=last.previous_before)
    assert [m.id for m in middle.messages] == all_ids[20:70]
    assert middle.next_after == all_ids[69]
    assert middle.previous_before == all_ids[20]
    # Fewer than a page lie before: the first page, as the "First page" link shows it.
    first = messages_page_before(querysets=querysets, before=middle.previous_before)
    assert [m.id for m in first.messages] == all_ids[:50]
    assert first.previous_before is None
    assert first.next_after == all_ids[49]


def test_a_page_after_another_knows_where_the_previous_one_ends(campaign):
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(60)
    )
    all_ids = list(campaign.messages.order_by("id").values_list("id", flat=True))
    querysets = messages_filter(campaign=campaign)
    assert messages_page(querysets=querysets).previous_before is None
    second = messages_page(querysets=querysets, after=all_ids[49])
    assert second.previous_before == all_ids[50]


def test_a_last_page_of_a_short_list_is_the_whole_list(campaign):
    kept = [add(campaign, f"2782000000{n}").id for n in range(3)]
    page = messages_page_before(querysets=messages_filter(campaign=campaign))
    assert [m.id for m in page.messages] == kept
    assert page.next_after is page.previous_before is None


def _page_sql(campaign, read_page) -> list[str]:
    """The statements one page read makes, upper-cased: one per state, none counting or
    skipping rows by OFFSET."""
    add(campaign, "27820000001")
    with CaptureQueriesContext(connection) as queries:
        read_page(querysets=messages_filter(campaign=campaign))
    assert len(queries) == len(MessageState.values)
    statements = [query["sql"].upper() for query in queries]
    for sql in statements:
        assert "COUNT(" not in sql
        assert "OFFSET" not in sql
    return statements


def test_the_last_page_reads_each_states_top_rows_without_counting_or_offsets(campaign):
    for sql in _page_sql(campaign, messages_page_before):
        assert "DESC LIMIT 51" in sql


def test_a_page_reads_each_states_next_rows_without_counting_or_offsets(campaign):
    for sql in _page_sql(campaign, messages_page):
        assert "LIMIT 51" in sql


def test_the_latest_stage_is_the_one_reported_last():
    now = timezone.now()
    message = Message(
        submit_code=2,
        submit_description="Submitted",
        submit_at=now - timedelta(minutes=2),
        archive_code=4,
        archive_description="Archived",
        archive_at=now - timedelta(minutes=1),
    )
    latest = message_latest_stage(message=message)
    assert (latest.stage, latest.code, latest.description) == ("archive", 4, "Archived")


def test_the_latest_stage_prefers_the_later_stage_on_a_tie_and_is_none_before_reports():
    now = timezone.now()
    message = Message(sent_code=1, sent_at=now, delivered_code=1, delivered_at=now)
    assert message_latest_stage(message=message).stage == "delivered"
    assert message_latest_stage(message=Message()) is None


def test_every_stage_is_listed_in_pipeline_order():
    stages = message_stages(message=Message(build_code=14))
    assert [stage.stage for stage in stages] == ["build", "archive", "submit", "sent", "delivered"]
    assert stages[0].code == 14
    assert stages[1].code is None


def test_archived_data_is_indented_json_with_long_strings_cut():
    archived = ArchivedMessage(
        type="mms", date_created=None, data={"slides": [{"data": "A" * (LONG_TEXT + 10)}]}
    )
    text = archived_data_text(data=archived.data)
    assert '\n  "slides": [' in text
    assert f"({LONG_TEXT + 10} characters in all)" in text
    assert "A" * (LONG_TEXT + 1) not in text


@pytest.mark.parametrize(
    ("stage", "code", "description", "sentence"),
    [
        ("delivered", 1, "Delivered", "Delivered"),
        (
            "delivered",
            12,
            "Assumed Delivered",
            "Assumed delivered (no report from the network in 72 hours)",
        ),
        ("sent", 1, "OK", "Sent"),
        ("submit", 2, "Submitted", "Submitted"),
        ("archive", 4, "Archived", "Archived"),
        ("build", 14, "RenderFarmSuccess", "Built"),
        ("build", 13, "RenderFarmSent", "Build: RenderFarmSent"),
        ("sent", 5, "Network rejected", "Failed at sending: Network rejected (code 5)"),
        ("delivered", 27, "", "Failed at delivery: no reason given (code 27)"),
        ("submit", 3, "SubmitFailed", "Failed at submit: SubmitFailed (code 3)"),
    ],
)
def test_a_stage_reads_as_a_sentence(stage, code, description, sentence):
    assert StageReport(stage, code, description, None).sentence == sentence


def test_a_failed_message_names_its_first_failing_stage():
    now = timezone.now()
    message = Message(
        state=MessageState.FAILED,
        submit_code=2,
        sent_code=5,
        sent_description="Network rejected",
        sent_at=now,
        delivered_code=27,
        delivered_description="Absent subscriber",
    )
    failure = message_failure(message=message)
    assert (failure.stage, failure.code, failure.at) == ("sent", 5, now)
    assert message_summary(message=message) == failure


def test_a_failure_with_no_stage_code_is_its_last_error():
    refused = Message(state=MessageState.FAILED, last_error="401: bad token")
    lost = Message(state=MessageState.FAILED, iliveit_id="m-1", last_error="superseded")
    assert message_failure(message=refused).sentence == "Failed at submission: 401: bad token"
    assert message_failure(message=lost).sentence == "Failed at an unknown stage: superseded"
    assert message_failure(message=Message(state=MessageState.DELIVERED)) is None


@pytest.mark.django_db
def test_filter_choices_are_the_campaigns_own_networks_and_failure_codes(application):
    campaign = make_campaign("sms", application=application)
    other = make_campaign("sms", application=application)
    campaign.messages.create(recipient="1", state=MessageState.DELIVERED, network="Vodacom")
    campaign.messages.create(recipient="2", state=MessageState.QUEUED)  # no network yet
    campaign.messages.create(
        recipient="3",
        state=MessageState.FAILED,
        network="MTN",
        iliveit_id="m3",
        sent_code=5,
        sent_description="Network rejected",
    )
    campaign.messages.create(recipient="4", state=MessageState.FAILED, last_error="refused")
    other.messages.create(
        recipient="5",
        state=MessageState.FAILED,
        network="Cell C",
        iliveit_id="m5",
        delivered_code=27,
        delivered_description="Absent",
    )

    choices = message_filter_choices(campaign=campaign)

    assert choices.networks == ["MTN", "Vodacom"]
    # Code 0 (a failure with no code) cannot be filtered on, so it is not offered.
    assert choices.failure_codes == [(5, "5 · Network rejected (sending)")]


@pytest.mark.django_db
def test_filter_choices_read_the_counters_not_the_messages(application):
    campaign = make_campaign("sms", application=application)
    with CaptureQueriesContext(connection) as queries:
        message_filter_choices(campaign=campaign)
    assert len(queries) == 2
    assert all("messaging_message" not in query["sql"] for query in queries)
