"""Every staff page of reports/ and messaging/, at phone and desktop width, in a real browser:
none scrolls sideways at 375 px, no table runs past the card it is in, and none splits a word
across two lines ("Queu/ed").
Each is screenshotted into var/screenshots/page-<name>-<width>.png for a person to look at."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from messaging.models import CampaignState, Channel, MessageState, OptOut, OptOutSource, SlideMedia
from postbacks.models import EventSource, MessageEvent, Reply, ReplyKind
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    overflows,
    screenshot,
    sign_in,
    staff_with_password,
)
from tests.messaging.compose_helpers import png_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Words that a line may break inside on purpose: addresses, ids, dates and anything with a
# hyphen or a slash, which browsers break after. A phone number is a word: kept whole.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const element = node.parentElement;
    if (!element || element.closest("pre, textarea, script, style, .code, code, option")) continue;
    const pattern = /\\S+/g;
    let match;
    while ((match = pattern.exec(node.textContent))) {
      const word = match[0];
      if (word.length > 24 || /[@\\/_.:=\\-\\u2013\\u00b7\\u2026]/.test(word)) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + word.length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      const tops = new Set(rects.map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(word);
    }
  }
  return broken;
}"""


@pytest.fixture
def site(make_staff, make_campaign, application, settings, tmp_path):
    """An Admin who sees every page, and a campaign as it looks after sending: delivered,
    failed and queued messages with their stages and timeline, replies, an MMS with an image
    slide, a draft, and an opt-out list."""
    settings.MEDIA_ROOT = tmp_path
    staff_with_password(make_staff, "thandi", "Admin")
    now = timezone.now()
    sent = make_campaign(
        name="Spring sale for the whole of the Western Cape region",
        state=CampaignState.DONE,
        launched_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=1),
    )
    delivered = sent.messages.create(
        recipient="27820000001",
        state=MessageState.DELIVERED,
        network="Vodacom",
        iliveit_id="a1b2c3d4e5f6a7b8c9d0",
        submitted_at=now - timedelta(minutes=30),
        submit_code=2,
        submit_description="Submitted",
        submit_at=now - timedelta(minutes=30),
        sent_code=1,
        sent_description="Sent",
        sent_at=now - timedelta(minutes=29),
        delivered_code=1,
        delivered_description="Delivered",
        delivered_at=now - timedelta(minutes=28),
    )
    failed = sent.messages.create(
        recipient="27820000002",
        state=MessageState.FAILED,
        network="MTN",
        iliveit_id="f1e2d3c4b5a6",
        submitted_at=now - timedelta(minutes=30),
        submit_code=2,
        submit_description="Submitted",
        submit_at=now - timedelta(minutes=30),
        sent_code=5,
        sent_description="Rejected by the network: absent subscriber",
        sent_at=now - timedelta(minutes=29),
    )
    sent.messages.create(recipient="27820000003", state=MessageState.QUEUED)
    sent.messages.create(
        recipient="someone.with.a.long.address@subdomain.example.co.za",
        state=MessageState.SUBMITTED,
        network="Cell C",
    )
    for stage, code, description, minutes in (
        ("submit", 2, "Submitted", 30),
        ("sent", 5, "Rejected by the network", 29),
    ):
        MessageEvent.objects.create(
            message=failed,
            stage=stage,
            code=code,
            description=description,
            stage_at=now - timedelta(minutes=minutes),
            source=EventSource.POSTBACK,
            late_by_s=3700 if stage == "sent" else 0,
        )
    Reply.objects.create(
        message=delivered,
        kind=ReplyKind.SMS,
        sender=delivered.recipient,
        text="Yes please, send me the catalogue",
        content_hash="1",
    )
    Reply.objects.create(
        message=failed,
        kind=ReplyKind.EMAIL,
        sender="a.very.long.mailbox.name@subdomain.example.co.za",
        subject="Re: Spring sale",
        text="Please take me off this list.\nThanks",
        content_hash="2",
    )
    mms = make_campaign(Channel.MMS, name="Picture day", state=CampaignState.DONE)
    slide = mms.slides.create(
        position=0, media_type=SlideMedia.IMAGE, mime="image/png", text="Look"
    )
    slide.media.save("dot.png", ContentFile(png_bytes()))
    mms.slides.create(position=1, text="Words only", duration=3)
    mms_message = mms.messages.create(recipient="27820000009", state=MessageState.DELIVERED)
    draft = make_campaign(name="Draft for next week", recipients=3)
    entry = OptOut.objects.create(
        application=application, recipient="27820000002", source=OptOutSource.REPLY, reason="STOP"
    )
    return {
        "sent": sent.pk,
        "delivered": delivered.pk,
        "failed": failed.pk,
        "mms": mms.pk,
        "mms_message": mms_message.pk,
        "draft": draft.pk,
        "application": application.pk,
        "entry": entry.pk,
    }


PAGES = {
    "front-page": "/",
    "campaign-list": "/campaigns/",
    "compose-choose": "/campaigns/new/",
    "compose-sms": "/campaigns/new/sms/",
    "compose-email": "/campaigns/new/email/",
    "compose-mms": "/campaigns/new/mms/",
    "compose-video": "/campaigns/new/video/",
    "campaign": "/campaigns/{sent}/",
    "campaign-draft": "/campaigns/{draft}/",
    "campaign-mms": "/campaigns/{mms}/",
    "campaign-edit": "/campaigns/{draft}/edit/",
    "campaign-recipients": "/campaigns/{draft}/recipients/",
    "dashboard": "/campaigns/{sent}/dashboard/",
    "message-list": "/campaigns/{sent}/messages/",
    "message-delivered": "/campaigns/messages/{delivered}/",
    "message-failed": "/campaigns/messages/{failed}/",
    "message-mms": "/campaigns/messages/{mms_message}/",
    "campaign-replies": "/campaigns/{sent}/replies/",
    "replies": "/replies/",
    "opt-out-applications": "/opt-outs/",
    "opt-out-list": "/opt-outs/{application}/",
    "opt-out-remove": "/opt-outs/{application}/{entry}/remove/",
}

# Tables wider than the box they sit in: the page may not scroll, yet their last column is
# cut off at the card's edge. Tables meant to scroll inside a wrapper are left out.
WIDE_TABLES = """() => [...document.querySelectorAll("main table")].filter(table => {
  const box = table.parentElement;
  if (getComputedStyle(box).overflowX === "auto") return false;
  const style = getComputedStyle(box);
  const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return table.getBoundingClientRect().width > inner + 1;
}).map(table => table.className || table.querySelector("caption")?.textContent || "table")"""


@pytest.mark.parametrize("name", PAGES)
def test_every_page_fits_a_phone_and_keeps_its_words_whole(page, live_server, site, name):
    sign_in(page, live_server.url)
    page.goto(live_server.url + PAGES[name].format(**site))
    assert page.title()
    for size, width in ((PHONE, 375), (DESKTOP, 1280)):
        page.set_viewport_size(size)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"page-{name}-{width}")
        assert page.evaluate(BROKEN_WORDS) == [], f"words split at {width} px"
        assert page.evaluate(WIDE_TABLES) == [], f"tables past their card at {width} px"
        if width == 375:
            assert not overflows(page), "scrolls sideways at 375 px"
