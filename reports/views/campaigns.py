"""The campaign list: every campaign the user may see, filtered, with its figures."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.guards import COMPOSE, can_view_campaigns
from messaging.visibility import applications_visible, campaigns_visible
from reports.forms import CampaignFilterForm
from reports.listing import campaign_rows, campaigns_filter

CAMPAIGNS_PER_PAGE = 25


@login_required
@can_view_campaigns
def campaign_list(request: HttpRequest) -> HttpResponse:
    form = CampaignFilterForm(request.GET, applications=applications_visible(request.user))
    form.is_valid()  # an invalid filter shows its error and is left out
    campaigns = campaigns_filter(campaigns_visible(request.user), **form.filters())
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/campaign_list.html",
        {
            "form": form,
            "page": page,
            "rows": campaign_rows(list(page.object_list)),
            "query": query.urlencode(),
            "can_compose": request.user.has_perm(COMPOSE),
        },
    )
