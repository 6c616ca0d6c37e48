"""The replies pages: the portal's inbox of every reply the user may see, and one campaign's
replies. reports/replies.py scopes, filters and pages them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.guards import can_view_campaigns, visible_campaign
from messaging.models import Campaign
from messaging.visibility import applications_visible
from reports.forms import ReplyFilterForm
from reports.replies import replies_page, replies_search

VIEW_REPLY = "postbacks.view_reply"


def _replies(request: HttpRequest, *, campaign: Campaign | None) -> HttpResponse:
    applications = None if campaign else applications_visible(request.user).order_by("name")
    form = ReplyFilterForm(request.GET, applications=applications)
    form.is_valid()  # an invalid filter shows its error and is left out
    before = form.cleaned_data.get("before")
    search = replies_search(request.user, campaign=campaign, **form.filters())
    page = replies_page(search, before=before)
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "reports/reply_list.html",
        {
            "campaign": campaign,
            "form": form,
            "replies": page.replies,
            "before": before,
            "next_before": page.next_before,
            "query": query.urlencode(),
        },
    )


@login_required
@can_view_campaigns
@permission_required(VIEW_REPLY, raise_exception=True)
def reply_inbox(request: HttpRequest) -> HttpResponse:
    return _replies(request, campaign=None)


@login_required
@can_view_campaigns
@permission_required(VIEW_REPLY, raise_exception=True)
def campaign_replies(request: HttpRequest, pk: int) -> HttpResponse:
    return _replies(request, campaign=visible_campaign(request, pk))
