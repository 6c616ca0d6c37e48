"""Opt-out list entries in and out."""

from rest_framework import serializers

from api.serializers.fields import MAX_INT, reject_nul
from messaging.models import OptOut


class OptOutSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who added it by hand; null for a reply, a bounce or the unsubscribe link.",
    )
    message = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The message replied to, that bounced, or whose link was followed.",
    )

    class Meta:
        model = OptOut
        fields = [
            "id",
            "application",
            "recipient",
            "source",
            "reason",
            "message",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class OptOutFilterSerializer(serializers.Serializer):
    application = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The application whose list to read."
    )
    search = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        validators=[reject_nul],
        help_text="Part of the recipient; a number in any form finds its stored form.",
    )


class OptOutCreateSerializer(serializers.Serializer):
    application = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    recipient = serializers.CharField(
        max_length=254,
        validators=[reject_nul],
        help_text="A phone number (normalised as for SMS) or an email address.",
    )
