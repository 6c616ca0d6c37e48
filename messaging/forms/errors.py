"""Every error of a form, and of an MMS's slides, as one list for the top of the page: each
line names the field (and slide) it is about, as the page shows it beside the input."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS


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
