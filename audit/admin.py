from django.contrib import admin

from access.admin import PortalAdmin
from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(PortalAdmin):
    """Read-only: an audit log that staff could edit would prove nothing."""

    list_display = ["at", "who", "action", "target_label", "detail"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_label", "target_id"]
    date_hierarchy = "at"
    list_select_related = False

    @admin.display(description="who", ordering="actor_name")
    def who(self, entry: AuditEntry) -> str:
        # No actor is the portal itself (an automatic pause, a scheduled launch), not a blank.
        return entry.actor_name or "portal"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
