"""Campaigns in and out."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.fields import MAX_INT, JSONObjectField
from messaging.models import (
    CAMPAIGN_CONTENT_FIELDS,
    Attachment,
    Campaign,
    CampaignState,
    Channel,
    Slide,
)
from messaging.recipients.fields import (
    MAX_VALUE_CHARS,
    FieldsInvalid,
    RecipientItem,
    check_field_names,
    fields_kept,
)
from messaging.validators import validate_filter_day, validate_header_text

MAX_RECIPIENTS_PER_REQUEST = 100_000


# --- out ------------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    past_submission = serializers.IntegerField(
        help_text="Messages iLiveIt has, or that will never be sent (failed, cancelled)."
    )
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()


class SlideSerializer(serializers.ModelSerializer):
    class Meta:
        model = Slide
        fields = ["position", "duration", "text", "media_type", "mime"]


# What a composer writes: read back by every campaign answer, taken by create.
CONTENT_FIELDS = CAMPAIGN_CONTENT_FIELDS


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["filename", "mime", "size"]


class CampaignSerializer(serializers.ModelSerializer):
    application_name = serializers.CharField(source="application.name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "channel",
            "state",
            "is_single_sends",
            "application",
            "application_name",
            *CONTENT_FIELDS,
            "canary_size",
            "canary_min_success",
            "canary_released_at",
            "launch_at",
            "paused_reason",
            "created_by",
            "created_at",
            "launched_at",
            "finished_at",
            "progress",
        ]
        read_only_fields = fields

    def get_progress(self, campaign) -> ProgressSerializer:
        # Filled by the view from the counters, one query for the whole page (campaign_rows).
        row = self.context["progress"][campaign.pk]
        return ProgressSerializer(row).data


class EstimateSerializer(serializers.Serializer):
    messages = serializers.IntegerField(
        help_text="Messages a launch would queue now: one per draft recipient."
    )
    unit = serializers.CharField(help_text='What they are: "SMS", "MMS", "video MMS", "emails".')
    sms_total = serializers.IntegerField(
        source="sms.total",
        allow_null=True,
        help_text="SMS only: the SMS parts in all (what iLiveIt bills); null for other channels.",
    )
    sms_fewest = serializers.IntegerField(
        source="sms.fewest", allow_null=True, help_text="SMS only: parts of the shortest text."
    )
    sms_most = serializers.IntegerField(
        source="sms.most", allow_null=True, help_text="SMS only: parts of the longest text."
    )


class CampaignDetailSerializer(CampaignSerializer):
    estimate = EstimateSerializer(
        source="_estimate",
        read_only=True,
        help_text="What a launch would send now (the campaign page's Launch panel says the same).",
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        source="_counts",
        read_only=True,
        help_text="Messages by state, from the campaign's counters.",
    )
    slides = SlideSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "counts", "estimate", "slides", "attachments"]
        read_only_fields = fields


class RejectedRecipientSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="1-based position in the list sent.")
    value = serializers.CharField()
    reason = serializers.CharField()


class MissingFieldSerializer(serializers.Serializer):
    field = serializers.CharField(source="name")
    count = serializers.IntegerField(help_text="Added recipients without a value for it.")
    first = serializers.ListField(
        child=serializers.CharField(), source="examples", help_text="The first few of them."
    )


class RecipientsImportSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    already_present = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectedRecipientSerializer(many=True, help_text="The first 1,000 rejected.")
    rejected_total = serializers.IntegerField()
    missing_fields = MissingFieldSerializer(
        many=True,
        help_text=(
            "Fields the content uses without a fallback that some added recipients lack. "
            "Not a refusal: the launch refuses them if they still lack one then."
        ),
    )
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="The same, in words, one line each."
    )


class CampaignCreatedSerializer(CampaignDetailSerializer):
    recipients_import = RecipientsImportSerializer(
        source="_recipients_import", read_only=True, allow_null=True
    )

    class Meta(CampaignDetailSerializer.Meta):
        fields = [*CampaignDetailSerializer.Meta.fields, "recipients_import"]
        read_only_fields = fields


class HandsetCheckSerializer(serializers.Serializer):
    state = serializers.CharField(help_text="running, done or failed.")
    total = serializers.IntegerField(help_text="Draft recipients when the check started.")
    answered = serializers.IntegerField(help_text="Recipients checked so far.")
    no_mms = serializers.IntegerField(
        help_text="Checked, and iLiveIt would not send them MMS (allow_send false): what "
        "drop-no-mms removes."
    )
    not_capable = serializers.IntegerField()
    not_provisioned = serializers.IntegerField()
    unknown = serializers.IntegerField(help_text="iLiveIt's scrub knew nothing of the handset.")
    not_checked = serializers.IntegerField(help_text="The scrub call itself failed; kept.")
    error = serializers.CharField(help_text="Why the check stopped early, if it did.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class DroppedSerializer(serializers.Serializer):
    dropped = serializers.IntegerField(help_text="Recipients removed.")
    campaign = CampaignDetailSerializer()


class RetriedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="Failed messages queued again.")
    campaign = CampaignDetailSerializer()


# --- in -------------------------------------------------------------------------------------


class CampaignFilterSerializer(serializers.Serializer):
    # Blank values mean "any", as a form's empty select does.
    state = serializers.ChoiceField(choices=CampaignState.choices, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    application = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Part of the name or subject."
    )
    created_from = serializers.DateField(
        required=False,
        validators=[validate_filter_day],
        help_text="Created on or after this day (the portal's time zone).",
    )
    created_to = serializers.DateField(
        required=False,
        validators=[validate_filter_day],
        help_text="Created on or before this day (the portal's time zone).",
    )

    def validate(self, data):
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"created_to": ["The end of the date range is before its start."]}
            )
        return data


class SlideInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    duration = serializers.IntegerField(min_value=1, max_value=60, required=False, default=5)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "recipient": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["recipient"],
            },
        ]
    }
)
class RecipientField(serializers.Field):
    """One recipient: "0821234567", or an object with its fields for the content's placeholders,
    {"recipient": "0821234567", "fields": {"first_name": "Thandi", "amount": "1 234.50"}}.

    Field names are as a CSV header's become: lower-case letters and digits, runs joined by
    single "_". Values are strings of at most 1,000 characters, trimmed; an empty one is none.
    """

    default_error_messages = {
        # Braces doubled: DRF formats these messages.
        "shape": 'A string, or an object {{"recipient": "...", "fields": {{...}}}}.',
        "recipient": "A string is required.",
        "blank": "This field may not be blank.",
        "too_long": "Ensure this field has no more than 254 characters.",
        "line_break": "One recipient per item; no line breaks.",
        "null": "Null characters are not allowed.",
        "fields": "An object of field names and string values is required.",
        "value": "A string is required.",
        "value_too_long": f"At most {MAX_VALUE_CHARS:,} characters.",
    }

    def to_internal_value(self, data) -> RecipientItem:
        if isinstance(data, str):
            return RecipientItem(recipient=self._recipient(data), fields=None)
        if not isinstance(data, dict) or set(data) - {"recipient", "fields"}:
            self.fail("shape")
        value = data.get("recipient")
        if not isinstance(value, str):
            raise serializers.ValidationError({"recipient": [self.error_messages["recipient"]]})
        try:
            recipient = self._recipient(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"recipient": error.detail}) from None
        fields = data.get("fields")
        if fields is None:
            return RecipientItem(recipient=recipient, fields=None)
        if not isinstance(fields, dict):
            raise serializers.ValidationError({"fields": [self.error_messages["fields"]]})
        try:
            check_field_names(fields)
        except FieldsInvalid as error:
            raise serializers.ValidationError({"fields": [str(error)]}) from None
        bad = {}
        for name, item in fields.items():
            if not isinstance(item, str):
                bad[name] = [self.error_messages["value"]]
            elif len(item) > MAX_VALUE_CHARS:
                bad[name] = [self.error_messages["value_too_long"]]
            elif "\x00" in item:
                bad[name] = [self.error_messages["null"]]
        if bad:
            raise serializers.ValidationError({"fields": bad})
        return RecipientItem(recipient=recipient, fields=fields_kept(fields.items()))

    def _recipient(self, value: str) -> str:
        if not value.strip():
            self.fail("blank")
        if len(value) > 254:
            self.fail("too_long")
        # A rejected entry is reported by its position: one entry must be one recipient.
        if "\n" in value or "\r" in value:
            self.fail("line_break")
        if "\x00" in value:
            self.fail("null")
        return value

    def to_representation(self, value):
        return {"recipient": value.recipient, "fields": value.fields}


def recipients_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=RecipientField(),
        max_length=MAX_RECIPIENTS_PER_REQUEST,
        help_text=(
            "Phone numbers (SMS, MMS, video) or email addresses, one per item: each a string, "
            'or an object {"recipient": "...", "fields": {"first_name": "..."}} whose fields '
            "fill the content's placeholders."
        ),
        **kwargs,
    )


class RecipientsInSerializer(serializers.Serializer):
    recipients = recipients_field()


class CampaignCreateSerializer(serializers.ModelSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    application = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, help_text="One of the applications you are granted."
    )
    template_id = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, required=False, allow_null=True
    )
    template_data = JSONObjectField(required=False)
    slides = SlideInSerializer(many=True, required=False, help_text="MMS only: text slides.")
    recipients = recipients_field(required=False)

    class Meta:
        model = Campaign
        fields = [
            "name",
            "channel",
            "application",
            *CONTENT_FIELDS,
            "slides",
            "recipients",
        ]
        # The compose form checks these too, but a reply-to with a line break fails this
        # serializer's own email check first, and should say why.
        extra_kwargs = {
            header: {"validators": [validate_header_text]}
            for header in ("subject", "from_name", "reply_to")
        }


class LaunchSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Schedule the launch; omit to launch now."
    )
    canary_size = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="Send to this many first; the rest once enough of them are delivered.",
    )
    canary_min_success = serializers.FloatField(
        min_value=0.01,
        max_value=1.0,
        required=False,
        allow_null=True,
        help_text="Share of the canary that must be delivered (0.01 to 1).",
    )

    def validate_at(self, at):
        if at is not None and at <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return at


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
