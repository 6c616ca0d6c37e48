"""A campaign's dashboard figures (reports.dashboard.CampaignDashboard)."""

from rest_framework import serializers


class FailureReasonSerializer(serializers.Serializer):
    stage = serializers.CharField()
    code = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    n = serializers.IntegerField()


class TimePointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="Start of the minute or hour, UTC.")
    submitted = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()


class LatencyBucketSerializer(serializers.Serializer):
    upper_s = serializers.IntegerField(
        allow_null=True, help_text="Inclusive upper bound; null past the last bound."
    )
    n = serializers.IntegerField()


class CampaignStatsSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.IntegerField(), help_text="By state.")
    total = serializers.IntegerField()
    funnel = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Messages that reached at least queued, submitted, built, sent, delivered.",
    )
    delivery_rate = serializers.FloatField(
        allow_null=True, help_text="delivered / (delivered + failed); null before any."
    )
    by_network = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Per network, messages by state.",
    )
    failures_by_stage = serializers.DictField(child=serializers.IntegerField())
    failure_reasons = FailureReasonSerializer(many=True, help_text="Most frequent first.")
    per_hour = TimePointSerializer(many=True)
    latency = LatencyBucketSerializer(
        many=True,
        help_text="Submit to delivery report (delivered or failed), shortest first.",
    )
    latency_count = serializers.IntegerField(help_text="Messages with a delivery report.")
    latency_p50_s = serializers.IntegerField(allow_null=True)
    latency_p95_s = serializers.IntegerField(allow_null=True)
    late_postbacks = serializers.IntegerField()
    reconciled = serializers.IntegerField(help_text="Status changes learned by polling.")
    opted_out = serializers.IntegerField(
        help_text="Cancelled, not sent: the recipient had opted out by the time of submitting."
    )
    cancelled_otherwise = serializers.IntegerField(
        help_text="Cancelled for any other reason (the campaign was cancelled)."
    )
