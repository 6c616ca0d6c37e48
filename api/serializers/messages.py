"""Messages in and out: the list, one message with its timeline, and single sends."""

from rest_framework import serializers

from api.serializers.fields import MAX_INT
from messaging.models import Channel, Message, MessageState
from messaging.recipients.normalise import InvalidRecipient, normalise_recipient
from messaging.validators import validate_header_text
from postbacks.models import MessageEvent, Reply

# Worded apart from postbacks' ReplyKind (the same two values), so that the schema keeps
# them as two enums rather than merging a reply's kind with a send's channel.
SINGLE_SEND_CHANNELS = [(Channel.SMS.value, "SMS message"), (Channel.EMAIL.value, "Email message")]


# --- out ------------------------------------------------------------------------------------


class MessageSerializer(serializers.ModelSerializer):
    iliveit_id = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="iLiveIt's MessageID; null until a worker submitted it.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign",
            "recipient",
            "state",
            "iliveit_id",
            "network",
            "is_single",
            "is_test",
            "is_transactional",
            "resent_from",
            "attempts",
            "rate_limited_count",
            "last_error",
            "created_at",
            "submitted_at",
            "updated_at",
        ]
        read_only_fields = fields


class StageSerializer(serializers.Serializer):
    stage = serializers.CharField()
    code = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageEvent
        fields = ["stage", "code", "description", "stage_at", "source", "received_at", "late_by_s"]
        read_only_fields = fields


class ReplySerializer(serializers.ModelSerializer):
    """The reply's text only; a raw email file is never served through the API."""

    class Meta:
        model = Reply
        fields = ["id", "kind", "sender", "subject", "text", "received_at"]
        read_only_fields = fields


class MessageDetailSerializer(MessageSerializer):
    stages = StageSerializer(many=True, source="_stages", read_only=True)
    events = EventSerializer(many=True, source="_events", read_only=True)
    replies = ReplySerializer(
        many=True,
        source="_replies",
        read_only=True,
        allow_null=True,
        help_text="Null when your role may not see replies.",
    )
    resends = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "stages", "events", "replies", "resends"]
        read_only_fields = fields


# --- in -------------------------------------------------------------------------------------


class MessageFilterSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    # Blank values mean "any", as a form's empty input does.
    state = serializers.ChoiceField(choices=MessageState.choices, required=False, allow_blank=True)
    network = serializers.CharField(max_length=64, required=False, allow_blank=True)
    failure_code = serializers.IntegerField(
        min_value=-32768,
        max_value=32767,
        required=False,
        help_text="Failed messages with this code at any stage.",
    )
    recipient = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="The recipient starts with this.",
    )
    single = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: single sends only."
    )


class SingleSendSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=SINGLE_SEND_CHANNELS)
    recipient = serializers.CharField(max_length=254, help_text="A phone number or an email.")
    application = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="One of your applications; omitted, the portal's default one.",
    )
    text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="SMS text, or the email's text."
    )
    subject = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_header_text],
    )
    html = serializers.CharField(required=False, allow_blank=True, default="")
    from_name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_header_text],
    )
    reply_to = serializers.EmailField(
        required=False, allow_blank=True, default="", validators=[validate_header_text]
    )
    campaign_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text='The campaign to file it under; "Single sends" by default.',
    )
    transactional = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "A message the recipient needs whatever they opted out of (a one-time PIN, a "
            "receipt): sent even to a recipient on the application's opt-out list, and recorded "
            "as such (`is_transactional`). Otherwise such a recipient answers 409."
        ),
    )

    def validate(self, data):
        errors: dict[str, list[str]] = {}
        if data["channel"] == Channel.SMS and not data["text"].strip():
            errors["text"] = ["An SMS needs its text."]
        if data["channel"] == Channel.EMAIL:
            if not data["subject"].strip():
                errors["subject"] = ["An email needs a subject."]
            if not (data["text"].strip() or data["html"].strip()):
                errors["text"] = errors["html"] = ["Give an HTML body or a text body (or both)."]
        try:
            data["recipient"] = normalise_recipient(data["recipient"], channel=data["channel"])
        except InvalidRecipient as error:
            errors["recipient"] = [error.reason]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def content(self) -> dict[str, str]:
        """The message's content, named as messaging's payloads take it."""
        data = self.validated_data
        return {
            "body_text": data["text"],
            "subject": data["subject"],
            "body_html": data["html"],
            "from_name": data["from_name"],
            "reply_to": data["reply_to"],
        }
