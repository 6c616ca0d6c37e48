"""Reading a campaign's message counts from the trigger-kept CampaignCount rows.

Each read sums a few dozen rows whatever the campaign's size; `campaign_recount` is the slow
GROUP BY over the messages themselves, kept to check the counters against.
"""

from django.db.models import Count, Sum

from messaging.models import CampaignCount, Message, MessageState


def _by_state(rows) -> dict[str, int]:
    counts = dict.fromkeys(MessageState.values, 0)
    for row in rows:
        counts[row["state"]] += row["n"]
    return counts


def campaign_counts(*, campaign_id: int) -> dict[str, int]:
    """The campaign's messages by state (test sends excluded), every state present."""
    rows = (
        CampaignCount.objects.filter(campaign_id=campaign_id)
        .values("state")
        .annotate(n=Sum("n"))
        .order_by()
    )
    return _by_state(rows)


def campaign_counts_by_network(*, campaign_id: int) -> dict[str, dict[str, int]]:
    """{network: {state: n}}, for networks that hold at least one message."""
    rows = (
        CampaignCount.objects.filter(campaign_id=campaign_id)
        .values("network", "state")
        .annotate(n=Sum("n"))
        .order_by("network")
    )
    networks: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["n"]:
            networks.setdefault(row["network"], dict.fromkeys(MessageState.values, 0))
            networks[row["network"]][row["state"]] += row["n"]
    return networks


def campaign_recount(*, campaign_id: int) -> dict[str, int]:
    """The same figures as campaign_counts, counted from the messages (a scan)."""
    rows = (
        Message.objects.filter(campaign_id=campaign_id, is_test=False)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return _by_state(rows)
