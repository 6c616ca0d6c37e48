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
