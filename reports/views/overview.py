"""The front page: the last 30 days at a glance, across the applications the user is granted
(the figures are reports/overview.py's)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.guards import COMPOSE, can_view_campaigns
from messaging.visibility import campaigns_visible
from reports.overview import DAYS, overview
from reports.timeseries import SERIES


@login_required
@can_view_campaigns
def front_page(request: HttpRequest) -> HttpResponse:
    figures = overview(campaigns=campaigns_visible(request.user))
    return render(
        request,
        "reports/overview.html",
        {
            "overview": figures,
            "days": DAYS,
            "chart": figures.daily.chart_data(),
            "series_names": [name for _, name in SERIES],
            "can_compose": request.user.has_perm(COMPOSE),
        },
    )
