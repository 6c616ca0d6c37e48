"""The audit log in the admin: what the portal did by itself reads as the portal, with its
reason, as the README says of automatic pauses."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import Campaign, CampaignState, Message, MessageState
from messaging.services import campaign_launch, messages_sweep
from messaging.services.upkeep import campaign_auto_pause
from tests.messaging.services.helpers import campaign_with

pytestmark = pytest.mark.django_db


def _rows(response) -> list[str]:
    html = response.content.decode()
    body = html.split('id="result_list"')[1].split("</table>")[0]
    return [row for row in body.split("<tr")[1:] if "<td" in row]


def test_automatic_pauses_are_listed_as_the_portal_with_their_reason(
    admin_client, application, settings, empty_task_queue
):
    settings.AUTO_PAUSE_MIN_MESSAGES = 4
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    settings.CANARY_WAIT_S = 60
    failing = campaign_with(application, [f"2782100{n:04d}" for n in range(10)])
    Campaign.objects.filter(pk=failing.pk).update(name="Failing")
    campaign_launch(campaign=failing, user=None)
    ids = list(failing.messages.order_by("id").values_list("id", flat=True))
    Message.objects.filter(pk__in=ids[:4]).update(state=MessageState.FAILED)
    campaign_auto_pause(campaign_id=failing.pk)
    # A canary that had no delivery report when its wait ran out, judged by the beat's sweep.
    canary = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    Campaign.objects.filter(pk=canary.pk).update(name="Canary")
    campaign_launch(campaign=canary, user=None, canary_size=2, canary_min_success=0.5)
    canary.messages.filter(state=MessageState.QUEUED).update(state=MessageState.SENT)
    Campaign.objects.filter(pk=canary.pk).update(launched_at=timezone.now() - timedelta(seconds=61))
    messages_sweep()
    assert {c.name: c.state for c in Campaign.objects.all()} == {
        "Failing": CampaignState.PAUSED,
        "Canary": CampaignState.PAUSED,
    }

    response = admin_client.get(
        reverse("admin:audit_auditentry_changelist"), {"action": "campaign.pause"}
    )

    rows = _rows(response)
    assert len(rows) == 2
    for row in rows:
        assert '<td class="field-who">portal</td>' in row
    failing_row = next(row for row in rows if "Failing" in row)
    canary_row = next(row for row in rows if "Canary" in row)
    assert "Paused automatically: 4 of the 4 messages with a final outcome failed" in failing_row
    assert "Canary delivered 0%, below the 50% needed." in canary_row
