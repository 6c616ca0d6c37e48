from django.contrib import admin

from access.admin import PortalAdmin
from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(PortalAdmin):
    """Read-only: an audit log that staff could edit would prove nothing."""

    list_display = ["at", "actor_name", "action", "target_label", "detail"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_label", "target_id"]
    date_hierarchy = "at"
    list_select_related = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
