from django.contrib import admin

from access.models import ApplicationGrant
from access.rules import scoped


class GrantScopedAdmin(admin.ModelAdmin):
    """An admin whose lists and pages show only rows of the applications the user is granted;
    `to_application` is the lookup from the model to its Application ("" for Application)."""

    to_application = ""

    def get_queryset(self, request):
        return scoped(
            super().get_queryset(request), request.user, to_application=self.to_application
        )


@admin.register(ApplicationGrant)
class ApplicationGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "application", "granted_at"]
    list_filter = ["application"]
    search_fields = ["user__username", "user__email", "application__name"]
    autocomplete_fields = ["user"]
