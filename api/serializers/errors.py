"""The error shape, for the schema (api.errors writes it)."""

from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_found, ...")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Validation errors only: each bad field ("slides.0.text") and its reasons.',
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
