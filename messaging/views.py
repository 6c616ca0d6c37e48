"""Staff pages for composing, importing recipients, test-sending and launching campaigns.

Views stay thin: forms validate, messaging/compose.py saves, messaging/recipients/ imports
recipients and messaging/services/ launches and controls campaigns.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from iliveit_portal.templatetags.portal import time_text
from messaging.canary import canary_status
from messaging.compose import (
    CampaignNotEditable,
    campaign_is_editable,
    campaign_save,
    email_preview_document,
    preview_prefix,
)
from messaging.costs import campaign_estimate, campaign_sms_cost
from messaging.forms import (
    CAMPAIGN_FORMS,
    SLIDES_PREFIX,
    EmailCampaignForm,
    LaunchForm,
    RecipientsForm,
    SlideFormSet,
    TestSendForm,
    error_summary,
)
from messaging.guards import (
    COMPOSE,
    LAUNCH,
    can_view_campaigns,
    visible_campaign,
)
from messaging.hints import HintsWatch, hints_watched
from messaging.models import Campaign, CampaignState, Channel, MessageState
from messaging.previews import campaign_preview
from messaging.sms import gsm_alphabet, sms_segments
from messaging.states import IN_FLIGHT, LAUNCHABLE_STATES
from messaging.visibility import applications_visible, messages_visible


def _services():
    # Imported on use: services pulls in the iLiveIt client, payloads and postback signing,
    # none of which the compose pages need.
    from messaging import services

    return services


# --- composing ------------------------------------------------------------------------------------


@login_required
@permission_required(COMPOSE, raise_exception=True)
def compose_choose(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/compose_choose.html", {"channels": Channel.choices})


@login_required
@permission_required(COMPOSE, raise_exception=True)
def campaign_new(request: HttpRequest, channel: str) -> HttpResponse:
    if channel not in Channel.values:
        raise Http404("No such channel.")
    return _compose(request, Campaign(channel=channel))


@login_required
@permission_required(COMPOSE, raise_exception=True)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    if not campaign_is_editable(campaign):
        messages.error(
            request,
            f"“{campaign.name}” is {campaign.get_state_display().lower()}; only draft or "
            "scheduled campaigns can be edited.",
        )
        return redirect("messaging:campaign_detail", pk=campaign.pk)
    return _compose(request, campaign)


def _compose(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    form_class = CAMPAIGN_FORMS[campaign.channel]
    is_mms = campaign.channel == Channel.MMS
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    form = form_class(*data, instance=campaign, applications=applications_visible(request.user))
    slides = SlideFormSet(*data, instance=campaign, prefix=SLIDES_PREFIX) if is_mms else None
    if request.method == "POST" and all([form.is_valid(), slides is None or slides.is_valid()]):
        attachments = form.attachment_changes() if isinstance(form, EmailCampaignForm) else None
        try:
            saved = campaign_save(
                form=form, slides=slides, attachments=attachments, user=request.user
            )
        except CampaignNotEditable as error:
            messages.error(request, str(error))
            return redirect("messaging:campaign_detail", pk=campaign.pk)
        messages.success(request, f"Saved “{saved.name}”.")
        return redirect("messaging:campaign_detail", pk=saved.pk)
    body_html = form["body_html"].value() if "body_html" in form.fields else ""
    body_text = form["body_text"].value() if "body_text" in form.fields else ""
    context = {
        "campaign": campaign,
        "form": form,
        "slides": slides,
        "errors": error_summary(form, slides),
        "preview": email_preview_document(body_html=body_html or ""),
        "preview_prefix": preview_prefix(),
        "sms_count": sms_segments((body_text or "").replace("\r\n", "\n")),
        "gsm_alphabet": gsm_alphabet(),
    }
    return render(
        request, "messaging/compose.html", context, status=400 if context["errors"] else 200
    )


# --- the campaign page ----------------------------------------------------------------------------


@login_required
@can_view_campaigns
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    return _detail(request, campaign)


def _detail(
    request: HttpRequest,
    campaign: Campaign,
    *,
    test_form: TestSendForm | None = None,
    launch_form: LaunchForm | None = None,
    status: int = 200,
) -> HttpResponse:
    services = _services()
    by_state = services.campaign_progress(campaign=campaign)
    states = [(value, label, by_state[value]) for value, label in MessageState.choices]
    failures = (
        services.campaign_failures(campaign=campaign)
        if by_state[MessageState.FAILED]
        else services.CampaignFailures(retryable=0, final=())
    )
    recipient_preview = campaign_preview(
        campaign=campaign, search=request.GET.get("preview", "")[:254]
    )
    drafts = by_state[MessageState.DRAFT]
    scrub = (
        services.campaign_scrub_summary(campaign=campaign)
        if campaign.channel in services.SCRUB_CHANNELS
        else None
    )
    context = {
        "campaign": campaign,
        "settling": campaign_settling(campaign, by_state),
        "canary": canary_status(campaign, counts=by_state),
        "recipients_count": sum(by_state.values()),
        "states": states,
        "failures": failures,
        "test_messages": campaign.messages.filter(is_test=True).order_by("-id")[:5],
        "slides": campaign.slides.all() if campaign.channel == Channel.MMS else (),
        "attachments": campaign.attachments.all() if campaign.channel == Channel.EMAIL else (),
        "preview": email_preview_document(body_html=campaign.body_html),
        "sms_count": sms_segments(campaign.body_text),
        # Then the count above is of the text as written; each recipient's is in the preview.
        "sms_personalised": "{{" in campaign.body_text,
        "template_json": json.dumps(campaign.template_data, indent=2, ensure_ascii=False),
        "preview_search": request.GET.get("preview", "")[:254],
        "recipient_preview": recipient_preview,
        "sms_cost": campaign_sms_cost(campaign),
        "estimate": campaign_estimate(campaign, drafts=drafts),
        "scrub": scrub,
        # Offered before launch; afterwards only the last check's findings stay on show.
        "scrubbable": scrub is not None
        or (campaign.channel in services.SCRUB_CHANNELS and campaign.state in LAUNCHABLE_STATES),
        "can_compose": request.user.has_perm(COMPOSE),
        "can_edit": campaign_is_editable(campaign) and request.user.has_perm(COMPOSE),
        "can_launch": request.user.has_perm(LAUNCH),
        "controls": _controls(campaign, retryable=failures.retryable),
        "test_form": test_form or _test_form(campaign, recipient_preview),
        "launch_form": launch_form or LaunchForm(),
        "now": timezone.now(),
    }
    return render(request, "messaging/campaign_detail.html", context, status=status)


def _test_form(campaign: Campaign, preview) -> TestSendForm:
    """A test is rendered, unless the composer says otherwise, as the previewed recipient's."""
    initial = {"fields_of": preview.message.recipient} if preview else {}
    return TestSendForm(campaign=campaign, initial=initial)


def _controls(campaign: Campaign, *, retryable: int) -> dict[str, bool]:
    """Which buttons to offer; the services still decide, and say why they refuse."""
    state = campaign.state
    finished = state in (CampaignState.DONE, CampaignState.CANCELLED)
    return {
        "test_send": not finished,
        "launch": state in LAUNCHABLE_STATES,
        "pause": state == CampaignState.SENDING,
        "resume": state == CampaignState.PAUSED,
        "cancel": not finished,
        "retry_failed": retryable > 0
        and state not in (CampaignState.DRAFT, CampaignState.CANCELLED),
    }


@login_required
@permission_required(LAUNCH, raise_exception=True)
@require_POST
def campaign_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    form = TestSendForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return _detail(request, campaign, test_form=form, status=400)
    services = _services()
    try:
        with hints_watched() as hints:
            message = services.campaign_test_send(
                campaign=campaign,
                recipient=form.cleaned_data["recipient"],
                user=request.user,
                fields=form.cleaned_data["fields"],
            )
    except services.CampaignError as error:
        messages.error(request, f"Test not sent: {error}")
    else:
        messages.success(
            request,
            f"Test message to {message.recipient} is {message.get_state_display().lower()}.",
        )
        _say_if_queue_unreachable(request, hints)
    return redirect("messaging:campaign_detail", pk=campaign.pk)


@login_required
@permission_required(LAUNCH, raise_exception=True)
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    form = LaunchForm(request.POST)
    if not form.is_valid():
        return _detail(request, campaign, launch_form=form, status=400)
    services = _services()
    at = form.cleaned_data["at"]
    try:
        with hints_watched() as hints:
            campaign = services.campaign_launch(
                campaign=campaign,
                user=request.user,
                at=at,
                canary_size=form.cleaned_data["canary_size"] or 0,
                canary_min_success=(form.cleaned_data["canary_min_success"] or 90) / 100,
            )
    except services.CampaignError as error:
        messages.error(request, f"Not launched: {error}")
    else:
        when = time_text(at) if at else None
        messages.success(request, f"Scheduled for {when}." if when else "Launched.")
        _say_if_queue_unreachable(request, hints)
    return redirect("messaging:campaign_detail", pk=campaign.pk)


def _say_if_queue_unreachable(request: HttpRequest, hints: HintsWatch) -> None:
    if hints.missed:
        messages.warning(
            request,
            "The task queue cannot be reached just now, so the workers have not been told yet. "
            "Nothing is lost: sending starts by itself once they reach it again.",
        )


@login_required
@can_view_campaigns
def campaign_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The live part of the campaign page, polled by static/messaging/progress.js."""
    campaign = visible_campaign(request, pk)
    states = _services().campaign_progress(campaign=campaign)
    return JsonResponse(
        {
            "state": campaign.state,
            "state_label": campaign.get_state_display(),
            "paused_reason": campaign.paused_reason,
            "states": states,
            "settling": campaign_settling(campaign, states),
        }
    )


def campaign_settling(campaign: Campaign, states: dict[str, int]) -> bool:
    """Whether the page should keep refreshing: the campaign is under way, or it is done
    submitting but delivery reports are still coming in."""
    live = campaign.state in (CampaignState.SENDING, CampaignState.PAUSED, CampaignState.SCHEDULED)
    return live or any(states[state] for state in IN_FLIGHT)


# Control buttons: URL action -> (service function, what to say when it worked).
CONTROLS = {
    "pause": ("campaign_pause", "Paused."),
    "resume": ("campaign_resume", "Resumed."),
    "cancel": ("campaign_cancel", "Cancelled."),
    "retry-failed": ("campaign_retry_failed", "{count} failed message(s) queued again."),
}


# --- campaign tools: clone, handset check ---------------------------------------------------------


@login_required
@permission_required(COMPOSE, raise_exception=True)
@require_POST
def campaign_clone(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    services = _services()
    try:
        clone = services.campaign_clone(campaign=campaign, user=request.user)
    except services.CampaignError as error:
        messages.error(request, f"Not cloned: {error}")
        return redirect("messaging:campaign_detail", pk=campaign.pk)
    messages.success(
        request,
        f"This is a copy of “{campaign.name}”: its content and settings, without recipients. "
        "Add recipients before you launch it.",
    )
    return redirect("messaging:campaign_detail", pk=clone.pk)


@login_required
@permission_required(LAUNCH, raise_exception=True)
@require_POST
def campaign_check_handsets(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    services = _services()
    try:
        with hints_watched() as hints:
            scrub = services.campaign_scrub_start(campaign=campaign, user=request.user)
    except services.CampaignError as error:
        messages.error(request, f"Handsets not checked: {error}")
    else:
        if scrub.state == scrub.State.RUNNING and hints.missed:
            # Nothing sweeps up a lost check, so say so now and let it be started again.
            reason = "the task queue could not be reached; check again in a moment"
            services.campaign_scrub_abandon(campaign=campaign, reason=reason)
            messages.error(request, f"Handsets not checked: {reason}.")
        elif scrub.state == scrub.State.RUNNING:
            messages.success(request, f"Checking {scrub.total} handsets; this page shows how far.")
        elif scrub.state == scrub.State.FAILED:
            messages.error(request, f"The check stopped: {scrub.error}")
        else:
            found = services.campaign_scrub_summary(campaign=campaign)
            messages.success(
                request,
                f"Checked {found.answered} handset{'s' if found.answered != 1 else ''}: "
                f"{found.no_mms} cannot receive MMS.",
            )
    return redirect(reverse("messaging:campaign_detail", args=[campaign.pk]) + "#handsets")


@login_required
@permission_required(COMPOSE, raise_exception=True)
@require_POST
def campaign_drop_no_mms(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    services = _services()
    try:
        dropped = services.campaign_drop_no_mms(campaign=campaign, user=request.user)
    except services.CampaignError as error:
        messages.error(request, f"Nobody dropped: {error}")
    else:
        messages.success(
            request,
            f"Dropped {dropped} recipient{'s' if dropped != 1 else ''} who cannot receive MMS.",
        )
    return redirect(reverse("messaging:campaign_detail", args=[campaign.pk]) + "#handsets")


@login_required
@permission_required(LAUNCH, raise_exception=True)
@require_POST
def campaign_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    function_name, done = CONTROLS[action]
    services = _services()
    try:
        with hints_watched() as hints:
            result = getattr(services, function_name)(campaign=campaign, user=request.user)
    except services.CampaignError as error:
        messages.error(request, f"Could not {action.replace('-', ' ')}: {error}")
    else:
        messages.success(request, done.format(count=result))
        _say_if_queue_unreachable(request, hints)
    return redirect("messaging:campaign_detail", pk=campaign.pk)


# --- recipients -----------------------------------------------------------------------------------


@login_required
@permission_required(COMPOSE, raise_exception=True)
def campaign_recipients(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    result = None
    if request.method == "POST":
        form = RecipientsForm(request.POST, request.FILES)
        if form.is_valid():
            result = _import_recipients(campaign=campaign, form=form)
    else:
        form = RecipientsForm()
    recipients = campaign.messages.filter(is_test=False)
    find = request.GET.get("find", "").strip()[:254]
    context = {
        "campaign": campaign,
        "form": form,
        "errors": error_summary(form),
        "result": result,
        "recipients_count": recipients.count(),
        "find": find,
        "found": (
            list(_services().campaign_recipients_matching(campaign=campaign, text=find)[:5])
            if find
            else None
        ),
        "latest": recipients.order_by("-id")[:20],
        "editable": campaign_is_editable(campaign),
    }
    return render(request, "messaging/recipients.html", context, status=400 if form.errors else 200)


@login_required
@permission_required(COMPOSE, raise_exception=True)
@require_POST
def campaign_recipient_remove(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    campaign = visible_campaign(request, pk)
    services = _services()
    try:
        removed = services.campaign_remove_recipient(
            campaign=campaign, message_id=message_pk, user=request.user
        )
    except services.CampaignError as error:
        messages.error(request, f"Not removed: {error}")
    else:
        messages.success(request, f"Removed {removed.recipient} from “{campaign.name}”.")
    return redirect("messaging:campaign_recipients", pk=campaign.pk)


def _import_recipients(*, campaign: Campaign, form: RecipientsForm):
    """Parse the upload or the pasted lines and add them; a refusal becomes a form error."""
    from messaging import recipients as importer

    upload = form.cleaned_data.get("file")
    try:
        if upload:
            parsed = importer.read_recipient_file(file=upload, channel=campaign.channel)
        else:
            parsed = importer.parse_recipients(
                lines=form.cleaned_data["pasted"], channel=campaign.channel
            )
        return importer.campaign_add_recipients(campaign=campaign, parsed=parsed)
    except importer.RecipientFileError as error:
        form.add_error("file", str(error))
    except importer.CampaignNotEditable as error:
        form.add_error(None, str(error))
    return None


@login_required
@permission_required(LAUNCH, raise_exception=True)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(messages_visible(request.user), pk=pk)
    services = _services()
    try:
        copy = services.message_resend(message=message, user=request.user)
    except services.CampaignError as error:
        messages.error(request, str(error))
        return redirect("reports:message_detail", pk=message.pk)
    messages.success(request, "Resent. This is the new message; its reports follow here.")
    return redirect("reports:message_detail", pk=copy.pk)
