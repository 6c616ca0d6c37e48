"""The compose page's campaign form, one per channel (CAMPAIGN_FORMS picks it).

The rules mirror the provider's (NOTES.md): a subject for email and MMS, an HTML or text body
for email. An MMS's slides (at least one) are a formset of their own: messaging/forms/slides.py.
"""

from __future__ import annotations

import json
from datetime import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from messaging.compose import AttachmentChanges
from messaging.forms.fields import DateTimeLocalInput, MultipleFileField
from messaging.models import Attachment, Campaign, Channel
from messaging.personalise import template_data_texts
from messaging.placeholders import PlaceholderError, placeholders_check
from messaging.validators import validate_header_text, validate_placeholders

# What each content field's help says of placeholders (README, "Personalised campaigns").
PLACEHOLDER_HELP = (
    'Placeholders: {{ first_name }}, or {{ first_name|default:"there" }} for recipients without '
    "one; {{ recipient }} is the number or address."
)

_NETWORK = RegexValidator(
    r"\A[A-Za-z0-9_.*-]*\Z", message="Use letters, digits, '_', '-', '.' or '*' only."
)


def _minute(moment: datetime) -> datetime:
    # iLiveIt reads send windows to the minute ("yyyy-mm-dd hh:mm"), so compare what it reads.
    return moment.replace(second=0, microsecond=0)


class CampaignForm(forms.ModelForm):
    """Fields every channel has; each channel's form adds its content fields."""

    class Meta:
        model = Campaign
        fields = ["name", "application", "is_otp", "submit_not_before", "submit_not_after"]
        labels = {
            "submit_not_before": "Send no earlier than",
            "submit_not_after": "Send no later than",
        }
        help_texts = {
            "submit_not_before": "Optional. iLiveIt holds messages until then.",
            "submit_not_after": "Optional. iLiveIt drops messages it could not send by then.",
        }
        widgets = {
            "submit_not_before": DateTimeLocalInput(),
            "submit_not_after": DateTimeLocalInput(),
        }

    def __init__(self, *args, applications=None, **kwargs):
        super().__init__(*args, **kwargs)
        if applications is not None:
            # Only the applications the composer is granted (access.rules).
            self.fields["application"].queryset = applications

    def clean(self):
        cleaned = super().clean()
        not_before = cleaned.get("submit_not_before")
        not_after = cleaned.get("submit_not_after")
        if not_after and _minute(not_after) <= _minute(timezone.now()):
            self.add_error("submit_not_after", "The send window must end in the future.")
        elif not_before and not_after and _minute(not_after) <= _minute(not_before):
            self.add_error(
                "submit_not_after",
                "Must be at least a minute after “Send no earlier than”.",
            )
        return cleaned


class EmailCampaignForm(CampaignForm):
    new_attachments = MultipleFileField(
        label="Add attachments",
        required=False,
        help_text="You may choose several files; each at most "
        f"{filesizeformat(settings.EMAIL_MAX_ATTACHMENT_BYTES)}.",
    )
    remove_attachments = forms.ModelMultipleChoiceField(
        label="Remove attachments",
        queryset=Attachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(CampaignForm.Meta):
        fields = [
            *CampaignForm.Meta.fields,
            "subject",
            "body_html",
            "body_text",
            "from_name",
            "reply_to",
        ]
        labels = {**CampaignForm.Meta.labels, "from_name": "From name", "reply_to": "Reply-to"}
        help_texts = {
            **CampaignForm.Meta.help_texts,
            "body_html": "The preview below never runs scripts or loads remote content.",
            "body_text": f"Shown by mail programs that do not display HTML. {PLACEHOLDER_HELP}",
        }
        widgets = {
            **CampaignForm.Meta.widgets,
            "body_html": forms.Textarea(attrs={"rows": 12, "class": "code"}),
            "body_text": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].required = True
        for header in ("subject", "from_name", "reply_to"):
            self.fields[header].validators.append(validate_header_text)
        for content in ("subject", "body_html", "body_text"):
            self.fields[content].validators.append(validate_placeholders)
        if self.instance.pk:
            self.fields["remove_attachments"].queryset = self.instance.attachments.all()
        else:
            del self.fields["remove_attachments"]

    def attachment_changes(self) -> AttachmentChanges:
        return AttachmentChanges(
            add=self.cleaned_data.get("new_attachments", []),
            remove=list(self.cleaned_data.get("remove_attachments", [])),
        )

    def clean_new_attachments(self) -> list[UploadedFile]:
        files = self.cleaned_data["new_attachments"]
        limit = settings.EMAIL_MAX_ATTACHMENT_BYTES
        too_big = [
            f"{upload.name} is {filesizeformat(upload.size)}"
            for upload in files
            if upload.size > limit
        ]
        if too_big:
            raise ValidationError(
                f"{'; '.join(too_big)}. Each attachment must be at most {filesizeformat(limit)}."
            )
        return files

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body_html", "").strip() or cleaned.get("body_text", "").strip()):
            message = "Give an HTML body or a text body (or both)."
            self.add_error("body_html", message)
            self.add_error("body_text", message)
        return cleaned


class MMSCampaignForm(CampaignForm):
    class Meta(CampaignForm.Meta):
        fields = [*CampaignForm.Meta.fields, "subject"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].required = True
        self.fields["subject"].validators += [validate_header_text, validate_placeholders]


class SMSCampaignForm(CampaignForm):
    class Meta(CampaignForm.Meta):
        fields = [*CampaignForm.Meta.fields, "body_text"]
        labels = {**CampaignForm.Meta.labels, "body_text": "Text"}
        help_texts = {**CampaignForm.Meta.help_texts, "body_text": PLACEHOLDER_HELP}
        widgets = {
            **CampaignForm.Meta.widgets,
            "body_text": forms.Textarea(attrs={"rows": 6, "data-sms-counter": "sms-count"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body_text"].required = True
        self.fields["body_text"].validators.append(validate_placeholders)

    def clean_body_text(self) -> str:
        # Browsers post a textarea's line breaks as CRLF, but count (and show) them as one
        # character; keep LF so the stored text costs what the live counter said.
        return self.cleaned_data["body_text"].replace("\r\n", "\n")


class VideoCampaignForm(CampaignForm):
    template_id = forms.IntegerField(
        label="Template id", min_value=1, help_text="The build template iLiveIt gave you."
    )
    template_data = forms.CharField(
        label="Template data",
        widget=forms.Textarea(attrs={"rows": 10, "class": "code"}),
        help_text=(
            'A JSON object, e.g. {"name": "{{ first_name }}"}: every string may hold '
            "placeholders, so each recipient's video is built from their own fields."
        ),
    )
    network = forms.CharField(
        required=False,
        max_length=64,
        validators=[_NETWORK],
        help_text="Leave blank to let iLiveIt choose from number ranges ('*').",
    )

    class Meta(CampaignForm.Meta):
        fields = [*CampaignForm.Meta.fields, "template_id", "template_data", "network"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            # Show the stored object as JSON, not as a Python dict.
            self.initial["template_data"] = json.dumps(self.instance.template_data, indent=2)

    def clean_template_data(self) -> dict:
        text = self.cleaned_data["template_data"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                f"Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
            ) from None
        if not isinstance(data, dict):
            raise ValidationError(f"Must be a JSON object ({{...}}), not {_json_kind(data)}.")
        # Every string value may hold placeholders: each recipient's video gets its own data.
        errors = []
        for text in template_data_texts(data):
            try:
                placeholders_check(text.text)
            except PlaceholderError as error:
                errors.append(f"{text.label}: {error}")
        if errors:
            raise ValidationError(errors)
        return data

    def clean_network(self) -> str:
        # Blank and "*" mean the same to iLiveIt; store blank (see Campaign.network).
        network = self.cleaned_data["network"].strip()
        return "" if network == "*" else network


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    names = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


CAMPAIGN_FORMS: dict[str, type[CampaignForm]] = {
    Channel.EMAIL: EmailCampaignForm,
    Channel.MMS: MMSCampaignForm,
    Channel.SMS: SMSCampaignForm,
    Channel.VIDEO: VideoCampaignForm,
}
