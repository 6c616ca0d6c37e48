"""The opt-out page's forms: the search over an application's list, adding one recipient by
hand, and importing a CSV of them. They only validate; the views record through
messaging/optouts.py."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from messaging.models import OptOutSource
from messaging.optout_lists import InvalidRecipient
from messaging.recipients.normalise import normalise_any_recipient


class OptOutSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    source = forms.ChoiceField(
        label="Source", required=False, choices=[("", "Any"), *OptOutSource.choices]
    )


class OptOutAddForm(forms.Form):
    recipient = forms.CharField(
        label="Recipient",
        max_length=254,
        help_text="A mobile number (local or international) or an email address.",
    )

    def clean_recipient(self) -> str:
        try:
            return normalise_any_recipient(self.cleaned_data["recipient"])
        except InvalidRecipient as error:
            raise ValidationError(error.reason) from None


class OptOutImportForm(forms.Form):
    file = forms.FileField(
        label="CSV of recipients",
        help_text=(
            "One column, or a header row with a recipient, mobile or email column. "
            f"At most {filesizeformat(settings.RECIPIENTS_MAX_UPLOAD_BYTES)}."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.RECIPIENTS_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            )
        return upload
