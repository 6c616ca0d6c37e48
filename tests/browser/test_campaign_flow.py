"""A composer's day in a real browser: sign in, compose and launch an email campaign to the
sandbox, watch its dashboard reach "delivered" by itself, read a failed message's timeline
and export the CSV. A real Celery worker sends; the sandbox posts postbacks to the live
server."""

import csv
import io
import json
import re

import pytest
from django.conf import settings as django_settings

from iliveit_portal.celery import app as celery_app
from messaging.models import Application, Campaign
from tests.browser.helpers import sign_in, staff_with_password
from tests.support.worker import CeleryWorker, database_url_for_workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RECIPIENTS = ["ann@example.com", "ben@example.com", "bounce@example.com"]


@pytest.fixture
def portal(live_server, sandbox_application, make_staff, settings):
    settings.PORTAL_BASE_URL = live_server.url
    celery_app.control.purge()
    worker = CeleryWorker(
        queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
        env={"DATABASE_URL": database_url_for_workers(), "PORTAL_BASE_URL": live_server.url},
        concurrency=2,
    )
    # Signs in through the login form, so with a password (the shared composer has none).
    staff_with_password(make_staff, "thandi", "Composer", applications=[sandbox_application])
    yield live_server.url
    worker.stop()


def compose_and_launch(page, base: str) -> Campaign:
    page.get_by_role("link", name="Compose a campaign").click()
    page.get_by_role("link", name=re.compile("Email", re.I)).first.click()
    page.fill("[name=name]", "Browser spring sale")
    page.select_option(
        "[name=application]", value=str(Application.objects.get(name="Sandbox A").pk)
    )
    page.fill("[name=subject]", "Spring sale")
    page.fill("[name=body_text]", "Hello from the portal")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved").wait_for()
    campaign = Campaign.objects.get(name="Browser spring sale")
    page.goto(f"{base}/campaigns/{campaign.pk}/recipients/")
    page.fill("[name=pasted]", "\n".join(RECIPIENTS))
    page.get_by_role("button", name="Add recipients").click()
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Launch").click()
    page.locator("[data-campaign-state]").filter(has_text=re.compile("Sending|Done")).wait_for()
    return campaign


def test_a_launched_campaigns_dashboard_reaches_delivered_by_itself(page, portal):
    sign_in(page, portal)
    campaign = compose_and_launch(page, portal)

    page.goto(f"{portal}/campaigns/{campaign.pk}/dashboard/")
    # No reload from here on: the page fetches its own figures while the campaign is live.
    delivered = page.locator('[data-figure="delivered"]')
    delivered.filter(has_text=re.compile(r"^2$")).wait_for(timeout=60_000)
    page.locator('[data-figure="failed"]').filter(has_text=re.compile(r"^1$")).wait_for()

    assert page.locator('[data-figure="total"]').inner_text() == "3"
    # A few minutes are drawn as bars, three to a minute, so that a short send reads at all.
    points = len(json.loads(page.locator("#series-data").inner_text())["labels"])
    assert page.locator("svg.chart rect.cbar").count() == 3 * points


def test_a_failed_messages_timeline_and_the_csv_export(page, portal):
    sign_in(page, portal)
    campaign = compose_and_launch(page, portal)
    page.goto(f"{portal}/campaigns/{campaign.pk}/dashboard/")
    page.locator('[data-figure="failed"]').filter(has_text=re.compile(r"^1$")).wait_for(
        timeout=60_000
    )

    page.goto(f"{portal}/campaigns/{campaign.pk}/messages/?state=failed")
    page.get_by_role("link", name="bounce@example.com").click()
    timeline = page.get_by_role("table", name=re.compile("Every status change"))
    bounced = timeline.get_by_role("row").filter(has_text="delivered").filter(has_text="Bounced")
    bounced.wait_for()
    assert timeline.get_by_role("row").filter(has_text="Submitted").count() == 1

    page.goto(f"{portal}/campaigns/{campaign.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert sorted(row["recipient"] for row in rows) == sorted(RECIPIENTS)
    failed = next(row for row in rows if row["recipient"] == "bounce@example.com")
    assert failed["state"] == "failed"
