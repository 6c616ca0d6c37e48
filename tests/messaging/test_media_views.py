"""messaging.media_views: an MMS slide's media, served only to those who may see its campaign."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from messaging.models import Channel, SlideMedia
from tests.messaging.compose_helpers import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def slide(make_campaign):
    campaign = make_campaign(Channel.MMS, name="Picture day")
    slide = campaign.slides.create(
        position=0, media_type=SlideMedia.IMAGE, mime="image/png", text="Look"
    )
    slide.media.save("dot.png", ContentFile(png_bytes()))
    return slide


def url(slide) -> str:
    return reverse("messaging:slide_media", args=[slide.campaign_id, slide.pk])


def test_a_viewer_of_the_campaign_gets_the_image_with_its_checked_type(viewer_client, slide):
    response = viewer_client.get(url(slide))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()


def test_someone_granted_another_application_gets_404(client, outsider, slide):
    client.force_login(outsider)
    assert client.get(url(slide)).status_code == 404


def test_signed_out_it_asks_to_sign_in(client, slide):
    response = client.get(url(slide))
    assert response.status_code == 302


def test_a_slide_of_another_campaign_or_without_media_is_404(viewer_client, slide, make_campaign):
    other = make_campaign(Channel.MMS)
    assert (
        viewer_client.get(reverse("messaging:slide_media", args=[other.pk, slide.pk])).status_code
        == 404
    )
    text_only = slide.campaign.slides.create(position=1, text="Words only")
    assert viewer_client.get(url(text_only)).status_code == 404


def test_the_campaign_page_shows_the_image_slides_thumbnail(viewer_client, slide):
    html = viewer_client.get(
        reverse("messaging:campaign_detail", args=[slide.campaign_id])
    ).content.decode()
    assert f'src="{url(slide)}"' in html
