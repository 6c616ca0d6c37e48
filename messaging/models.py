"""Applications, campaigns and messages.

The database is the outbox: a launch writes one `Message` per recipient in state `queued`, and
the broker only carries hints to submit them (see messaging/services/submit.py).
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.endpoints import validate_endpoint
from messaging.states import AWAITING_REPORT, OPTED_OUT, CampaignState, MessageState


class Environment(models.TextChoices):
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    MMS = "mms", "MMS"
    SMS = "sms", "SMS"
    VIDEO = "video", "Video MMS"


class Application(models.Model):
    """One iLiveIt application: its own token, MVNO id and rate limit."""

    name = models.CharField(max_length=100, unique=True)
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.STAGING
    )
    endpoint = models.URLField(
        help_text="iLiveIt API base URL for this environment: https, on an iLiveIt host.",
        validators=[validate_endpoint],
    )
    token = models.CharField(max_length=255, help_text="Application access token.")
    mvno_id = models.PositiveIntegerField("MVNO id", validators=[MinValueValidator(1)])
    rate_limit = models.PositiveIntegerField(
        "rate limit (messages per second)", default=10, validators=[MinValueValidator(1)]
    )
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    @property
    def token_hint(self) -> str:
        """Enough of the token to tell two apart; the whole token is never shown back."""
        return f"…{self.token[-4:]}" if len(self.token) > 8 else "…"


# What a composer writes into a campaign besides its channel and application: what is sent and
# when. The API reads and takes these; a clone copies them.
CAMPAIGN_CONTENT_FIELDS = (
    "subject",
    "body_html",
    "body_text",
    "from_name",
    "reply_to",
    "template_id",
    "template_data",
    "network",
    "is_otp",
    "submit_not_before",
    "submit_not_after",
)


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="campaigns")
    # What is sent. Which fields matter depends on the channel: email uses subject, both
    # bodies, from-name and reply-to (plus Attachment rows); MMS uses subject (plus Slide rows);
    # SMS uses body_text; video uses template_id, template_data and network.
    subject = models.CharField(max_length=255, blank=True)
    body_html = models.TextField("HTML body", blank=True)
    body_text = models.TextField("text body", blank=True)
    from_name = models.CharField(max_length=100, blank=True)
    reply_to = models.EmailField(blank=True)
    template_id = models.PositiveIntegerField(null=True, blank=True)
    template_data = models.JSONField(default=dict, blank=True)
    network = models.CharField(
        max_length=64, blank=True, help_text="Blank lets iLiveIt choose from number ranges."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(
        max_length=12, choices=CampaignState.choices, default=CampaignState.DRAFT
    )
    is_otp = models.BooleanField(
        "one-time PIN", default=False, help_text="Bodies are removed once submitted."
    )
    # Made by single sends (messaging.services.message_send_single) rather than composed: it
    # stays open, so that every later single send of its application, name and channel files
    # under this one row.
    is_single_sends = models.BooleanField(
        "single sends", default=False, editable=False, help_text="Made for single sends."
    )
    submit_not_before = models.DateTimeField(null=True, blank=True)
    submit_not_after = models.DateTimeField(null=True, blank=True)
    # Send to the first `canary_size` recipients, and release the rest only once at least
    # `canary_min_success` of those were delivered (0: no canary).
    canary_size = models.PositiveIntegerField(default=0)
    canary_min_success = models.FloatField(default=0.9)
    canary_released_at = models.DateTimeField(null=True, blank=True)
    # What the canary was judged on, kept when it was (messaging.services.upkeep): once the
    # rest is released the counters hold every message, and the canary's alone cannot be
    # counted again without reading the campaign's messages.
    canary_delivered = models.PositiveIntegerField(null=True, blank=True, editable=False)
    canary_judged = models.PositiveIntegerField(null=True, blank=True, editable=False)
    launch_at = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled launch runs."
    )
    paused_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "-created_at"])]
        constraints = [
            # One single-sends campaign per application, name and channel, so that a single
            # send's lookup (message_send_single) can never match two; it also serves that
            # lookup.
            models.UniqueConstraint(
                fields=["application", "name", "channel"],
                condition=Q(is_single_sends=True),
                name="campaign_unique_single_sends",
            ),
        ]
        permissions = [
            ("launch_campaign", "Can launch, pause, resume and cancel campaigns"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_built(self) -> bool:
        """Whether iLiveIt builds (renders) its messages: only a video MMS is."""
        return self.channel == Channel.VIDEO


def new_message_ref() -> str:
    """The unguessable reference in the message's own postback URL."""
    return secrets.token_urlsafe(16)


class MessageQuerySet(models.QuerySet):
    def locked(self):
        """These messages, locked until the transaction ends, in id order: every writer of a
        message's status locks its messages so, and two of them cannot deadlock.

        FOR NO KEY UPDATE, not FOR UPDATE: a stored postback's link to its message (the foreign
        key's check takes KEY SHARE) then neither waits for a message's writer nor deadlocks
        with one. The sweep links many postbacks in one statement, in no order of messages, and
        did deadlock with a drain under FOR UPDATE."""
        return self.select_for_update(no_key=True).order_by("pk")


class Message(models.Model):
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ref = models.CharField(max_length=32, unique=True, default=new_message_ref, editable=False)
    recipient = models.CharField(max_length=254)
    # A test send goes to one recipient before launch and is not counted with the campaign.
    is_test = models.BooleanField(default=False)
    # Sent on its own (command line, API) rather than as one of a campaign's recipients.
    is_single = models.BooleanField(default=False)
    # A resend (iLiveIt's message/resend) is a message of its own, sent on the original's behalf.
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    # Content of this message alone (single sends, personalised OTPs), shaped like the
    # campaign's fields; None means "the campaign's content". OTP bodies are erased once sent.
    body = models.JSONField(null=True, blank=True)
    # The recipient's own values for the content's placeholders ({"first_name": "Thandi"}): the
    # other columns of its recipients CSV, or the API's "fields". None when it has none. Stored
    # once, here, and rendered into the content when the message is submitted.
    fields = models.JSONField(null=True, blank=True)
    # Sent although its recipient opted out, because the sender said it is transactional (a
    # one-time PIN, say): recorded, since every other message to an opted-out recipient stops.
    is_transactional = models.BooleanField(default=False)
    # NULL until iLiveIt answers, so that the unique constraint ignores unsent messages.
    iliveit_id = models.CharField(  # noqa: DJ001
        "iLiveIt MessageID", max_length=128, null=True, blank=True
    )
    state = models.CharField(
        max_length=12, choices=MessageState.choices, default=MessageState.DRAFT
    )
    network = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    error_retryable = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # iLiveIt's 429s to this message: how many in all, and since when they have come without
    # another answer between them (a message always refused for rate is failed in the end).
    rate_limited_count = models.PositiveIntegerField("429 answers", default=0)
    rate_limited_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Each stage's latest code, description and timestamp, as iLiveIt reports them.
    build_code = models.SmallIntegerField(null=True, blank=True)
    build_description = models.CharField(max_length=255, blank=True)
    build_at = models.DateTimeField(null=True, blank=True)
    archive_code = models.SmallIntegerField(null=True, blank=True)
    archive_description = models.CharField(max_length=255, blank=True)
    archive_at = models.DateTimeField(null=True, blank=True)
    submit_code = models.SmallIntegerField(null=True, blank=True)
    submit_description = models.CharField(max_length=255, blank=True)
    submit_at = models.DateTimeField(null=True, blank=True)
    sent_code = models.SmallIntegerField(null=True, blank=True)
    sent_description = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_code = models.SmallIntegerField(null=True, blank=True)
    delivered_description = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["iliveit_id"],
                condition=Q(iliveit_id__isnull=False),
                name="message_unique_iliveit_id",
            ),
            # One message per recipient per campaign: a re-imported list cannot send twice.
            models.UniqueConstraint(
                fields=["campaign", "recipient"],
                condition=Q(is_test=False, is_single=False),
                name="message_unique_campaign_recipient",
            ),
        ]
        indexes = [
            # The campaign message list, filtered by state.
            models.Index(fields=["campaign", "state", "id"]),
            # The sweeper: queued (or retry-due) rows nobody picked up.
            models.Index(fields=["state", "next_attempt_at"]),
            # Retention (messaging/retention.py): the few messages with a body of their own.
            models.Index(fields=["id"], name="message_with_body", condition=Q(body__isnull=False)),
            # The dashboard's count of a campaign's messages cancelled because their recipient
            # opted out (reports.dashboard): only those rows, so counting costs what they number.
            models.Index(
                fields=["campaign"],
                name="message_opted_out",
                condition=Q(state=MessageState.CANCELLED, last_error=OPTED_OUT, is_test=False),
            ),
            # Reconciliation (postbacks.reconcile.overdue_messages): messages with a MessageID
            # that are not final, least recently updated first.
            models.Index(
                fields=["updated_at", "id"],
                name="message_awaiting_report",
                condition=Q(
                    iliveit_id__isnull=False,
                    state__in=list(AWAITING_REPORT),
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.state})"


def campaign_media_path(instance, filename: str) -> str:
    return f"campaigns/{instance.campaign_id}/{filename}"


class SlideMedia(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"


class Slide(models.Model):
    """One MMS slide: optional text and optional media shown for `duration` seconds."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="slides")
    position = models.PositiveSmallIntegerField(default=0)
    duration = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1)])
    text = models.TextField(blank=True)
    media = models.FileField(upload_to=campaign_media_path, blank=True)
    media_type = models.CharField(max_length=5, choices=SlideMedia.choices, blank=True)
    mime = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["campaign", "position", "id"]

    def __str__(self) -> str:
        return f"Slide {self.position + 1}"


class Attachment(models.Model):
    """An email attachment; the bytes live in the file."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=campaign_media_path)
    filename = models.CharField(max_length=255)
    mime = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "id"]

    def __str__(self) -> str:
        return self.filename


class CampaignCount(models.Model):
    """How many of a campaign's messages are in each state, per network.

    Database triggers keep these rows (migration 0003): every insert,
    update and delete of a message moves them in the same transaction, whichever code path
    made the change (a launch, a claim, a postback, a cancel, the recipient import's raw SQL).
    Dashboards read these rows instead of counting a campaign's messages.

    On PostgreSQL a campaign's counts are split over 16 rows per (state, network), chosen by
    message id, so that concurrent postbacks for one campaign do not all queue on one counter
    row; read them with SUM (messaging/counting.py). Test sends and single sends are not
    counted.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="counts")
    state = models.CharField(max_length=12, choices=MessageState.choices)
    network = models.CharField(max_length=64, blank=True)
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # The triggers' upsert key.
            models.UniqueConstraint(
                fields=["campaign", "state", "network", "shard"], name="campaigncount_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.state} {self.network or '-'}: {self.n}"


# Upper bounds (seconds, inclusive) of the submit-to-delivery latency buckets: roughly 1-2-5
# steps up to an hour, then doubling to the 72 hours after which iLiveIt assumes delivery.
# Bucket i holds latencies in (LATENCY_BOUNDS_S[i-1], LATENCY_BOUNDS_S[i]]; bucket
# len(LATENCY_BOUNDS_S) holds everything longer. Migration 0004 compiles the same list into
# its triggers, so a change here needs a new migration.
LATENCY_BOUNDS_S = (
    *(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600),
    *(7200, 14400, 28800, 43200, 86400, 172800, 259200),
)


class CampaignMinute(models.Model):
    """How many of a campaign's messages reached a stage (submit, sent, delivered) in each
    minute, by the stage's own timestamp truncated to the minute (UTC).

    Kept by database triggers (migration 0004) like CampaignCount, and split over the same 16
    shards on PostgreSQL: postbacks for one campaign arrive together and mostly name the
    current minute. When a stage's timestamp moves, its old minute loses the message and the
    new one gains it. Read with SUM (reports/dashboard.py).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="minutes")
    stage = models.CharField(max_length=10)  # submit, sent, delivered
    minute = models.DateTimeField()
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # The triggers' upsert key; the dashboard reads one campaign's rows through it.
            models.UniqueConstraint(
                fields=["campaign", "stage", "minute", "shard"], name="campaignminute_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.stage} {self.minute:%Y-%m-%d %H:%M}: {self.n}"


class CampaignLatency(models.Model):
    """A histogram of submit-to-delivery latency (delivered_at - submit_at) per campaign: one
    count per message that has both times, in bucket `bucket` of LATENCY_BOUNDS_S.

    Kept by database triggers (migration 0004), sharded like CampaignCount.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="latencies")
    bucket = models.SmallIntegerField()
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "campaign latencies"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "bucket", "shard"], name="campaignlatency_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} bucket {self.bucket}: {self.n}"


class CampaignFailure(models.Model):
    """Why a campaign's failed messages failed: a count per (stage, code, description).

    The stage is the first failing one in the order build, archive, submit, sent, delivered
    (postbacks.merge.is_failure's rule). A failed message with no failing stage code counts
    with code 0 (stored for "none", so that the key has no NULL) and the first 255 characters
    of its last error, under stage "submission" when it has no MessageID (iLiveIt refused the
    submission), else under "unknown" (the failing report was superseded by a newer report of
    the same stage; the merge keeps the failure but not its code). Kept by database triggers
    (migration 0004), sharded like CampaignCount.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="failures")
    stage = models.CharField(max_length=10)
    code = models.SmallIntegerField(default=0)
    description = models.CharField(max_length=255, blank=True)
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "stage", "code", "description", "shard"],
                name="campaignfailure_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.stage} {self.code}: {self.n}"


class OptOutSource(models.TextChoices):
    REPLY = "reply", "Reply"
    BOUNCE = "bounce", "Bounce"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
    MANUAL = "manual", "Added by staff"
    IMPORT = "import", "Imported"


class OptOut(models.Model):
    """A recipient (number or address, normalised as messages' recipients are) that the
    application, the sender they replied to, must not send to any more."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="opt_outs")
    recipient = models.CharField(max_length=254)
    source = models.CharField(max_length=11, choices=OptOutSource.choices)
    # What said so: the keyword replied, "bounced" with the delivery report's description...
    reason = models.CharField(max_length=255, blank=True)
    # The message that caused it (the one replied to, or that bounced), when there is one.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "recipient"], name="opt_out_unique_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} opted out of {self.application} ({self.get_source_display()})"


class CampaignScrub(models.Model):
    """The latest handset check (iLiveIt's `scrub`) of an MMS or video campaign's recipients:
    whether it is running, and when it started and ended. The answers are HandsetCheck rows."""

    class State(models.TextChoices):
        RUNNING = "running", "Checking"
        DONE = "done", "Checked"
        FAILED = "failed", "Stopped"

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="scrub")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # Recipients to check when it started: the page's "N of M".
    total = models.PositiveIntegerField(default=0)
    # Why it stopped early (the token refused, the API down for good), in words for staff.
    error = models.CharField(max_length=255, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Handset check of {self.campaign_id} ({self.state})"


class HandsetCheck(models.Model):
    """What iLiveIt's scrub said about one draft recipient's handset. `allow_send` is the
    field to obey (NOTES.md); `checked` is False when the scrub itself could not answer (an
    HTTP error), so that "cannot receive MMS" never counts a handset nobody asked about."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="handset")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="handsets")
    checked = models.BooleanField(default=True)
    allow_send = models.BooleanField(default=False)
    is_mms_capable = models.BooleanField(default=False)
    is_mms_provisioned = models.BooleanField(default=False)
    network = models.CharField(max_length=64, blank=True)
    handset = models.CharField(max_length=200, blank=True)
    error_code = models.SmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The campaign page's counts, and the drop of recipients who cannot receive MMS.
            models.Index(fields=["campaign", "checked", "allow_send"]),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {'may send' if self.allow_send else 'may not send'}"
