"""What an SMS campaign will cost before it is launched: each recipient's text is rendered with
their own fields and counted, and the page shows the fewest and the most SMS parts one recipient
gets, and the total, which is what iLiveIt bills.

Content without placeholders is counted once and multiplied. Personalised content is rendered
for every recipient (the submit's own rendering, messaging/personalise.py), which at 100,000
recipients takes a couple of seconds, so the answer is cached until the text or the recipients
change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max

from messaging.models import Campaign, Channel
from messaging.personalise import (
    ContentPlaceholderError,
    campaign_placeholders,
    campaign_render_for,
)
from messaging.sms import sms_segments

# Cached answers outlive a page view but not a working day's edits.
CACHE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class SmsCost:
    recipients: int
    fewest: int  # SMS parts the shortest recipient's text takes
    most: int
    total: int  # across recipients: what the campaign costs

    @property
    def varies(self) -> bool:
        return self.fewest != self.most


def campaign_sms_cost(campaign: Campaign) -> SmsCost | None:
    """The SMS parts the campaign's recipients (not its tests) will be sent; None for another
    channel or for text that does not compile yet."""
    if campaign.channel != Channel.SMS:
        return None
    try:
        personalised = bool(campaign_placeholders(campaign).names)
    except ContentPlaceholderError:
        return None
    recipients = campaign.messages.filter(is_test=False)
    shape = recipients.aggregate(n=Count("id"), last=Max("id"))
    if not shape["n"]:
        return SmsCost(recipients=0, fewest=0, most=0, total=0)
    if not personalised:
        each = sms_segments(campaign.body_text).segments
        return SmsCost(recipients=shape["n"], fewest=each, most=each, total=each * shape["n"])
    text_hash = hashlib.sha256(campaign.body_text.encode()).hexdigest()[:16]
    key = f"sms-cost:{campaign.pk}:{text_hash}:{shape['n']}:{shape['last']}"
    cost = cache.get(key)
    if cost is None:
        cost = _rendered_cost(campaign, recipients)
        cache.set(key, cost, CACHE_SECONDS)
    return cost


def _rendered_cost(campaign: Campaign, recipients) -> SmsCost:
    fewest = most = None
    total = count = 0
    rows = recipients.values_list("recipient", "fields").iterator(chunk_size=5000)
    for recipient, fields in rows:
        rendered = campaign_render_for(campaign, recipient=recipient, fields=fields)
        parts = sms_segments(rendered.body_text).segments
        total += parts
        count += 1
        fewest = parts if fewest is None else min(fewest, parts)
        most = parts if most is None else max(most, parts)
    return SmsCost(recipients=count, fewest=fewest or 0, most=most or 0, total=total)


# What one message of each channel is called where the estimate is stated.
UNITS = {
    Channel.SMS: ("SMS", "SMS"),
    Channel.MMS: ("MMS", "MMS"),
    Channel.VIDEO: ("video MMS", "video MMS"),
    Channel.EMAIL: ("email", "emails"),
}


@dataclass(frozen=True)
class Estimate:
    """What a launch would send now: a message per draft recipient, and for SMS the parts
    they take (which is what iLiveIt bills)."""

    channel: str
    messages: int
    sms: SmsCost | None

    @property
    def unit(self) -> str:
        singular, plural = UNITS[self.channel]
        return singular if self.messages == 1 else plural

    @property
    def sends(self) -> int:
        """The billed count: SMS parts for SMS, messages for the rest."""
        return self.sms.total if self.sms is not None else self.messages


def campaign_estimate(campaign: Campaign, *, drafts: int) -> Estimate:
    """`drafts`: the recipients a launch would queue, from the campaign's counters."""
    sms = campaign_sms_cost(campaign) if drafts else None
    return Estimate(channel=campaign.channel, messages=drafts, sms=sms)
