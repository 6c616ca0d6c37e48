"""API tokens in the admin: made through api.tokens (so the secret is shown once, and audited),
revoked by an action, never edited or deleted (the audit log points at them)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from access.admin import PortalAdmin
from api.models import ApiToken
from api.tokens import ApiTokenError, api_token_create, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(PortalAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        # A token acts with its user's rights: an Admin who is not a superuser manages tokens
        # of users no stronger than themselves, so the admin cannot mint a superuser's token.
        tokens = super().get_queryset(request)
        if request.user.is_superuser:
            return tokens
        return tokens.filter(user__is_superuser=False)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["user", "name", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # tokens are not edited; only revoked
        created = api_token_create(user=obj.user, name=obj.name, actor=request.user)
        # The admin's response and log entries use the saved row.
        obj.pk, obj.prefix = created.token.pk, created.token.prefix
        messages.warning(
            request,
            f"The token is {created.secret} — copy it now; it will not be shown again.",
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.select_related("user"):
            try:
                api_token_revoke(token=token, actor=request.user)
            except ApiTokenError:
                continue  # already revoked
            revoked += 1
        messages.success(request, f"{revoked} token(s) revoked.")
