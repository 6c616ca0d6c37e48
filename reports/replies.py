"""Replies in one place: the replies a user may see, searched, narrowed to an application or a
campaign, and paged newest first.

Pages are keyset pages on the reply's id (ids grow with received_at, which is auto_now_add):
"the 51 replies with an id below `before`". No OFFSET and no count, so the ten thousandth page
costs what the first does, and a reply arriving while someone pages does not shift the next
page. Each page is read backwards along an index that holds only the replies wanted:
- one campaign's: reply_campaign_newest (campaign, -id);
- one application's: reply_application_newest (application, -id);
- a user's granted applications: that index once per application, at most 51 rows each,
  merged by id (as reports.message_queries merges states), because one query over several
  applications would either sort all their replies or walk every reply of every application
  newest first to find the few of a small one;
- everything, for those who see every application: the primary key.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter

from django.db.models import Q, QuerySet

from access.rules import sees_all_applications
from messaging.models import Application, Campaign
from messaging.visibility import applications_visible
from postbacks.models import Reply

REPLIES_PER_PAGE = 50

# What a row shows: the reply and where it came from, never the message's body (OTP and
# personalised content live there) nor the raw email file's bytes.
ROW_COLUMNS = (
    "id",
    "kind",
    "sender",
    "text",
    "subject",
    "raw_email",
    "received_at",
    "message__id",
    "message__recipient",
    "campaign__id",
    "campaign__name",
    "campaign__application__id",
    "campaign__application__name",
)


@dataclass(frozen=True)
class ReplyPage:
    replies: list[Reply]
    # The id to pass as `before` for the next (older) page; None on the last page.
    next_before: int | None


@dataclass(frozen=True)
class ReplySearch:
    """The replies to read, and the applications to read them from one by one (None: read
    them in one query, as the search already names one campaign or application, or the user
    sees every application)."""

    replies: QuerySet[Reply]
    applications: list[int] | None


def replies_search(
    user,
    *,
    text: str = "",
    application: Application | None = None,
    campaign: Campaign | None = None,
) -> ReplySearch:
    """The replies `user` may see that match. `application` and `campaign` must be ones the
    user may see (the forms and visible_campaign make sure). `text` matches anywhere in the
    reply's text, its subject or its sender, in any case: staff look a reply up by a word in
    it ("STOP", "wrong number") or by the number that sent it."""
    replies = Reply.objects.all()
    if text:
        replies = replies.filter(
            Q(text__icontains=text) | Q(subject__icontains=text) | Q(sender__icontains=text)
        )
    if campaign is not None:
        return ReplySearch(replies.filter(campaign=campaign), applications=None)
    if application is not None:
        return ReplySearch(replies.filter(application=application), applications=None)
    if sees_all_applications(user):
        return ReplySearch(replies, applications=None)
    granted = list(applications_visible(user).values_list("id", flat=True))
    return ReplySearch(replies.filter(application_id__in=granted), applications=granted)


def replies_page(
    search: ReplySearch, *, before: int | None = None, size: int = REPLIES_PER_PAGE
) -> ReplyPage:
    """The newest `size` replies with an id below `before` (all, when None), newest first."""
    replies = search.replies
    if before is not None:
        replies = replies.filter(id__lt=before)
    replies = replies.select_related("message", "campaign__application").only(*ROW_COLUMNS)
    if search.applications is None:
        parts = [replies.order_by("-id")[: size + 1]]
    else:
        parts = [
            replies.filter(application_id=application).order_by("-id")[: size + 1]
            for application in search.applications
        ]
    merged = heapq.merge(*(list(part) for part in parts), key=attrgetter("id"), reverse=True)
    rows = list(islice(merged, size + 1))
    if len(rows) > size:
        return ReplyPage(replies=rows[:size], next_before=rows[size - 1].id)
    return ReplyPage(replies=rows, next_before=None)
