"""The postback inbox and each message's event history.

Every postback is committed to the inbox before it is answered, so a crash after the answer
loses nothing: rows still `pending` are applied again by the sweeper.
"""

from django.db import models

from messaging.models import Message


class InboxKind(models.TextChoices):
    STATUS = "status", "Status"
    REPLY = "reply", "Reply"


class InboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    # The message has no MessageID yet; applied once it has one.
    WAITING = "waiting", "Waiting for MessageID"
    APPLIED = "applied", "Applied"
    DUPLICATE = "duplicate", "Duplicate"
    QUARANTINED = "quarantined", "Quarantined (malformed)"
    SUSPICIOUS = "suspicious", "Suspicious (names another message)"


class PostbackInbox(models.Model):
    kind = models.CharField(max_length=6, choices=InboxKind.choices, default=InboxKind.STATUS)
    # The ref of the signed URL it came to. The webhook stores only that, so that its one
    # database statement is the insert; applying the row resolves `message` from it.
    ref = models.CharField(max_length=32, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="postbacks"
    )
    body = models.BinaryField()
    truncated = models.BooleanField(default=False)
    headers = models.JSONField(default=dict)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=InboxState.choices, default=InboxState.PENDING)
    reason = models.CharField(max_length=255, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "postback"
        verbose_name_plural = "postback inbox"
        indexes = [
            # Rows not yet applied, oldest first: a drain's batch of one kind, the sweeper's.
            # With the kind in the key a drain's batch is read in id order straight off the
            # index and stops at its limit; on (state, id) it was read in full and sorted, and a
            # bitmap scan never marks the entries of rows applied since as dead, so each batch
            # visited every row applied since the last vacuum (700 blocks late in a run).
            models.Index(
                fields=["state", "kind", "id"],
                name="inbox_unapplied",
                condition=models.Q(state__in=["pending", "waiting"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} postback {self.pk} ({self.state})"


class EventSource(models.TextChoices):
    POSTBACK = "postback", "Postback"
    POLL = "poll", "Status poll"


class MessageEvent(models.Model):
    """One distinct status change of a message, as iLiveIt reported it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    stage = models.CharField(max_length=10)  # build, archive, submit, sent, delivered
    code = models.SmallIntegerField()
    description = models.CharField(max_length=255, blank=True)
    stage_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=EventSource.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    # Seconds past the provider's one-hour promise at arrival; 0 when on time.
    late_by_s = models.PositiveIntegerField(default=0)

    class Meta:
        # message_id, not message: ordering by the relation follows Message's own ordering
        # through a join, which every unordered query then paid for (events_known joined all
        # the campaign's messages, 10-15 ms a drain batch).
        ordering = ["message_id", "stage_at", "id"]
        constraints = [
            # A repeated postback names the same stage, code and time: it is not a new event.
            models.UniqueConstraint(
                fields=["message", "stage", "code", "stage_at"],
                name="event_unique_stage_change",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.code} at {self.stage_at}"


class ReplyKind(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


def raw_email_path(reply: "Reply", filename: str) -> str:
    return f"replies/{reply.message_id}/{filename}"


class Reply(models.Model):
    """A recipient's answer to a message: an SMS reply, or an email reply kept whole as a file."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="replies")
    # The message's campaign, copied when the reply is saved (a message never changes
    # campaign, nor a sent campaign its application), so that a campaign's replies page reads
    # the index reply_campaign_newest instead of walking every reply newest first to find the
    # campaign's (reports.replies).
    campaign = models.ForeignKey(
        "messaging.Campaign",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # reply_campaign_newest serves it
    )
    # Its application, copied likewise: a user's replies inbox reads each granted application's
    # newest replies from reply_application_newest and merges them.
    application = models.ForeignKey(
        "messaging.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # reply_application_newest serves it
    )
    # The inbox row it came from; kept when old inbox rows are purged.
    inbox = models.ForeignKey(
        PostbackInbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    kind = models.CharField(max_length=5, choices=ReplyKind.choices)
    sender = models.CharField(max_length=254)  # SourceMSISDN, or the email address
    text = models.TextField(blank=True)  # the SMS, or the email's plain text (else its subject)
    subject = models.CharField(max_length=255, blank=True)
    raw_email = models.FileField(upload_to=raw_email_path, blank=True)
    # sha256 of the sender and the SMS text or raw email bytes: a retried reply has the same.
    content_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "replies"
        # message_id, not message: no join to order by (see MessageEvent).
        ordering = ["message_id", "received_at", "id"]
        indexes = [
            # A campaign's replies page: its newest 51 replies below an id.
            models.Index(fields=["campaign", "-id"], name="reply_campaign_newest"),
            # A user's replies inbox: each granted application's newest 51 below an id.
            models.Index(fields=["application", "-id"], name="reply_application_newest"),
        ]
        constraints = [
            # iLiveIt retries a reply until it gets a 200 (RetryCount counts up): one Reply.
            models.UniqueConstraint(
                fields=["message", "content_hash"], name="reply_unique_content"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reply from {self.sender}"

    def save(self, *args, **kwargs) -> None:
        campaign = self.message.campaign if self.message_id is not None else None
        if campaign is not None:
            self.campaign_id = campaign.pk
            self.application_id = campaign.application_id
        super().save(*args, **kwargs)


class CampaignEventCount(models.Model):
    """Per campaign: how many status events came by postback later than the promised hour
    (late_by_s > 0) and how many were learned by polling (source "poll": reconciliation).

    Kept by database triggers on MessageEvent (postbacks migration 0004), split over 16 shards
    by message id on PostgreSQL, like messaging's CampaignCount. An event counts with the
    campaign its message belongs to when the event is written (messages never change campaign).
    """

    campaign = models.ForeignKey(
        "messaging.Campaign", on_delete=models.CASCADE, related_name="event_counts"
    )
    shard = models.SmallIntegerField(default=0)
    late = models.BigIntegerField(default=0)
    polled = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "shard"], name="campaigneventcount_key"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.late} late, {self.polled} polled"
