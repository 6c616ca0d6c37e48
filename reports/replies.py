"""Replies in one place: the replies a user may see, searched, narrowed to an application or a
campaign, and paged newest first.

Pages are keyset pages on the reply's id (ids grow with received_at, which is auto_now_add):
"the 51 replies with an id below `before`", read backwards along the primary key. No OFFSET
and no count, so the tenth thousandth page costs what the first does, and a reply arriving
while someone pages does not shift the next page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from access.rules import scoped
from messaging.models import Application, Campaign
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
    "message__campaign__id",
    "message__campaign__name",
    "message__campaign__application__id",
    "message__campaign__application__name",
)


@dataclass(frozen=True)
class ReplyPage:
    replies: list[Reply]
    # The id to pass as `before` for the next (older) page; None on the last page.
    next_before: int | None


def replies_visible(user) -> QuerySet[Reply]:
    """Replies to messages of the applications the user is granted (every one for those who
    see all applications)."""
    return scoped(Reply.objects.all(), user, to_application="message__campaign__application")


def replies_filter(
    replies: QuerySet[Reply],
    *,
    text: str = "",
    application: Application | None = None,
    campaign: Campaign | None = None,
) -> QuerySet[Reply]:
    """Narrow `replies` (already scoped to the user). `text` matches anywhere in the reply's
    text, its subject or its sender, in any case: staff look a reply up by a word in it ("STOP",
    "wrong number") or by the number that sent it."""
    if text:
        replies = replies.filter(
            Q(text__icontains=text) | Q(subject__icontains=text) | Q(sender__icontains=text)
        )
    if application is not None:
        replies = replies.filter(message__campaign__application=application)
    if campaign is not None:
        replies = replies.filter(message__campaign=campaign)
    return replies


def replies_page(
    replies: QuerySet[Reply], *, before: int | None = None, size: int = REPLIES_PER_PAGE
) -> ReplyPage:
    """The newest `size` replies with an id below `before` (all, when None), newest first."""
    if before is not None:
        replies = replies.filter(id__lt=before)
    rows = list(
        replies.select_related("message__campaign__application")
        .only(*ROW_COLUMNS)
        .order_by("-id")[: size + 1]
    )
    if len(rows) > size:
        return ReplyPage(replies=rows[:size], next_before=rows[size - 1].id)
    return ReplyPage(replies=rows, next_before=None)
