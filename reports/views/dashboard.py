"""A campaign's delivery dashboard: the page, and the figures part it reloads while live."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from messaging.canary import canary_status
from messaging.guards import can_view_campaigns, visible_campaign
from messaging.models import Campaign, MessageState
from messaging.states import FUNNEL
from messaging.views import campaign_settling
from reports.dashboard import FAILURE_STAGES, CampaignDashboard, campaign_dashboard
from reports.timeseries import SERIES, Count, TimeSeries, time_series

# Which failure stages show beside each funnel step.
FAILED_AT = {
    "queued": (),
    "submitted": ("submission", "submit"),
    "built": ("build", "archive"),
    "sent": ("sent",),
    "delivered": ("delivered", "unknown"),
}
FUNNEL_LABELS = {
    "queued": "Queued",
    "submitted": "Submitted",
    "built": "Built",
    "sent": "Sent",
    "delivered": "Delivered",
}


def _pct(n: int, of: int) -> float:
    return 100.0 * n / of if of else 0.0


def _funnel(figures: CampaignDashboard, campaign: Campaign) -> list[dict]:
    """The funnel's steps. A campaign whose messages are not built skips that step and counts
    a failure at build or archive with the failures on the way to "sent"."""
    built = campaign.is_built
    steps = []
    for stage in FUNNEL:
        if stage == "built" and not built:
            continue
        failed_at = FAILED_AT[stage] + (FAILED_AT["built"] if stage == "sent" and not built else ())
        steps.append(
            {
                "stage": stage,
                "label": FUNNEL_LABELS[stage],
                "n": figures.funnel[stage],
                "pct": _pct(figures.funnel[stage], figures.total),
                "failed": sum(figures.failures_by_stage.get(name, 0) for name in failed_at),
            }
        )
    return steps


def _failures_by_stage(figures: CampaignDashboard) -> list[tuple[str, list]]:
    """Every failure reason, grouped by the stage it failed at, in pipeline order."""
    return [
        (stage, [reason for reason in figures.failure_reasons if reason.stage == stage])
        for stage in FAILURE_STAGES
        if figures.failures_by_stage.get(stage)
    ]


def _networks(figures: CampaignDashboard) -> list[dict]:
    rows = []
    for network, states in sorted(
        figures.by_network.items(), key=lambda item: -sum(item[1].values())
    ):
        total = sum(states.values())
        delivered, failed = states[MessageState.DELIVERED], states[MessageState.FAILED]
        rows.append(
            {
                "network": network or "not reported yet",
                "total": total,
                "delivered": delivered,
                "failed": failed,
                "delivered_pct": _pct(delivered, delivered + failed),
            }
        )
    return rows


def _series(figures: CampaignDashboard, *, live: bool) -> TimeSeries:
    """The chart's buckets, from the first minute with anything in it to the last, or to now
    while the campaign is live (a stall shows as a run of zeros, not as nothing)."""
    counts = [
        Count(at=point.at, series=key, n=getattr(point, key))
        for point in figures.per_minute
        for key, _ in SERIES
    ]
    end = None
    if live and figures.per_minute:
        end = max(timezone.now(), figures.per_minute[-1].at)
    return time_series(counts, end=end)


@login_required
@can_view_campaigns
def campaign_dashboard_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard; `?part=figures` answers only the figures, which the page fetches every
    few seconds while the campaign is live."""
    campaign = visible_campaign(request, pk)
    figures = campaign_dashboard(campaign_id=campaign.pk)
    live = campaign_settling(campaign, figures.totals)
    series = _series(figures, live=live)
    context = {
        "campaign": campaign,
        "figures": figures,
        "live": live,
        "canary": canary_status(campaign, counts=figures.totals),
        "funnel": _funnel(figures, campaign),
        "failures": _failures_by_stage(figures),
        "networks": _networks(figures),
        "series": series,
        "series_names": [name for _, name in SERIES],
        "chart": series.chart_data(),
        "in_flight": figures.total
        - figures.totals[MessageState.DELIVERED]
        - figures.totals[MessageState.FAILED]
        - figures.totals[MessageState.CANCELLED]
        - figures.totals[MessageState.DRAFT],
        "updated_at": timezone.localtime(),
    }
    if request.GET.get("part") == "figures":
        return render(request, "reports/_dashboard_figures.html", context)
    return render(request, "reports/campaign_dashboard.html", context)
