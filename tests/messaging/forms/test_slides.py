"""An MMS's slides: every refusal names its slide and field, and says why."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging.forms.errors import error_summary
from messaging.forms.slides import SlideFormSet
from messaging.models import Campaign, Channel
from tests.messaging.compose_helpers import GIF_BYTES, fake_image_upload, png_upload, slide_data

pytestmark = pytest.mark.django_db


def _slides(slides, files=None, campaign=None):
    campaign = campaign or Campaign(channel=Channel.MMS)
    return SlideFormSet(slide_data(slides), files or {}, instance=campaign, prefix="slides")


def test_an_mms_needs_a_slide():
    slides = _slides([{"duration": "5", "text": ""}])
    assert not slides.is_valid()
    assert slides.non_form_errors() == ["An MMS needs at least one slide."]
    assert error_summary(slides=slides) == ["Slides: An MMS needs at least one slide."]


def test_deleting_every_slide_leaves_none():
    slides = _slides([{"duration": "5", "text": "Hi", "DELETE": "on"}])
    assert not slides.is_valid()
    assert slides.non_form_errors() == ["An MMS needs at least one slide."]


def test_a_slide_needs_text_or_media():
    slides = _slides([{"duration": "7", "text": " "}, {"duration": "5", "text": "Hi"}])
    assert not slides.is_valid()
    assert slides.forms[0].non_field_errors() == ["Each slide needs text, media or both."]
    assert error_summary(slides=slides) == ["Slide 1: Each slide needs text, media or both."]


@pytest.mark.parametrize("duration", ["0", "61", "-1", "x"])
def test_a_slide_lasts_one_to_sixty_seconds(duration):
    slides = _slides([{"duration": duration, "text": "Hi"}])
    assert not slides.is_valid()
    assert list(slides.forms[0].errors) == ["duration"]
    assert error_summary(slides=slides)[0].startswith("Slide 1, Seconds on screen: ")


def test_a_slide_with_a_real_image_is_accepted_with_the_sniffed_type():
    upload = png_upload(content_type="application/octet-stream")
    slides = _slides([{"duration": "5", "text": ""}], {"slides-0-media": upload})
    assert slides.is_valid(), slides.errors
    slide = slides.forms[0].instance
    assert (slide.media_type, slide.mime) == ("image", "image/png")


def test_text_dressed_as_an_image_is_refused():
    slides = _slides([{"duration": "5", "text": "Hi"}], {"slides-0-media": fake_image_upload()})
    assert not slides.is_valid()
    [error] = slides.forms[0].errors["media"]
    assert "not an image, video or audio file" in error
    assert error_summary(slides=slides) == [f"Slide 1, Image, video or audio: {error}"]


def test_an_image_whose_declared_type_differs_is_refused():
    upload = SimpleUploadedFile("dot.gif", GIF_BYTES, content_type="image/png")
    slides = _slides([{"duration": "5"}], {"slides-0-media": upload})
    assert not slides.is_valid()
    assert "GIF image, but it was uploaded as image/png" in slides.forms[0].errors["media"][0]


def test_an_image_whose_extension_differs_is_refused():
    upload = SimpleUploadedFile("dot.jpg", GIF_BYTES, content_type="")
    slides = _slides([{"duration": "5"}], {"slides-0-media": upload})
    assert not slides.is_valid()
    assert "its name ends in .jpg" in slides.forms[0].errors["media"][0]


def test_too_large_media_is_refused(settings):
    settings.MMS_MAX_MEDIA_BYTES = 20
    slides = _slides([{"duration": "5"}], {"slides-0-media": png_upload()})
    assert not slides.is_valid()
    [error] = slides.forms[0].errors["media"]
    assert error.startswith("dot.png is ") and "at most 20\xa0bytes" in error


def test_a_slides_text_placeholders_are_checked():
    slides = _slides([{"duration": "5", "text": "Hi {{ name }}"}, {"duration": "5", "text": "{{"}])
    assert not slides.is_valid()
    assert error_summary(slides=slides) == [
        "Slide 2, Text: Line 1: “{{” is not closed by “}}” on the same line."
    ]
