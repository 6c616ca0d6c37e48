"""Input and field types Django lacks: a browser's date-and-time picker, and a file input
that takes several files at once."""

from __future__ import annotations

from django import forms


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that takes several files; cleans to a list (empty when none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        cleaned = []
        for item in files:
            upload = super().clean(item, initial)
            if upload:
                cleaned.append(upload)
        return cleaned
