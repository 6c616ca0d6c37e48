"""Opt-outs that iLiveIt's postbacks bring: a keyword SMS reply, and an email that bounced.

Both are recorded through messaging.optouts, the one way any opt-out is written and audited,
on the application of the message concerned (the sender the recipient replied to), for the
recipient as that message holds it (normalised as every recipient is). They run inside the
transaction that applies the postback, so that the reply or the failed report and what it
means for the list are kept together or not at all.
"""

from __future__ import annotations

import logging

from django.conf import settings

from iliveit import STAGES
from messaging.models import Channel, Message, OptOut, OptOutSource
from messaging.optouts import opt_out_record, opt_out_remove
from postbacks.merge import is_failure
from postbacks.models import MessageEvent, ReplyKind

logger = logging.getLogger(__name__)

BOUNCED = "bounced"


def keyword_of(text: str) -> str:
    """A reply's text as compared with the keywords: trimmed, upper-cased, and each run of
    white space one space (so "opt  out" is OPT OUT)."""
    return " ".join(text.split()).upper()


def opt_out_from_reply(*, message: Message, kind: str, text: str) -> str:
    """Act on an SMS reply that is an opt-out or opt-in keyword; answer "out", "in" or ""."""
    if kind != ReplyKind.SMS or message.campaign_id is None:
        return ""
    keyword = keyword_of(text)
    application_id = message.campaign.application_id
    if keyword in settings.OPT_OUT_KEYWORDS:
        opt_out_record(
            application=message.campaign.application,
            recipient=message.recipient,
            source=OptOutSource.REPLY,
            reason=keyword,
            message=message,
        )
        return "out"
    if keyword in settings.OPT_IN_KEYWORDS:
        entry = OptOut.objects.filter(
            application_id=application_id, recipient=message.recipient
        ).first()
        if entry is not None:
            opt_out_remove(opt_out=entry, reason=keyword)
        return "in"
    return ""


def _bounce_reason(description: str) -> str:
    description = description.strip()
    if not description or description.lower() == BOUNCED:
        return BOUNCED
    return f"{BOUNCED}: {description}"


def opt_out_bounces(events: list[MessageEvent]) -> int:
    """Suppress the address of every email whose delivery failed among these new events (a
    failed "delivered" stage); answer how many addresses were newly suppressed.

    Called with the events a batch of status reports added: one query finds which of their
    messages are emails, so the many reports that are not failed deliveries cost nothing.
    """
    failed = {
        event.message_id: event
        for event in events
        if event.stage == STAGES[-1] and is_failure(event.stage, event.code)
    }
    if not failed:
        return 0
    emails = Message.objects.select_related("campaign__application").filter(
        pk__in=list(failed), campaign__channel=Channel.EMAIL
    )
    added = 0
    for message in emails:
        _, new = opt_out_record(
            application=message.campaign.application,
            recipient=message.recipient,
            source=OptOutSource.BOUNCE,
            reason=_bounce_reason(failed[message.pk].description),
            message=message,
        )
        added += new
    if added:
        logger.info("%s bounced email address(es) suppressed", added)
    return added
