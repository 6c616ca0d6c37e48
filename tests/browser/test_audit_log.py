"""The audit log, as an Admin reads it in the admin after signing in on the portal's page:
an automatic pause reads as the portal, with its reason."""

import pytest

from messaging.models import Message, MessageState
from messaging.services import campaign_launch
from messaging.services.upkeep import campaign_auto_pause
from tests.browser.helpers import DESKTOP, PASSWORD, PHONE, screenshot, staff_with_password
from tests.messaging.services.helpers import campaign_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_admin_reads_an_automatic_pause_in_the_audit_log(
    page, live_server, make_staff, application, settings, empty_task_queue, size
):
    settings.AUTO_PAUSE_MIN_MESSAGES = 4
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    staff_with_password(make_staff, "adele", "Admin")
    campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(10)])
    campaign_launch(campaign=campaign, user=None)
    ids = list(campaign.messages.order_by("id").values_list("id", flat=True))
    Message.objects.filter(pk__in=ids[:4]).update(state=MessageState.FAILED)
    assert campaign_auto_pause(campaign_id=campaign.pk)
    page.set_viewport_size(size)

    page.goto(live_server.url + "/admin/audit/auditentry/")
    assert "/login/?next=" in page.url
    page.fill("[name=username]", "adele")
    page.fill("[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    row = page.locator("#result_list tbody tr", has_text="Campaign paused")
    row.wait_for()

    assert row.locator("td.field-who").inner_text() == "portal"
    assert "Paused automatically: 4 of the 4 messages" in row.inner_text()
    screenshot(page, f"audit-log-{size['width']}")
