"""Admin for applications (with write-only tokens), campaigns, messages and opt-outs.

Campaigns are composed, launched and controlled on the staff pages (messaging/views.py); here
they are read-only and link there, so that there is one way to change them and it runs the same
checks. Messages change only through sending and postbacks, so they are read-only too.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from access.admin import GrantedFilter, GrantScopedAdmin, PortalAdmin
from messaging.applications import application_save
from messaging.compose import campaign_is_editable
from messaging.connection import application_check_connection
from messaging.models import Application, Campaign, Message, OptOut


def _https_by_default(field, **kwargs):
    # An endpoint typed without a scheme is an iLiveIt host: reach it over TLS.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class ApplicationForm(forms.ModelForm):
    # The stored token is never put in the page: this field only ever writes one.
    new_token = forms.CharField(
        label="New token",
        required=False,
        strip=True,
        max_length=Application._meta.get_field("token").max_length,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Paste a token to replace the current one; leave empty to keep it.",
    )

    class Meta:
        model = Application
        fields = ["name", "environment", "endpoint", "mvno_id", "rate_limit"]
        formfield_callback = _https_by_default

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["new_token"].required = True
            self.fields["new_token"].label = "Token"
            self.fields["new_token"].help_text = "The application token from iLiveIt."

    def clean_new_token(self) -> str:
        token = self.cleaned_data["new_token"]
        if any(character.isspace() for character in token):
            # It goes into an Authorization header as it is.
            raise forms.ValidationError("A token has no spaces or line breaks.")
        return token

    def save(self, commit=True):
        application = super().save(commit=False)
        token = self.cleaned_data.get("new_token")
        if token:
            if application.pk is not None:
                application.token_rotated_at = timezone.now()
            application.token = token
        if commit:
            application.save()
        return application


@admin.register(Application)
class ApplicationAdmin(GrantScopedAdmin):
    form = ApplicationForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "environment", "endpoint", "mvno_id", "rate_limit", "token_hint"]
    list_filter = ["environment"]
    search_fields = ["name"]
    readonly_fields = ["token_hint", "token_rotated_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "environment", "endpoint", "mvno_id", "rate_limit"]}),
        ("Token", {"fields": ["token_hint", "new_token", "token_rotated_at"]}),
        (None, {"fields": ["created_at"]}),
    ]

    @admin.display(description="token")
    def token_hint(self, application: Application) -> str:
        return application.token_hint if application.pk else "—"

    def save_model(self, request, obj, form, change):
        application_save(application=obj, actor=request.user)

    def get_urls(self):
        check = path(
            "<path:object_id>/check-connection/",
            self.admin_site.admin_view(self.check_connection_view),
            name="messaging_application_check_connection",
        )
        return [check, *super().get_urls()]

    def check_connection_view(self, request, object_id):
        """POST: ping iLiveIt as this application, and say on its page what came back."""
        if request.method != "POST":
            raise PermissionDenied
        application = self.get_object(request, object_id)
        if application is None:
            raise Http404("No such application.")
        if not self.has_view_or_change_permission(request, application):
            raise PermissionDenied
        result = application_check_connection(application=application)
        took = f"({result.seconds * 1000:.0f} ms)"
        if result.ok:
            messages.success(
                request, f"Connected: iLiveIt answered ping with “{result.text}” {took}."
            )
        else:
            messages.error(request, f"Connection failed: {result.text} {took}")
        change = reverse("admin:messaging_application_change", args=[application.pk])
        return HttpResponseRedirect(change)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["name", "environment", "endpoint", "mvno_id", "rate_limit"]}),
                ("Token", {"fields": ["new_token"]}),
            ]
        return self.fieldsets


@admin.register(Campaign)
class CampaignAdmin(GrantScopedAdmin):
    to_application = "application"
    list_display = ["name", "channel", "application", "state", "created_at", "links"]
    list_filter = ["channel", "state", ("application", GrantedFilter), "is_otp", "is_single_sends"]
    search_fields = ["name", "subject"]
    list_select_related = ["application"]
    date_hierarchy = "created_at"
    readonly_fields = ["links", "is_single_sends"]
    fields = [
        "links",
        "name",
        "channel",
        "application",
        "state",
        "is_otp",
        "is_single_sends",
        "subject",
        "body_text",
        "from_name",
        "reply_to",
        "template_id",
        "template_data",
        "network",
        "submit_not_before",
        "submit_not_after",
        "created_by",
        "created_at",
        "launched_at",
        "finished_at",
    ]

    @admin.display(description="pages")
    def links(self, campaign: Campaign) -> str:
        detail = reverse("messaging:campaign_detail", args=[campaign.pk])
        recipients = reverse("messaging:campaign_recipients", args=[campaign.pk])
        if not campaign_is_editable(campaign):
            return format_html(
                '<a href="{}">Open</a> · <a href="{}">Recipients</a>', detail, recipients
            )
        edit = reverse("messaging:campaign_edit", args=[campaign.pk])
        return format_html(
            '<a href="{}">Open</a> · <a href="{}">Edit</a> · <a href="{}">Recipients</a>',
            detail,
            edit,
            recipients,
        )

    # Created on the compose pages, changed there or by the services.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A draft was never sent and may go; anything launched is history.
        return (
            obj is not None
            and campaign_is_editable(obj)
            and super().has_delete_permission(request, obj)
        )

    def get_actions(self, request):
        # The bulk delete would skip the per-campaign check above.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class HistoryAdmin(PortalAdmin):
    """What happened is history: shown, never added, edited or deleted through the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(GrantScopedAdmin, HistoryAdmin):
    to_application = "campaign__application"
    list_display = ["recipient", "campaign", "state", "iliveit_id", "attempts", "short_error"]
    list_filter = ["state", "is_test", "campaign__channel"]
    # Exact matches: a case-insensitive equality, not a scan for a substring of millions of rows.
    search_fields = ["=recipient", "=iliveit_id"]
    search_help_text = "Exact recipient or iLiveIt MessageID."
    list_select_related = ["campaign"]
    # Counting every message for "N total" costs a full scan on each page view.
    show_full_result_count = False

    @admin.display(description="last error")
    def short_error(self, message: Message) -> str:
        return Truncator(message.last_error).chars(80)


@admin.register(OptOut)
class OptOutAdmin(GrantScopedAdmin, HistoryAdmin):
    """Read-only: opt-outs are added and removed on the opt-out pages (messaging/optout_views.py)
    and by replies, bounces and the unsubscribe page, all through messaging/optouts.py, which
    audits each change."""

    to_application = "application"
    list_display = ["recipient", "application", "source", "reason", "created_at", "message"]
    list_filter = ["source", ("application", GrantedFilter)]
    search_fields = ["recipient"]
    list_select_related = ["application", "message"]
    date_hierarchy = "created_at"
