"""The campaign list: filtering, and each row's figures read from the counters."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from messaging.models import Application, Campaign, CampaignCount, MessageState
from messaging.states import PAST_SUBMISSION


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    total: int
    past_submission: int
    delivered: int
    failed: int

    def _share(self, n: int) -> float:
        return 100.0 * n / self.total if self.total else 0.0

    @property
    def progress_pct(self) -> float:
        return self._share(self.past_submission)

    @property
    def delivered_pct(self) -> float:
        return self._share(self.delivered)

    @property
    def failed_pct(self) -> float:
        return self._share(self.failed)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def campaigns_filter(
    campaigns: QuerySet[Campaign],
    *,
    text: str = "",
    state: str = "",
    channel: str = "",
    application: Application | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[Campaign]:
    """Narrow `campaigns` (already scoped to what the user may see), newest first.

    Days must be within messaging.validators.validate_filter_day's range: at the calendar's
    ends a day's start or end is no datetime at all (OverflowError).
    """
    if text:
        campaigns = campaigns.filter(Q(name__icontains=text) | Q(subject__icontains=text))
    if state:
        campaigns = campaigns.filter(state=state)
    if channel:
        campaigns = campaigns.filter(channel=channel)
    if application is not None:
        campaigns = campaigns.filter(application=application)
    if created_from:
        campaigns = campaigns.filter(created_at__gte=_day_start(created_from))
    if created_to:
        # The whole last day, in the configured time zone.
        campaigns = campaigns.filter(created_at__lt=_day_start(created_to + timedelta(days=1)))
    return campaigns.select_related("application").order_by("-created_at", "-id")


def campaign_rows(campaigns: list[Campaign]) -> list[CampaignRow]:
    """One row per campaign with its figures, from one query over their counters."""
    figures: dict[int, dict[str, int]] = {campaign.pk: {} for campaign in campaigns}
    counts = (
        CampaignCount.objects.filter(campaign_id__in=figures)
        .values("campaign_id", "state")
        .annotate(n=Sum("n"))
        .order_by()
    )
    for row in counts:
        figures[row["campaign_id"]][row["state"]] = row["n"]
    rows = []
    for campaign in campaigns:
        by_state = figures[campaign.pk]
        rows.append(
            CampaignRow(
                campaign=campaign,
                total=sum(by_state.values()),
                past_submission=sum(by_state.get(state, 0) for state in PAST_SUBMISSION),
                delivered=by_state.get(MessageState.DELIVERED, 0),
                failed=by_state.get(MessageState.FAILED, 0),
            )
        )
    return rows
