from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from access.models import ApplicationGrant
from access.rules import scoped


class PortalChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # A date-hierarchy year of 25 digits overflows datetime(); Django turns only a
            # ValueError into its "invalid filter" answer, and would answer 500 instead.
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        try:
            return super().get_results(request)
        except OverflowError as error:
            # A 25-digit id in a related lookup (?message__campaign=...) that no filter spec
            # checked: PostgreSQL matches nothing, but SQLite cannot even bind the number.
            raise IncorrectLookupParameters(error) from error


class PortalAdmin(admin.ModelAdmin):
    """The base of every admin of the portal: a filter value no database or date can hold is
    an invalid filter, never a server error."""

    def get_changelist(self, request, **kwargs):
        return PortalChangeList


class GrantScopedAdmin(PortalAdmin):
    """An admin whose lists and pages show only rows of the applications the user is granted;
    `to_application` is the lookup from the model to its Application ("" for Application)."""

    to_application = ""

    def get_queryset(self, request):
        return scoped(
            super().get_queryset(request), request.user, to_application=self.to_application
        )


class GrantedFilter(admin.RelatedFieldListFilter):
    """A list filter over a related model (applications, campaigns) that offers only the rows
    of the applications the user is granted: the names of the others are not theirs to see.
    The related model's own GrantScopedAdmin does the narrowing."""

    def field_choices(self, field, request, model_admin):
        related_admin = model_admin.admin_site.get_model_admin(field.related_model)
        if not isinstance(related_admin, GrantScopedAdmin):
            raise TypeError(f"{field.related_model.__name__} has no GrantScopedAdmin to filter by")
        choices = related_admin.get_queryset(request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            choices = choices.order_by(*ordering)
        return [(choice.pk, str(choice)) for choice in choices]


@admin.register(ApplicationGrant)
class ApplicationGrantAdmin(GrantScopedAdmin):
    to_application = "application"
    list_display = ["user", "application", "granted_at"]
    list_filter = [("application", GrantedFilter)]
    search_fields = ["user__username", "user__email", "application__name"]
    autocomplete_fields = ["user"]
