"""An MMS campaign's slides: each slide's form, and the formset the compose page and the API
post them in (under SLIDES_PREFIX). An MMS needs at least one slide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.template.defaultfilters import filesizeformat

from messaging.media import HEAD_BYTES, MediaMismatch, media_identify
from messaging.models import Campaign, Slide
from messaging.validators import validate_placeholders

MAX_SLIDE_SECONDS = 60


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
        self.fields["text"].validators.append(validate_placeholders)

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
        # Only when both were read: a text refused for its placeholders is not a missing one.
        if "media" in cleaned and "text" in cleaned and not (cleaned["text"].strip() or media):
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
