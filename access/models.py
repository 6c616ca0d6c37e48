"""Which staff may see which applications' campaigns."""

from django.conf import settings
from django.db import models


class ApplicationGrant(models.Model):
    """A staff user's access to one application: its campaigns, messages and dashboards.
    What the user may do there comes from their role (access/roles.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="application_grants"
    )
    application = models.ForeignKey(
        "messaging.Application", on_delete=models.CASCADE, related_name="grants"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "application"], name="grant_unique"),
        ]
        permissions = [
            ("view_all_applications", "Can see every application's campaigns without a grant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}"
