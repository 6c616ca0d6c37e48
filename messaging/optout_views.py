"""Staff pages for the applications' opt-out lists, at /opt-outs/.

Viewers read a list; composers add a recipient by hand, import a CSV and export the list;
admins remove an entry. An application the user is not granted answers 404, as campaigns do.
Views stay thin: messaging/optout_lists.py finds, reads and writes; messaging/optouts.py
records and removes, and audits each change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from messaging.forms.errors import error_summary
from messaging.forms.optouts import OptOutAddForm, OptOutImportForm, OptOutSearchForm
from messaging.guards import COMPOSE, LAUNCH, OPT_OUT_ADD, OPT_OUT_REMOVE, OPT_OUT_VIEW, VIEW
from messaging.models import Application, OptOut, OptOutSource
from messaging.optout_lists import (
    RecipientFileError,
    opt_out_export_filename,
    opt_out_export_rows,
    opt_outs_filter,
    read_opt_out_file,
)
from messaging.optouts import opt_out_reason, opt_out_record, opt_out_remove, opt_outs_record_many
from messaging.visibility import applications_visible, messages_visible

PAGE_SIZE = 50


def _visible_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(applications_visible(request.user), pk=pk)


@login_required
@permission_required(OPT_OUT_VIEW, raise_exception=True)
def application_list(request: HttpRequest) -> HttpResponse:
    """The applications the user is granted, each with the size of its list."""
    applications = (
        applications_visible(request.user)
        .annotate(opt_outs_count=Count("opt_outs", distinct=True))
        .order_by("name")
    )
    return render(request, "messaging/optout_applications.html", {"applications": applications})


@login_required
@permission_required(OPT_OUT_VIEW, raise_exception=True)
@never_cache
def opt_out_list(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible_application(request, pk)
    return _list_page(request, application)


def _list_page(
    request: HttpRequest,
    application: Application,
    *,
    add_form: OptOutAddForm | None = None,
    import_form: OptOutImportForm | None = None,
    import_result=None,
    status: int = 200,
) -> HttpResponse:
    search = OptOutSearchForm(request.GET)
    search.is_valid()  # a value too long is shown with its error and left out
    entries = opt_outs_filter(
        application=application,
        text=search.cleaned_data.get("q", ""),
        source=search.cleaned_data.get("source", ""),
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    user = request.user
    can_add = user.has_perm(OPT_OUT_ADD)
    errors = error_summary(add_form) if add_form else []
    errors += error_summary(import_form) if import_form else []
    context = {
        "application": application,
        "search": search,
        "page": page,
        "entries": page.object_list,
        "message_links": _message_links(request, page.object_list),
        "query": query.urlencode(),
        "filtered": bool(search.cleaned_data.get("q") or search.cleaned_data.get("source")),
        "total": OptOut.objects.filter(application=application).count(),
        "can_add": can_add,
        "can_remove": user.has_perm(OPT_OUT_REMOVE),
        "add_form": add_form or (OptOutAddForm() if can_add else None),
        "import_form": import_form or (OptOutImportForm() if can_add else None),
        "import_result": import_result,
        "errors": errors,
    }
    return render(request, "messaging/optout_list.html", context, status=status)


def _message_links(request: HttpRequest, entries) -> set[int]:
    """Ids of the page's causing messages that this user may open (one query for the page):
    the message page needs a campaign permission and a grant of the message's application."""
    ids = {entry.message_id for entry in entries if entry.message_id}
    if not ids or not any(request.user.has_perm(perm) for perm in (COMPOSE, LAUNCH, VIEW)):
        return set()
    return set(messages_visible(request.user).filter(pk__in=ids).values_list("pk", flat=True))


@login_required
@permission_required(OPT_OUT_ADD, raise_exception=True)
@require_POST
def opt_out_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible_application(request, pk)
    form = OptOutAddForm(request.POST)
    if not form.is_valid():
        return _list_page(request, application, add_form=form, status=400)
    entry, new = opt_out_record(
        application=application,
        recipient=form.cleaned_data["recipient"],
        source=OptOutSource.MANUAL,
        user=request.user,
    )
    if new:
        messages.success(request, f"{entry.recipient} is opted out of {application.name}.")
    else:
        messages.info(
            request, f"{entry.recipient} was already on the list: {opt_out_reason(entry)}."
        )
    return redirect("optouts:list", pk=application.pk)


@login_required
@permission_required(OPT_OUT_ADD, raise_exception=True)
@require_POST
def opt_out_import(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible_application(request, pk)
    form = OptOutImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, application, import_form=form, status=400)
    try:
        parsed = read_opt_out_file(file=form.cleaned_data["file"])
    except RecipientFileError as error:
        form.add_error("file", str(error))
        return _list_page(request, application, import_form=form, status=400)
    added, already = opt_outs_record_many(
        application=application,
        recipients=parsed.accepted,
        source=OptOutSource.IMPORT,
        reason=f"imported from {form.cleaned_data['file'].name}",
        user=request.user,
    )
    result = {"added": added, "already": already, "parsed": parsed}
    return _list_page(request, application, import_result=result)


@login_required
@permission_required(OPT_OUT_ADD, raise_exception=True)
@never_cache
def opt_out_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    application = _visible_application(request, pk)
    response = StreamingHttpResponse(
        opt_out_export_rows(application=application), content_type="text/csv; charset=utf-8"
    )
    filename = opt_out_export_filename(application=application)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@permission_required(OPT_OUT_REMOVE, raise_exception=True)
def opt_out_remove_page(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """GET asks "are you sure?"; POST removes. The recipient may be sent to again after."""
    application = _visible_application(request, pk)
    entry = get_object_or_404(OptOut, pk=entry_pk, application=application)
    if request.method == "POST":
        opt_out_remove(opt_out=entry, user=request.user, reason="removed by staff")
        messages.success(
            request, f"{entry.recipient} is no longer opted out of {application.name}."
        )
        return redirect("optouts:list", pk=application.pk)
    return render(
        request,
        "messaging/optout_remove.html",
        {"application": application, "entry": entry},
    )
