"""Admin for the postback inbox and message events: read-only, for looking into what iLiveIt
sent (quarantined and suspicious postbacks above all) and which reports came late.

Inbox rows are the record of what arrived; they are never added or edited here, and only a
superuser may delete one.
"""

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from access.admin import GrantScopedAdmin
from messaging.admin import HistoryAdmin, MessageAdmin
from messaging.models import Message
from messaging.visibility import campaigns_visible
from postbacks.models import MessageEvent, PostbackInbox, Reply
from postbacks.reconcile import late_postbacks_count

BODY_PREVIEW_CHARS = 4000


class MessageRowAdmin(GrantScopedAdmin, HistoryAdmin):
    """A read-only history of rows that belong to a message: scoped by the message's
    application, each row linking to its message."""

    to_application = "message__campaign__application"

    @admin.display(description="message")
    def message_link(self, row):
        if row.message is None:
            return "-"
        url = reverse("admin:messaging_message_change", args=[row.message.pk])
        return format_html('<a href="{}">{}</a>', url, row.message)


@admin.register(PostbackInbox)
class PostbackInboxAdmin(MessageRowAdmin):
    list_display = ["id", "kind", "message_link", "state", "reason", "received_at", "source_ip"]
    list_filter = ["state", "kind", "truncated"]
    list_select_related = ["message"]
    search_fields = ["=id", "=ref", "=message__id", "message__iliveit_id", "reason"]
    date_hierarchy = "received_at"
    fields = [
        "id",
        "kind",
        "ref",
        "message_link",
        "state",
        "reason",
        "received_at",
        "processed_at",
        "source_ip",
        "truncated",
        "headers",
        "body_text",
    ]
    readonly_fields = fields

    @admin.display(description="body")
    def body_text(self, inbox: PostbackInbox):
        # The body is whatever reached the URL: decoded leniently and escaped by format_html.
        text = bytes(inbox.body).decode("utf-8", errors="replace")
        more = len(text) > BODY_PREVIEW_CHARS
        shown = text[:BODY_PREVIEW_CHARS]
        suffix = f"\n… ({len(text) - BODY_PREVIEW_CHARS} more characters)" if more else ""
        return format_html(
            '<pre style="white-space: pre-wrap; word-break: break-all">{}{}</pre>', shown, suffix
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Only to clear out old rows; the body is the record of what iLiveIt sent.
        return request.user.is_active and request.user.is_superuser


class LateFilter(admin.SimpleListFilter):
    title = "late"
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return [("yes", "Later than promised"), ("no", "On time")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(late_by_s__gt=0)
        if self.value() == "no":
            return queryset.filter(late_by_s=0)
        return queryset


@admin.register(MessageEvent)
class MessageEventAdmin(MessageRowAdmin):
    list_display = [
        "message_link",
        "stage",
        "code",
        "description",
        "stage_at",
        "source",
        "late_by_s",
        "received_at",
    ]
    list_filter = ["source", LateFilter, "stage"]
    list_select_related = ["message"]
    search_fields = ["=message__id", "message__iliveit_id"]
    fields = [
        "message_link",
        "stage",
        "code",
        "description",
        "stage_at",
        "source",
        "late_by_s",
        "received_at",
    ]
    readonly_fields = fields

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The campaign link (?message__campaign=<id>) is not one of the sidebar filters.
        return lookup == "message__campaign" or super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        # With ?message__campaign=<id>, the page heads with that campaign's late postbacks.
        extra_context = extra_context or {}
        campaign_id = request.GET.get("message__campaign", "")
        # isdigit() alone takes "²", which int() refuses; past 2**63 no id exists, and SQLite
        # could not even bind the number.
        if campaign_id.isascii() and campaign_id.isdigit() and int(campaign_id) < 2**63:
            # Only a campaign the user may see: the heading must not name, or count, another.
            campaign = campaigns_visible(request.user).filter(pk=int(campaign_id)).first()
            if campaign is not None:
                extra_context["late_campaign"] = campaign
                extra_context["late_postbacks"] = late_postbacks_count(campaign=campaign)
        return super().changelist_view(request, extra_context=extra_context)


class ReplyInline(admin.TabularInline):
    """The recipient's replies, as iLiveIt posted them; read-only like the message."""

    model = Reply
    extra = 0
    can_delete = False
    fields = ["received_at", "kind", "sender", "subject", "text", "raw_email_link"]
    readonly_fields = fields

    @admin.display(description="raw email")
    def raw_email_link(self, reply: Reply) -> str:
        if not reply.raw_email:
            return "—"
        # Served through the admin, never from MEDIA_URL: a reply is personal data.
        url = reverse("admin:messaging_message_reply_raw", args=[reply.message_id, reply.pk])
        return format_html('<a href="{}">Download (.eml)</a>', url)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The message admin of messaging, with the replies that postbacks stores for each message.
admin.site.unregister(Message)


@admin.register(Message)
class MessageWithRepliesAdmin(MessageAdmin):
    inlines = [*MessageAdmin.inlines, ReplyInline]

    def get_urls(self):
        raw = self.admin_site.admin_view(self.reply_raw_view)
        return [
            path(
                "<int:message_id>/replies/<int:reply_id>/raw/",
                raw,
                name="messaging_message_reply_raw",
            ),
            *super().get_urls(),
        ]

    def reply_raw_view(self, request: HttpRequest, message_id: int, reply_id: int):
        message = get_object_or_404(self.get_queryset(request), pk=message_id)
        # The same rights the inline asks for: the message, and its replies.
        if not self.has_view_permission(request, message) or not request.user.has_perm(
            "postbacks.view_reply"
        ):
            raise Http404
        reply = get_object_or_404(Reply, pk=reply_id, message=message)
        if not reply.raw_email:
            raise Http404
        return FileResponse(
            reply.raw_email.open("rb"),
            as_attachment=True,
            filename=f"reply-{reply.pk}.eml",
            content_type="message/rfc822",
        )
