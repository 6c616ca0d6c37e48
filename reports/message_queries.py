"""A campaign's messages, filtered and paged by id; one message's stages; its archived content.

The message list must stay fast on a campaign of a million messages, so it never counts the
campaign's messages and never pages with OFFSET. Each page reads "the next 51 ids after
`after`" from the (campaign, state, id) index: a range scan per state, stopped after 51 rows,
merged by id. The last page and the pages before a page read the same ranges backwards ("the
51 ids below `before`"), so the last page of a million costs what the first does.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any

from django.db.models import Q, QuerySet

from iliveit import (
    STAGES,
    APIUnavailable,
    ArchivedMessage,
    BadRequest,
    EndpointRefused,
    ILiveItError,
    InvalidMessage,
    InvalidRoute,
    RateLimited,
)
from messaging.clients import application_client
from messaging.counting import campaign_counts_by_network
from messaging.models import Campaign, CampaignFailure, Message, MessageState
from postbacks.merge import is_failure

MESSAGES_PER_PAGE = 50

# The columns the list shows, so that a page does not load message bodies (OTP and
# personalised content live in `body`).
LIST_COLUMNS = (
    "id",
    "campaign_id",
    "recipient",
    "state",
    "network",
    "iliveit_id",
    "submitted_at",
    "updated_at",
    *(f"{stage}_{part}" for stage in STAGES for part in ("code", "description", "at")),
)

# A page of the archived-content view waits this long for iLiveIt; a person is waiting.
ARCHIVE_CONNECT_TIMEOUT_S = 3.05
ARCHIVE_READ_TIMEOUT_S = 8.0


# How a stage's report reads when it went as it should: the stage's word and the codes that
# mean it is done (iliveit.codes). Any other code that is not a failure is a step on the way
# (build "RenderFarmSent") and reads as the stage and its description.
STAGE_DONE: dict[str, tuple[str, frozenset[int]]] = {
    "build": ("Built", frozenset({14})),
    "archive": ("Archived", frozenset({4, 5})),
    "submit": ("Submitted", frozenset({2})),
    "sent": ("Sent", frozenset({1})),
    "delivered": ("Delivered", frozenset({1})),
}
STAGE_NAMES = {
    "build": "build",
    "archive": "archive",
    "submit": "submit",
    "sent": "sending",
    "delivered": "delivery",
    # A failed message with no failing stage code (messaging.failures' two extra stages).
    "submission": "submission",
    "unknown": "an unknown stage",
}


@dataclass(frozen=True)
class StageReport:
    stage: str
    code: int | None
    description: str
    at: datetime | None

    @property
    def failed(self) -> bool:
        return (
            self.code is not None and self.stage in STAGE_DONE and is_failure(self.stage, self.code)
        )

    @property
    def sentence(self) -> str:
        """What happened, as staff say it: "Delivered", "Failed at delivery: Absent
        subscriber (code 27)". A page adds " at <time>" when `at` is known."""
        if self.failed or self.stage not in STAGE_DONE:
            reason = self.description or "no reason given"
            code = f" (code {self.code})" if self.code is not None else ""
            return f"Failed at {STAGE_NAMES.get(self.stage, self.stage)}: {reason}{code}"
        word, done = STAGE_DONE[self.stage]
        if self.code in done:
            return word
        if self.stage == "delivered" and self.code == 12:
            return "Assumed delivered (no report from the network in 72 hours)"
        step = self.description or f"code {self.code}"
        return f"{self.stage.capitalize()}: {step}"


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    # The id to pass as `after` for the next page; None on the last page.
    next_after: int | None
    # The id to pass as `before` for the previous page; None on the first page.
    previous_before: int | None = None


def message_stages(*, message: Message) -> list[StageReport]:
    """Every stage of the message, in pipeline order, reported or not."""
    return [
        StageReport(
            stage=stage,
            code=getattr(message, f"{stage}_code"),
            description=getattr(message, f"{stage}_description"),
            at=getattr(message, f"{stage}_at"),
        )
        for stage in STAGES
    ]


def message_latest_stage(*, message: Message) -> StageReport | None:
    """The most recent stage iLiveIt reported: the latest timestamp, and on a tie (or when
    times are missing) the one later in the pipeline. None before any report."""
    reported = [
        (report.at is not None, report.at or datetime.min, index, report)
        for index, report in enumerate(message_stages(message=message))
        if report.code is not None
    ]
    if not reported:
        return None
    return max(reported, key=lambda item: item[:3])[3]


def message_failure(*, message: Message) -> StageReport | None:
    """Why a failed message failed: its first failing stage in pipeline order (the rule the
    failure counters use, messaging.failures), or, when no stage code says so, its last error
    under "submission" (iLiveIt never took it) or "unknown". None for a message that has not
    failed."""
    if message.state != MessageState.FAILED:
        return None
    for report in message_stages(message=message):
        if report.failed:
            return report
    return StageReport(
        stage="unknown" if message.iliveit_id else "submission",
        code=None,
        description=message.last_error,
        at=None,
    )


def message_summary(*, message: Message) -> StageReport | None:
    """The one line a list shows for a message: its failure when it failed, else the latest
    stage iLiveIt reported; None before any report."""
    return message_failure(message=message) or message_latest_stage(message=message)


@dataclass(frozen=True)
class FilterChoices:
    networks: list[str]
    failure_codes: list[tuple[int, str]]  # (code, "5 · Network rejected (sending)")


def message_filter_choices(*, campaign: Campaign) -> FilterChoices:
    """The networks and failure codes the campaign's messages have, for the message list's
    selects: read from its counters (CampaignCount, CampaignFailure), a few dozen rows
    whatever its size. Code 0 is left out: it is the counters' "no code" (messaging.failures),
    which the failure-code filter cannot match."""
    networks = [name for name in campaign_counts_by_network(campaign_id=campaign.pk) if name]
    reasons: dict[int, set[str]] = {}
    rows = (
        CampaignFailure.objects.filter(campaign=campaign, n__gt=0)
        .exclude(code=0)
        .values_list("code", "stage", "description")
        .distinct()
    )
    for code, stage, description in rows:
        named = f"{description or 'no description'} ({STAGE_NAMES.get(stage, stage)})"
        reasons.setdefault(code, set()).add(named)
    codes = [
        (code, f"{code} · {'; '.join(sorted(named))}") for code, named in sorted(reasons.items())
    ]
    return FilterChoices(networks=sorted(networks, key=str.lower), failure_codes=codes)


def messages_filter(
    *,
    campaign: Campaign,
    state: str = "",
    network: str = "",
    failure_code: int | None = None,
    recipient: str = "",
) -> list[QuerySet[Message]]:
    """The campaign's messages (test sends excluded) that match, as one queryset per state.

    One queryset per state, because the (campaign, state, id) index returns ids in order only
    within one state: ordering all of a campaign's messages by id from it would sort every row,
    while merging a few states' ordered ranges reads only a page's worth from each.

    - `failure_code`: failed messages with that code at any stage (build, archive, submit,
      sent or delivered). Any stage, because the code staff look up is the one a failure
      report or the CSV showed them, and the pipeline's and the networks' code tables overlap
      (2 is "Submitted" at submit but a network rejection at sent); the row shows the stage.
      It implies the state "failed".
    - `recipient`: a case-insensitive prefix. People look a recipient up from its start (the
      number with its country code as stored, or an email's local part); a prefix does not
      also list every number that merely contains the digits somewhere, and it is checked on
      the rows the index range yields, so a page stops after 50 hits like any other filter.
    """
    base = Message.objects.filter(campaign=campaign, is_test=False)
    if network:
        base = base.filter(network=network)
    if recipient:
        base = base.filter(recipient__istartswith=recipient)
    if failure_code is not None:
        state = MessageState.FAILED
        any_stage = Q()
        for stage in STAGES:
            any_stage |= Q(**{f"{stage}_code": failure_code})
        base = base.filter(any_stage)
    states = [state] if state else MessageState.values
    return [base.filter(state=value).only(*LIST_COLUMNS) for value in states]


def messages_page(
    *, querysets: list[QuerySet[Message]], after: int = 0, size: int = MESSAGES_PER_PAGE
) -> MessagePage:
    """The first `size` messages with an id above `after`, by id, from `querysets` (each
    already narrowed to one state; see messages_filter), and where the next page starts.

    Each queryset yields at most size + 1 rows, read in id order from one range of the
    (campaign, state, id) index; merging them by id gives the page. That is one small query
    per state rather than one query, because SQLite (through Django) cannot UNION sliced
    queries; each is an index probe, whatever the campaign's size.
    """
    parts = [
        list(queryset.filter(id__gt=after).order_by("id")[: size + 1]) for queryset in querysets
    ]
    rows = list(islice(heapq.merge(*parts, key=attrgetter("id")), size + 1))
    # A page after another has one before it (messages_page_before finds where it starts).
    previous_before = rows[0].id if after and rows else None
    if len(rows) > size:
        return MessagePage(
            messages=rows[:size], next_after=rows[size - 1].id, previous_before=previous_before
        )
    return MessagePage(messages=rows, next_after=None, previous_before=previous_before)


def messages_page_before(
    *,
    querysets: list[QuerySet[Message]],
    before: int | None = None,
    size: int = MESSAGES_PER_PAGE,
) -> MessagePage:
    """The last `size` messages with an id below `before` (the last page, when None), shown in
    id order like any page, and where the pages on either side start.

    The same index ranges as messages_page, read backwards: size + 1 rows per state from the
    top, so the last page of a million messages is as quick as the first. When fewer than a
    page's worth lie before `before`, it is the first page (from the start, a full page), so
    that going back always ends on the same first page that the "First page" link shows.
    """
    ranges = querysets if before is None else [q.filter(id__lt=before) for q in querysets]
    parts = [list(queryset.order_by("-id")[: size + 1]) for queryset in ranges]
    newest_first = list(islice(heapq.merge(*parts, key=attrgetter("id"), reverse=True), size + 1))
    if before is not None and len(newest_first) <= size:
        return messages_page(querysets=querysets, size=size)
    rows = newest_first[:size][::-1]
    return MessagePage(
        messages=rows,
        # The message at `before` began the page this one precedes.
        next_after=rows[-1].id if before is not None and rows else None,
        previous_before=rows[0].id if len(newest_first) > size else None,
    )


# --- archived content ----------------------------------------------------------------------------


class ArchiveUnavailable(Exception):
    """The archived content could not be shown; `status` is the HTTP status the page answers
    with (404: iLiveIt has none for this message; 502: iLiveIt failed us), `reason` says why."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def message_archived(*, message: Message) -> ArchivedMessage:
    """GET message/{id} with the token of the application that sent the message (a message is
    visible only to its own application), or ArchiveUnavailable."""
    if not message.iliveit_id:
        raise ArchiveUnavailable(
            "This message has no iLiveIt MessageID: it was never accepted by iLiveIt, so "
            "nothing was archived.",
            status=404,
        )
    application = message.campaign.application
    try:
        client = application_client(
            application,
            connect_timeout=ARCHIVE_CONNECT_TIMEOUT_S,
            read_timeout=ARCHIVE_READ_TIMEOUT_S,
        )
        return client.archived_message(message.iliveit_id)
    except EndpointRefused as error:
        raise ArchiveUnavailable(error.error, status=502) from error
    except (InvalidRoute, InvalidMessage) as error:
        raise ArchiveUnavailable(
            f"iLiveIt does not know this MessageID ({error.error}).", status=404
        ) from error
    except BadRequest as error:
        # The sandbox and iLiveIt answer 400 "Message not archived yet" before the archive
        # stage, and for one-time PINs, which are never archived.
        raise ArchiveUnavailable(
            f"iLiveIt has no archived content for this message: {error.error}", status=404
        ) from error
    except RateLimited as error:
        raise ArchiveUnavailable(
            "iLiveIt's rate limit for this application is spent; try again in a moment.",
            status=502,
        ) from error
    except APIUnavailable as error:
        raise ArchiveUnavailable(
            f"iLiveIt did not answer ({error}); try again later.", status=502
        ) from error
    except ILiveItError as error:
        raise ArchiveUnavailable(f"iLiveIt refused the request ({error}).", status=502) from error


# Base64 media and attachments can run to megabytes; the page shows their start only.
LONG_TEXT = 2000


def archived_data_text(*, data: dict[str, Any]) -> str:
    """The archived data as indented JSON, long strings cut to LONG_TEXT characters."""

    def shorten(value: Any) -> Any:
        if isinstance(value, str) and len(value) > LONG_TEXT:
            return f"{value[:LONG_TEXT]}… ({len(value)} characters in all)"
        if isinstance(value, dict):
            return {key: shorten(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shorten(item) for item in value]
        return value

    return json.dumps(shorten(data), indent=2, ensure_ascii=False, sort_keys=True)
