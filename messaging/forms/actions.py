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
    """Where a test goes, and the fields it is rendered with: a recipient's own (found as the
    preview finds one), with any sample values typed over them."""

    __test__ = False  # not a pytest test class, whatever its name
    recipient = forms.CharField(
        label="Send to",
        max_length=254,
        help_text="One phone number or email address, as the channel needs.",
    )
    fields_of = forms.CharField(
        label="With the fields of",
        max_length=254,
        required=False,
        help_text="A recipient of this campaign: a number, an address or one of their values. "
        "Leave it empty to use only the sample values.",
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        from messaging.recipients.fields import MAX_VALUE_CHARS

        self.campaign = campaign
        for name in sample_field_names(campaign):
            self.fields[f"value_{name}"] = forms.CharField(
                label=name,
                max_length=MAX_VALUE_CHARS,
                required=False,
            )

    def value_fields(self) -> list[forms.BoundField]:
        """The sample value inputs, one per field the content uses (none: no fields to pick)."""
        return [self[name] for name in self.fields if name.startswith("value_")]

    def clean_recipient(self) -> str:
        # Imported on use, like the views do: messaging.recipients pulls in phonenumbers'
        # metadata.
        from messaging.recipients.normalise import InvalidRecipient, normalise_recipient

        try:
            return normalise_recipient(
                self.cleaned_data["recipient"], channel=self.campaign.channel
            )
        except InvalidRecipient as error:
            raise ValidationError(str(error)) from None

    def clean(self):
        from messaging.previews import campaign_recipient_find

        cleaned = super().clean()
        fields: dict[str, str] = {}
        search = cleaned.get("fields_of", "")
        if search:
            found = campaign_recipient_find(self.campaign, search)
            if found is None:
                self.add_error("fields_of", f"No recipient of this campaign matches “{search}”.")
            else:
                fields.update(found.fields or {})
        for name in self.fields:
            typed = cleaned.get(name, "").strip() if name.startswith("value_") else ""
            if typed:
                fields[name.removeprefix("value_")] = typed
        cleaned["fields"] = fields
        return cleaned


def sample_field_names(campaign) -> list[str]:
    """The fields the campaign's content uses, which a test send may be given values for;
    none while the content does not compile (the send will say why)."""
    from messaging.personalise import ContentPlaceholderError, campaign_placeholders
    from messaging.placeholders import BUILT_INS

    try:
        return sorted(campaign_placeholders(campaign).names - BUILT_INS)
    except ContentPlaceholderError:
        return []


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
