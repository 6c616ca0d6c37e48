"""Staff pages for a campaign's messages: the filtered list, one message's page, its archived
content fetched from iLiveIt on demand, a reply's raw email, and the streamed CSV export.

Views stay thin: reports/message_queries.py filters, pages and fetches; reports/exports.py
writes the CSV rows. Every page is scoped by access.rules, so a message or campaign of an
application the user is not granted answers 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from messaging.compose import email_preview_document
from messaging.guards import LAUNCH, can_view_campaigns, visible_campaign
from messaging.models import Channel, Message, SlideMedia
from messaging.previews import ContentPreview, content_preview
from messaging.visibility import messages_visible
from postbacks.models import Reply
from reports.exports import campaign_export_filename, campaign_export_rows
from reports.forms import MessageFilterForm
from reports.message_queries import (
    ArchiveUnavailable,
    archived_data_text,
    message_archived,
    message_failure,
    message_filter_choices,
    message_stages,
    message_summary,
    messages_filter,
    messages_page,
    messages_page_before,
)

VIEW_REPLY = "postbacks.view_reply"


@login_required
@can_view_campaigns
def message_list(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    choices = message_filter_choices(campaign=campaign)
    form = MessageFilterForm(
        request.GET, networks=choices.networks, failure_codes=choices.failure_codes
    )
    form.is_valid()  # an invalid filter shows its error and is left out
    querysets = messages_filter(campaign=campaign, **form.filters())
    after = form.cleaned_data.get("after") or 0
    before = form.cleaned_data.get("before")
    last = form.cleaned_data.get("last", False)
    if last or before:
        page = messages_page_before(querysets=querysets, before=None if last else before)
    else:
        page = messages_page(querysets=querysets, after=after)
    query = request.GET.copy()
    for name in ("after", "before", "last"):
        query.pop(name, None)
    rows = [(message, message_summary(message=message)) for message in page.messages]
    return render(
        request,
        "reports/message_list.html",
        {
            "campaign": campaign,
            "form": form,
            "rows": rows,
            "after": after,
            "next_after": page.next_after,
            "previous_before": page.previous_before,
            "query": query.urlencode(),
        },
    )


def _visible_message(request: HttpRequest, pk: int) -> Message:
    return get_object_or_404(
        messages_visible(request.user).select_related("campaign__application"), pk=pk
    )


def _raw_email_url(user, reply: Reply) -> str:
    """Where this user downloads a reply's raw email, or "" when they may not. The admin
    serves it to staff who may view messages there; others with the right to see replies use
    message_reply_raw, which asks the same rights."""
    if not reply.raw_email or not user.has_perm(VIEW_REPLY):
        return ""
    if user.is_staff and user.has_perm("messaging.view_message"):
        return reverse("admin:messaging_message_reply_raw", args=[reply.message_id, reply.pk])
    return reverse("reports:message_reply_raw", args=[reply.message_id, reply.pk])


def _stages_shown(message: Message) -> list:
    """Every stage, but "build" only where iLiveIt builds the message or reported a build."""
    built = message.campaign is not None and message.campaign.is_built
    return [
        report
        for report in message_stages(message=message)
        if report.stage != "build" or built or report.code is not None
    ]


@login_required
@can_view_campaigns
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _visible_message(request, pk)
    replies = list(message.replies.all()) if request.user.has_perm(VIEW_REPLY) else None
    failure = message_failure(message=message)
    return render(
        request,
        "reports/message_detail.html",
        {
            "message": message,
            "campaign": message.campaign,
            "stages": _stages_shown(message),
            "failure": failure,
            # The failure already says it when no stage code does.
            "last_error": "" if failure and failure.code is None else message.last_error,
            "slides": _slides_shown(message),
            # When each change happened at iLiveIt, not when we heard: postbacks arrive out of
            # order, and a poll can tell of a change long after it.
            "events": message.events.order_by(F("stage_at").asc(nulls_last=True), "id"),
            "replies": [(reply, _raw_email_url(request.user, reply)) for reply in replies or ()],
            "can_view_replies": replies is not None,
            "can_resend": bool(
                message.iliveit_id
                and message.campaign
                and not message.campaign.is_otp
                and request.user.has_perm(LAUNCH)
            ),
            "resends": message.resends.order_by("id"),
            "content": _content_shown(message),
        },
    )


def _slides_shown(message: Message) -> list:
    """An MMS message's slides, each image with the address of its thumbnail (served by
    messaging's slide_media, which checks the user may see the campaign)."""
    campaign = message.campaign
    if campaign is None or campaign.channel != Channel.MMS:
        return []
    return [
        (
            slide,
            reverse("messaging:slide_media", args=[campaign.pk, slide.pk])
            if slide.media and slide.media_type == SlideMedia.IMAGE
            else "",
        )
        for slide in campaign.slides.order_by("position", "id")
    ]


def _content_shown(message: Message) -> ContentPreview | None:
    """What the message is sent with (the submit's own rendering), or None when there is
    nothing to show: no campaign, or a one-time PIN's, whose content is erased once sent."""
    campaign = message.campaign
    if campaign is None or campaign.is_otp:
        return None
    return content_preview(message)


@login_required
@can_view_campaigns
def message_archived_view(request: HttpRequest, pk: int) -> HttpResponse:
    message = _visible_message(request, pk)
    context: dict = {"message": message, "campaign": message.campaign}
    try:
        archived = message_archived(message=message)
    except ArchiveUnavailable as error:
        context["error"] = error.reason
        return render(request, "reports/message_archived.html", context, status=error.status)
    html = archived.data.get("html") if archived.type == "email" else None
    context.update(
        archived=archived,
        data_text=archived_data_text(data=archived.data),
        preview=email_preview_document(body_html=html) if isinstance(html, str) and html else "",
    )
    return render(request, "reports/message_archived.html", context)


@login_required
@can_view_campaigns
@permission_required(VIEW_REPLY, raise_exception=True)
def message_reply_raw(request: HttpRequest, pk: int, reply_pk: int) -> FileResponse:
    """A reply's raw email, for those who may see replies but not the admin. Never served from
    MEDIA_URL: a reply is personal data."""
    message = _visible_message(request, pk)
    reply = get_object_or_404(Reply, pk=reply_pk, message=message)
    if not reply.raw_email:
        raise Http404("This reply has no raw email.")
    return FileResponse(
        reply.raw_email.open("rb"),
        as_attachment=True,
        filename=f"reply-{reply.pk}.eml",
        content_type="message/rfc822",
    )


@login_required
@can_view_campaigns
def message_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = visible_campaign(request, pk)
    response = StreamingHttpResponse(
        campaign_export_rows(campaign=campaign, with_replies=request.user.has_perm(VIEW_REPLY)),
        content_type="text/csv; charset=utf-8",
    )
    filename = campaign_export_filename(campaign=campaign)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: not kept by shared caches or the browser's.
    response.headers["Cache-Control"] = "private, no-store"
    return response
