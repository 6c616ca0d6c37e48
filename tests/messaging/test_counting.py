"""Campaign counters: kept by database triggers, read by messaging.counting, and always equal
to a recount of the campaign's messages, whichever way the messages changed."""

import json
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging.counting import campaign_counts, campaign_counts_by_network, campaign_recount
from messaging.models import Campaign, CampaignCount, Channel, Message, MessageState
from messaging.recipients import campaign_add_recipients, parse_recipients
from messaging.services import campaign_cancel, campaign_launch
from postbacks.models import InboxKind
from postbacks.services import postback_apply, postback_store
from tests.postbacks.bodies import status_body
from tests.support.threads import in_threads

NETWORKS = ("vodacom", "mtn", "cell_c", "")
# Codes each stage may report, successes and failures alike (NOTES.md's code table).
STAGE_CODES = {
    "build": (13, 14, 12),
    "archive": (4, 3),
    "submit": (2, 1, 7),
    "sent": (1, 2, 5),
    "delivered": (1, 12, 3),
}


@pytest.fixture
def campaign(make_campaign):
    """Without messages: each test adds the recipients it counts."""
    return make_campaign()


def add_recipients(campaign: Campaign, count: int) -> None:
    numbers = [f"+2782{n:07d}" for n in range(count)]
    campaign_add_recipients(
        campaign=campaign, parsed=parse_recipients(lines=numbers, channel=Channel.SMS)
    )


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {state: n for state, n in counts.items() if n}


def network_recount(campaign: Campaign) -> dict[str, dict[str, int]]:
    networks: dict[str, dict[str, int]] = {}
    for network, state in campaign.messages.filter(is_test=False).values_list("network", "state"):
        networks.setdefault(network, dict.fromkeys(MessageState.values, 0))[state] += 1
    return networks


def assert_counts_match(campaign: Campaign) -> None:
    assert campaign_counts(campaign_id=campaign.pk) == campaign_recount(campaign_id=campaign.pk)
    assert campaign_counts_by_network(campaign_id=campaign.pk) == network_recount(campaign)


def submit_all(campaign: Campaign) -> list[Message]:
    for message in campaign.messages.filter(state=MessageState.QUEUED):
        Message.objects.filter(pk=message.pk).update(
            state=MessageState.SUBMITTED, iliveit_id=f"M-{message.pk}"
        )
    return list(campaign.messages.exclude(iliveit_id=None))


def random_postbacks(messages: list[Message], chooser: random.Random) -> list[tuple[int, bytes]]:
    """Bodies with random stages, codes, networks and times, some of them sent twice."""
    start = timezone.now() - timedelta(hours=2)
    bodies = []
    for message in messages:
        network = chooser.choice(NETWORKS)
        for _ in range(chooser.randint(1, 5)):
            stages = {}
            for stage in chooser.sample(sorted(STAGE_CODES), chooser.randint(1, 3)):
                moment = start + timedelta(seconds=chooser.randint(0, 3600))
                stages[stage] = (chooser.choice(STAGE_CODES[stage]), f"code for {stage}", moment)
            body = status_body(message.iliveit_id, "delivery", stages=stages, network=network)
            raw = json.dumps(body).encode()
            bodies += [(message.pk, raw)] * chooser.choice((1, 1, 2, 3))
    chooser.shuffle(bodies)
    return bodies


def post(message_id: int, raw: bytes) -> None:
    inbox = postback_store(
        message=Message(pk=message_id),
        kind=InboxKind.STATUS,
        body=raw,
        truncated=False,
        headers={},
        source_ip="198.51.100.7",
    )
    postback_apply(inbox_id=inbox.pk)


def test_imported_recipients_are_counted_as_drafts(campaign):
    add_recipients(campaign, 25)

    assert nonzero(campaign_counts(campaign_id=campaign.pk)) == {MessageState.DRAFT: 25}
    assert_counts_match(campaign)


def test_counts_follow_a_launch_and_a_cancel(campaign):
    add_recipients(campaign, 30)
    campaign_launch(campaign=campaign, user=None, canary_size=10)

    assert nonzero(campaign_counts(campaign_id=campaign.pk)) == {
        MessageState.DRAFT: 20,
        MessageState.QUEUED: 10,
    }
    campaign_cancel(campaign=campaign, user=None)

    assert nonzero(campaign_counts(campaign_id=campaign.pk)) == {MessageState.CANCELLED: 30}
    assert_counts_match(campaign)


def test_test_sends_and_single_sends_are_not_counted(campaign):
    Message.objects.create(campaign=campaign, recipient="+27820000001", is_test=True)
    Message.objects.create(recipient="+27820000002", is_single=True)

    assert nonzero(campaign_counts(campaign_id=campaign.pk)) == {}
    assert CampaignCount.objects.filter(n__gt=0).count() == 0


def test_a_deleted_message_leaves_the_counts(campaign):
    add_recipients(campaign, 3)
    campaign.messages.first().delete()

    assert nonzero(campaign_counts(campaign_id=campaign.pk)) == {MessageState.DRAFT: 2}


def test_a_campaign_with_messages_and_counts_can_be_deleted(campaign):
    add_recipients(campaign, 5)
    campaign_launch(campaign=campaign, user=None)

    campaign.delete()

    assert not Message.objects.exists()
    assert not CampaignCount.objects.exists()


def test_a_postback_moves_the_counts_by_network(campaign):
    add_recipients(campaign, 2)
    campaign_launch(campaign=campaign, user=None)
    first, second = submit_all(campaign)
    moment = timezone.now()
    post(
        first.pk,
        json.dumps(
            status_body(
                first.iliveit_id,
                "delivery",
                stages={"delivered": (1, "Delivered", moment)},
                network="mtn",
            )
        ).encode(),
    )
    post(
        second.pk,
        json.dumps(
            status_body(
                second.iliveit_id,
                "sent",
                stages={"sent": (5, "Rejected", moment)},
                network="vodacom",
            )
        ).encode(),
    )

    by_network = campaign_counts_by_network(campaign_id=campaign.pk)
    assert nonzero(by_network["mtn"]) == {MessageState.DELIVERED: 1}
    assert nonzero(by_network["vodacom"]) == {MessageState.FAILED: 1}
    assert "" not in by_network


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counters_equal_a_recount_after_a_randomised_mix_of_postbacks(campaign, seed):
    chooser = random.Random(seed)
    add_recipients(campaign, 60)
    campaign_launch(campaign=campaign, user=None, canary_size=50)
    messages = submit_all(campaign)

    for message_id, raw in random_postbacks(messages, chooser):
        post(message_id, raw)
    campaign_cancel(campaign=campaign, user=None)

    assert_counts_match(campaign)
    counts = campaign_counts(campaign_id=campaign.pk)
    assert sum(counts.values()) == 60
    assert counts[MessageState.CANCELLED] == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the whole database",
)
def test_counters_stay_exact_under_concurrent_postbacks(campaign):
    add_recipients(campaign, 200)
    campaign_launch(campaign=campaign, user=None)
    bodies = random_postbacks(submit_all(campaign), random.Random(7))
    errors = in_threads(bodies, lambda body: post(*body))

    assert errors == []
    assert_counts_match(campaign)
    assert sum(campaign_counts(campaign_id=campaign.pk).values()) == 200
