"""Field rules shared by the API's input serializers."""

from rest_framework import serializers

# PostgreSQL's integer column (PositiveIntegerField, IntegerField) holds at most this.
MAX_INT = 2**31 - 1


def reject_nul(value):
    """PostgreSQL text and jsonb cannot hold U+0000; refuse it here rather than fail there."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Null characters are not allowed.")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            reject_nul(item)
    return value


class JSONObjectField(serializers.DictField):
    """A JSON object of any values, as video template data is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.JSONField())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return reject_nul(super().to_internal_value(data))
