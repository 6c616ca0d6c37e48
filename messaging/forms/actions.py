"""What a campaign's pages do to it, each action a form: a test send to one recipient, the
launch (now or at a time, with an optional canary), and adding recipients (pasted or a file)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from messaging.forms.fields import DateTimeLocalInput


class TestSendForm(forms.Form):
    __test__ = False  # not a pytest test class, whatever its name
    recipient = forms.CharField(
        max_length=254, help_text="One phone number or email address, as the channel needs."
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel

    def clean_recipient(self) -> str:
        # Imported on use, like the views do: messaging.recipients pulls in phonenumbers'
        # metadata.
        from messaging.recipients.normalise import InvalidRecipient, normalise_recipient

        try:
            return normalise_recipient(self.cleaned_data["recipient"], channel=self.channel)
        except InvalidRecipient as error:
            raise ValidationError(str(error)) from None


class LaunchForm(forms.Form):
    NOW, LATER = "now", "later"
    when = forms.ChoiceField(
        choices=[(NOW, "Now"), (LATER, "At a time")], initial=NOW, widget=forms.RadioSelect
    )
    at = forms.DateTimeField(label="Launch at", required=False, widget=DateTimeLocalInput())
    canary_size = forms.IntegerField(
        label="Canary: first recipients",
        required=False,
        min_value=1,
        help_text="Send to this many first; release the rest once enough are delivered.",
    )
    canary_min_success = forms.IntegerField(
        label="Canary: delivered at least (%)",
        required=False,
        min_value=1,
        max_value=100,
        initial=90,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") == self.LATER:
            at = cleaned.get("at")
            if at is None:
                if "at" not in self.errors:
                    self.add_error("at", "Give the time to launch at.")
            elif at <= timezone.now():
                self.add_error("at", "Must be in the future.")
        else:
            cleaned["at"] = None
        return cleaned


class RecipientsForm(forms.Form):
    pasted = forms.CharField(
        label="Paste recipients",
        required=False,
        # Not stripped: leading blank lines still count, so reported line numbers match.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One per line.",
    )
    file = forms.FileField(
        label="Or upload a CSV or text file",
        required=False,
        help_text=f"At most {filesizeformat(settings.RECIPIENTS_MAX_UPLOAD_BYTES)}.",
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        limit = settings.RECIPIENTS_MAX_UPLOAD_BYTES
        if upload and upload.size > limit:
            raise ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("pasted", "").strip() or cleaned.get("file")):
            self.add_error("pasted", "Paste some recipients or choose a file.")
        return cleaned
