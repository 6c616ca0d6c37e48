"""A message's and a campaign's states, and the sets of them the rest of the portal works with.

Each set is written once, here, and named for what it means. Raw SQL that repeats one (the
partial index `message_awaiting_report`, the roll-up triggers in migrations) is pinned to it by
tests/messaging/test_states.py.
"""

from django.db import models

# --- a message's states ---------------------------------------------------------------------------


class MessageState(models.TextChoices):
    """The overall state, in the order a message moves through it (see postbacks' merge)."""

    # Imported into a campaign that has not been launched.
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    # The request left but no answer came back: iLiveIt may or may not have it.
    UNCERTAIN = "uncertain", "Outcome unknown"
    SUBMITTED = "submitted", "Submitted"
    BUILT = "built", "Built"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# The order of the overall state; the status merge never moves a message to an earlier one.
ORDER = (
    MessageState.DRAFT,
    MessageState.QUEUED,
    MessageState.SUBMITTING,
    MessageState.UNCERTAIN,
    MessageState.SUBMITTED,
    MessageState.BUILT,
    MessageState.SENT,
    MessageState.DELIVERED,
)
# Off ORDER: a message in one of these never moves again, whatever reports come.
TERMINAL = frozenset({MessageState.FAILED, MessageState.CANCELLED})
# After these iLiveIt reports nothing more that could change the message.
FINAL = frozenset({MessageState.DELIVERED, MessageState.FAILED, MessageState.CANCELLED})
# Every state but FINAL, in MessageState's order: the condition of the partial index
# `message_awaiting_report` word for word, so that reconciliation's query can use it.
AWAITING_REPORT = tuple(state for state in MessageState.values if state not in FINAL)
# The two outcomes of a message that was tried: it arrived, or it never will.
OUTCOMES = (MessageState.DELIVERED, MessageState.FAILED)

# Not yet accepted by iLiveIt: the portal still has work to do, and may submit it (again).
UNFINISHED = (
    MessageState.DRAFT,
    MessageState.QUEUED,
    MessageState.SUBMITTING,
    MessageState.UNCERTAIN,
)
# The last_error of a message whose claim found its recipient on its application's opt-out list:
# it ends CANCELLED with this text, which the dashboard counts apart from other cancellations
# (the partial index `message_opted_out` is written with it).
OPTED_OUT = "opted out"
# Not yet handed to iLiveIt, which a pause holds back and a cancel stops (drafts: a canary's rest).
LEFT_TO_SEND = (MessageState.DRAFT, MessageState.QUEUED)
# A submit request of ours left and its answer is not recorded yet (uncertain: the sweeper
# gave up waiting on it, but the answer may still come).
AWAITING_ANSWER = (MessageState.SUBMITTING, MessageState.UNCERTAIN)
# No MessageID and no request in flight: a postback on the message's own URL proves iLiveIt
# accepted it, so its MessageID is adopted (an unknown outcome, or a message re-queued after one).
ADOPTS_ID = frozenset({MessageState.QUEUED, MessageState.UNCERTAIN})

# Accepted by iLiveIt and not failed: how far along ORDER a submitted message got.
ACCEPTED = (
    MessageState.SUBMITTED,
    MessageState.BUILT,
    MessageState.SENT,
    MessageState.DELIVERED,
)
# Once iLiveIt has it, or it will never be sent.
PAST_SUBMISSION = (*ACCEPTED, MessageState.FAILED, MessageState.CANCELLED)

# The states a launched message moves through along ORDER, in order.
LAUNCHED = (MessageState.QUEUED, MessageState.SUBMITTING, MessageState.UNCERTAIN, *ACCEPTED)
# Launched and not yet delivered: reports about it are still to come.
IN_FLIGHT = LAUNCHED[: LAUNCHED.index(MessageState.DELIVERED)]
# The steps of the dashboard's funnel: the milestones of LAUNCHED a campaign counts.
FUNNEL = (
    MessageState.QUEUED,
    MessageState.SUBMITTED,
    MessageState.BUILT,
    MessageState.SENT,
    MessageState.DELIVERED,
)


# --- a campaign's states --------------------------------------------------------------------------


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# Not launched, so nothing has been queued: its content and recipient list may still change.
# Once it is sending, its messages are built from the stored content, so changing that would
# send different recipients different things.
EDITABLE_STATES = frozenset({CampaignState.DRAFT, CampaignState.SCHEDULED})
# May launch (again, for a scheduled one: now instead of later). The same states as
# EDITABLE_STATES today, but another rule: the launch button and campaign_launch ask this one.
LAUNCHABLE_STATES = frozenset({CampaignState.DRAFT, CampaignState.SCHEDULED})
