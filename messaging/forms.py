"""Forms for composing campaigns: they validate, and messaging/compose.py saves.

Every refusal is attached to the field it is about, so the page can show it beside the input
and in the summary at the top (`error_summary`). The rules mirror the provider's (NOTES.md):
a subject for email and MMS, an HTML or text body for email, at least one slide for MMS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from messaging.compose import AttachmentChanges
from messaging.media import HEAD_BYTES, MediaMismatch, media_identify
from messaging.models import Attachment, Campaign, CampaignState, Channel, Slide
from messaging.validators import validate_filter_day, validate_header_text

MAX_SLIDE_SECONDS = 60

_NETWORK = RegexValidator(
    r"\A[A-Za-z0-9_.*-]*\Z", message="Use letters, digits, '_', '-', '.' or '*' only."
)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _minute(moment: datetime) -> datetime:
    # iLiveIt reads send windows to the minute ("yyyy-mm-dd hh:mm"), so compare what it reads.
    return moment.replace(second=0, microsecond=0)


# --- the campaign itself --------------------------------------------------------------------------


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
            "body_text": "Shown by mail programs that do not display HTML.",
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
        self.fields["subject"].validators.append(validate_header_text)


class SMSCampaignForm(CampaignForm):
    class Meta(CampaignForm.Meta):
        fields = [*CampaignForm.Meta.fields, "body_text"]
        labels = {**CampaignForm.Meta.labels, "body_text": "Text"}
        widgets = {
            **CampaignForm.Meta.widgets,
            "body_text": forms.Textarea(attrs={"rows": 6, "data-sms-counter": "sms-count"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body_text"].required = True

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
        help_text='A JSON object, e.g. {"name": "Thandi"}.',
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


# --- MMS slides -----------------------------------------------------------------------------------


class SlideForm(forms.ModelForm):
    class Meta:
        model = Slide
        fields = ["duration", "text", "media"]
        labels = {"media": "Image, video or audio"}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    duration = forms.IntegerField(
        label="Seconds on screen", min_value=1, max_value=MAX_SLIDE_SECONDS, initial=5
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "media"
        ].help_text = f"Optional; at most {filesizeformat(settings.MMS_MAX_MEDIA_BYTES)}."

    def clean_media(self):
        media = self.cleaned_data.get("media")
        if not isinstance(media, UploadedFile):
            return media  # unchanged, cleared (False) or none
        limit = settings.MMS_MAX_MEDIA_BYTES
        if media.size > limit:
            raise ValidationError(
                f"{media.name} is {filesizeformat(media.size)}; "
                f"media must be at most {filesizeformat(limit)}."
            )
        media.seek(0)
        head = media.read(HEAD_BYTES)
        media.seek(0)
        try:
            fmt = media_identify(
                head=head, filename=media.name, declared_mime=media.content_type or ""
            )
        except MediaMismatch as error:
            raise ValidationError(f"Refused: {error}.") from None
        # The sniffed kind, not the browser's claim, is what the slide will declare.
        self.instance.media_type, self.instance.mime = fmt.media_type, fmt.mime
        return media

    def clean(self):
        cleaned = super().clean()
        media = cleaned.get("media")
        if media is False:  # "clear" ticked
            self.instance.media_type, self.instance.mime = "", ""
        if "media" in cleaned and not (cleaned.get("text", "").strip() or media):
            raise ValidationError("Each slide needs text, media or both.")
        return cleaned


class BaseSlideFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if not self._should_delete_form(form) and (form.instance.pk or form.has_changed())
        ]
        if not kept:
            raise ValidationError("An MMS needs at least one slide.")


SlideFormSet = inlineformset_factory(
    Campaign,
    Slide,
    form=SlideForm,
    formset=BaseSlideFormSet,
    extra=1,
    can_delete=True,
    can_order=True,
)
SLIDES_PREFIX = "slides"


# --- actions on the detail page -------------------------------------------------------------------


class TestSendForm(forms.Form):
    __test__ = False  # not a pytest test class, whatever its name
    recipient = forms.CharField(
        max_length=254, help_text="One phone number or email address, as the channel needs."
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel

    def clean_recipient(self) -> str:
        # Imported on use, like the views do: recipients.py pulls in phonenumbers' metadata.
        from messaging.recipients import InvalidRecipient, normalise_recipient

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


# --- showing errors -------------------------------------------------------------------------------


def error_summary(
    form: forms.BaseForm | None = None, slides: forms.BaseFormSet | None = None
) -> list[str]:
    """Every error as "<field label>: <reason>", for the list at the top of the page."""
    lines = list(_form_errors(form, "")) if form is not None else []
    if slides is not None:
        lines += [f"Slides: {error}" for error in slides.non_form_errors()]
        for number, slide_form in enumerate(slides.forms, start=1):
            lines += _form_errors(slide_form, f"Slide {number}, ")
    return lines


def _form_errors(form: forms.BaseForm, prefix: str) -> Iterable[str]:
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            label = prefix.rstrip(", ") or "Form"
        else:
            field = form.fields.get(name)
            label = prefix + str(field.label if field and field.label else name)
        for error in errors:
            yield f"{label}: {error}"


# --- the campaign list's filters ------------------------------------------------------------------


class CampaignFilterForm(forms.Form):
    """The campaign list's search and filters (GET). An invalid filter is shown with its error
    and left out; the rest still apply."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *CampaignState.choices]
    )
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )
    application = forms.ModelChoiceField(
        label="Application", required=False, queryset=None, empty_label="Any application"
    )
    created_from = forms.DateField(
        label="Created from",
        required=False,
        validators=[validate_filter_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = forms.DateField(
        label="Created to",
        required=False,
        validators=[validate_filter_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "The end of the date range is before its start.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters, named as reports.listing.campaigns_filter takes them."""
        data = getattr(self, "cleaned_data", {})
        return {
            "text": data.get("q", "").strip(),
            "state": data.get("state", ""),
            "channel": data.get("channel", ""),
            "application": data.get("application"),
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
        }
