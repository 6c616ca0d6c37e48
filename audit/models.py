from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CAMPAIGN_LAUNCH = "campaign.launch", "Campaign launched"
    CAMPAIGN_PAUSE = "campaign.pause", "Campaign paused"
    CAMPAIGN_RESUME = "campaign.resume", "Campaign resumed"
    CAMPAIGN_CANCEL = "campaign.cancel", "Campaign cancelled"
    CAMPAIGN_RETRY_FAILED = "campaign.retry_failed", "Failed messages retried"
    CAMPAIGN_CLONE = "campaign.clone", "Campaign cloned"
    CAMPAIGN_RECIPIENT_REMOVE = "campaign.recipient_remove", "Recipient removed from a draft"
    CAMPAIGN_DROP_NO_MMS = "campaign.drop_no_mms", "Recipients who cannot receive MMS dropped"
    MESSAGE_RESEND = "message.resend", "Message resent"
    APPLICATION_CREATE = "application.create", "iLiveIt application created"
    APPLICATION_CHANGE = "application.change", "iLiveIt application changed"
    APPLICATION_TOKEN = "application.token", "iLiveIt token changed"
    API_TOKEN_CREATE = "api_token.create", "API token created"
    API_TOKEN_REVOKE = "api_token.revoke", "API token revoked"
    OPT_OUT_ADD = "opt_out.add", "Recipient opted out"
    OPT_OUT_REMOVE = "opt_out.remove", "Recipient opted back in"


class AuditEntry(models.Model):
    """Who did what to which object, kept apart from the object so that it outlives it."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept as text too: the entry must still say who once the user is deleted. Empty for the
    # portal itself (the sweeper launching a scheduled campaign, an automatic pause).
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    # Never a token or a message body: ids, counts and reasons only.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # "what happened to this campaign", from its admin page
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_at"),
        ]

    def __str__(self) -> str:
        who = self.actor_name or "portal"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_label}".strip()
