"""Where a campaign's canary stands, for the pages: how many of its messages are delivered
against the share needed to release the rest, and when it was released or why it is held.

The judging itself is messaging.services.upkeep.campaign_check_canary's. While the canary is
held, nothing but the canary has left draft, so its figures are the campaign's counters
(CampaignCount) less its drafts: a few rows whatever the campaign's size. Once judged, the
figures it was judged on are kept on the campaign (canary_delivered, canary_judged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from messaging.counting import campaign_counts
from messaging.models import Campaign, CampaignState, MessageState
from messaging.states import OPTED_OUT

# What a canary is doing, in the words the pages use.
PLANNED = "planned"  # not launched yet
WAITING = "waiting"  # sent, waiting for its delivery reports
RELEASED = "released"  # delivered well enough: the rest was released
HELD = "held"  # delivered too few: the campaign was paused and the rest kept back
STOPPED = "stopped"  # cancelled or done before it was judged


@dataclass(frozen=True)
class CanaryStatus:
    state: str
    size: int  # the canary's size as asked at launch
    needed_share: float  # canary_min_success, 0..1
    messages: int | None  # the messages it is (or was) judged on; None when not known
    delivered: int | None
    awaiting: int  # without a final outcome yet (only while WAITING)
    rest: int  # the recipients kept back until the release (while not released)
    released_at: datetime | None
    judged_by: datetime | None  # the latest it is judged, reports or not (while WAITING)
    reason: str  # why it is held: the pause's reason

    @property
    def needed(self) -> int | None:
        """Delivered messages needed to release, of `messages`."""
        if self.messages is None:
            return None
        return math.ceil(self.needed_share * self.messages - 1e-9)

    @property
    def delivered_pct(self) -> float | None:
        if not self.messages or self.delivered is None:
            return None
        return 100.0 * self.delivered / self.messages

    @property
    def needed_pct(self) -> float:
        return 100.0 * self.needed_share


def _opted_out(campaign: Campaign) -> int:
    # The conditions of the partial index message_opted_out, so that it serves this count.
    return campaign.messages.filter(
        state=MessageState.CANCELLED, last_error=OPTED_OUT, is_test=False
    ).count()


def canary_status(
    campaign: Campaign, *, counts: dict[str, int] | None = None
) -> CanaryStatus | None:
    """The canary's state, or None for a campaign without one. `counts` are the campaign's
    counters (campaign_counts), when the caller has them already."""
    if not campaign.canary_size:
        return None
    common = {
        "size": campaign.canary_size,
        "needed_share": campaign.canary_min_success,
        "released_at": campaign.canary_released_at,
    }
    if campaign.canary_released_at is not None:
        return CanaryStatus(
            state=RELEASED,
            messages=campaign.canary_judged,
            delivered=campaign.canary_delivered,
            awaiting=0,
            rest=0,
            judged_by=None,
            reason="",
            **common,
        )
    counts = counts if counts is not None else campaign_counts(campaign_id=campaign.pk)
    drafts = counts[MessageState.DRAFT]
    if campaign.state in (CampaignState.DRAFT, CampaignState.SCHEDULED):
        return CanaryStatus(
            state=PLANNED,
            messages=None,
            delivered=None,
            awaiting=0,
            rest=max(drafts - campaign.canary_size, 0),
            judged_by=None,
            reason="",
            **common,
        )
    if campaign.state not in (CampaignState.SENDING, CampaignState.PAUSED):
        # Cancelled before it was judged: its rest is cancelled too, so counted with it.
        return CanaryStatus(
            state=STOPPED,
            messages=None,
            delivered=None,
            awaiting=0,
            rest=0,
            judged_by=None,
            reason="",
            **common,
        )
    # Held back: only the canary has left draft. A message refused because its recipient
    # opted out was never sent, so it does not count either way (as campaign_check_canary).
    opted_out = _opted_out(campaign) if counts[MessageState.CANCELLED] else 0
    messages = sum(counts.values()) - drafts - opted_out
    delivered = counts[MessageState.DELIVERED]
    awaiting = messages - delivered - counts[MessageState.FAILED]
    # Judged too few (the judgement paused it), or still waiting (a pause by hand holds the
    # judgement until the campaign resumes).
    held = campaign.state == CampaignState.PAUSED and campaign.canary_judged is not None
    state, reason = (HELD if held else WAITING), campaign.paused_reason
    launched = campaign.launched_at
    return CanaryStatus(
        state=state,
        messages=messages,
        delivered=delivered,
        awaiting=awaiting,
        rest=drafts,
        judged_by=launched + timedelta(seconds=settings.CANARY_WAIT_S) if launched else None,
        reason=reason,
        **common,
    )
