"""Cloning a campaign: a new draft with the content and settings, never the recipients."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import Attachment, Campaign, CampaignState, Channel, Slide
from messaging.services import CampaignError, campaign_clone, campaign_launch
from tests.support.campaigns import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_clone_is_a_draft_copy_named_copy_without_recipients(application, composer):
    start = timezone.now() + timedelta(days=1)
    campaign = make_campaign(
        Channel.SMS,
        application=application,
        recipients=3,
        name="Spring sale",
        body_text="Hi {{ first_name|default:'there' }}",
        is_otp=True,
        submit_not_before=start,
        submit_not_after=start + timedelta(hours=2),
        canary_size=10,
        canary_min_success=0.8,
    )
    campaign_launch(campaign=campaign, user=composer)

    clone = campaign_clone(campaign=Campaign.objects.get(pk=campaign.pk), user=composer)

    assert clone.pk != campaign.pk
    assert clone.name == "Spring sale (copy)"
    assert clone.state == CampaignState.DRAFT
    assert clone.created_by == composer
    assert (clone.channel, clone.application, clone.body_text, clone.is_otp) == (
        Channel.SMS,
        application,
        "Hi {{ first_name|default:'there' }}",
        True,
    )
    assert (clone.submit_not_before, clone.submit_not_after) == (start, start + timedelta(hours=2))
    assert (clone.canary_size, clone.canary_min_success) == (10, 0.8)
    assert clone.launched_at is None and clone.canary_released_at is None
    assert clone.messages.count() == 0


def test_a_video_clone_keeps_its_template_and_data(application, composer):
    campaign = make_campaign(
        Channel.VIDEO,
        application=application,
        template_id=42,
        template_data={"name": "Thandi", "offer": [1, 2]},
        network="mtn",
    )

    clone = campaign_clone(campaign=campaign, user=composer)

    assert (clone.template_id, clone.template_data, clone.network) == (
        42,
        {"name": "Thandi", "offer": [1, 2]},
        "mtn",
    )


def test_slides_and_attachments_are_copied_with_files_of_their_own(application, composer):
    mms = make_campaign(Channel.MMS, application=application, subject="Look")
    Slide.objects.create(
        campaign=mms,
        position=0,
        duration=7,
        text="First",
        media=ContentFile(b"PNGDATA", name="dot.png"),
        media_type="image",
        mime="image/png",
    )
    Slide.objects.create(campaign=mms, position=1, duration=3, text="Second")
    email = make_campaign(Channel.EMAIL, application=application)
    Attachment.objects.create(
        campaign=email,
        file=ContentFile(b"%PDF", name="terms.pdf"),
        filename="Terms.pdf",
        mime="application/pdf",
        size=4,
    )

    mms_clone = campaign_clone(campaign=mms, user=composer)
    email_clone = campaign_clone(campaign=email, user=composer)

    slides = list(mms_clone.slides.all())
    assert [(s.position, s.duration, s.text, s.mime) for s in slides] == [
        (0, 7, "First", "image/png"),
        (1, 3, "Second", ""),
    ]
    original_media = mms.slides.get(position=0).media
    assert slides[0].media.name != original_media.name
    assert slides[0].media.name.startswith(f"campaigns/{mms_clone.pk}/")
    assert slides[0].media.read() == b"PNGDATA"
    assert not slides[1].media
    attachment = email_clone.attachments.get()
    assert (attachment.filename, attachment.size, attachment.file.read()) == (
        "Terms.pdf",
        4,
        b"%PDF",
    )
    assert attachment.file.name != email.attachments.get().file.name


def test_a_clone_is_audited_naming_its_original(application, composer):
    campaign = make_campaign(Channel.SMS, application=application)

    clone = campaign_clone(campaign=campaign, user=composer)

    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_CLONE)
    assert (entry.actor, entry.target_id, entry.detail) == (
        composer,
        str(clone.pk),
        {"cloned_from": campaign.pk},
    )


def test_a_long_name_still_ends_in_copy(application, composer):
    campaign = make_campaign(Channel.SMS, application=application, name="x" * 200)

    clone = campaign_clone(campaign=campaign, user=composer)

    assert len(clone.name) == 200 and clone.name.endswith(" (copy)")


def test_single_sends_are_not_cloned(application, composer):
    campaign = make_campaign(Channel.SMS, application=application, is_single_sends=True)

    with pytest.raises(CampaignError, match="Single sends"):
        campaign_clone(campaign=campaign, user=composer)
    assert Campaign.objects.count() == 1
