"""Posting to the postback webhook the way iLiveIt does, for the tests of the view and of what
its stored rows become once a drain applies them."""

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from messaging.postback_urls import sign
from postbacks.drain import postbacks_drain
from postbacks.models import InboxKind, PostbackInbox
from postbacks.services import postback_store
from tests.postbacks.bodies import status_body

NOW = timezone.now().replace(microsecond=0)
SUBMIT_AT = NOW - timedelta(minutes=3)
SENT_AT = NOW - timedelta(minutes=2)
DELIVERED_AT = NOW - timedelta(minutes=1)
SUBMITTED = (2, "Submitted", SUBMIT_AT)
SENT = (1, "Sent", SENT_AT)
DELIVERED = (1, "Delivered", DELIVERED_AT)


def url_for(message, mac: str | None = None) -> str:
    mac = sign(message.ref) if mac is None else mac
    return reverse("postbacks:status", kwargs={"ref": message.ref, "mac": mac})


def post_only(client, message, body, *, mac: str | None = None, **extra):
    """The webhook's own work: store and answer."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(url_for(message, mac), data=data, content_type="application/json", **extra)


def post(client, message, body, *, mac: str | None = None, **extra):
    """Post, then apply what was stored as the worker's drain does."""
    response = post_only(client, message, body, mac=mac, **extra)
    postbacks_drain()
    return response


def delivery_body(message, **kwargs) -> dict:
    stages = {"submit": SUBMITTED, "sent": SENT, "delivered": DELIVERED}
    return status_body(message.iliveit_id, "delivery", stages=stages, **kwargs)


def delivery(message_id: str, **stages) -> dict:
    """A delivery body for the MessageID: submitted, sent and delivered unless told."""
    stages = stages or {"submit": SUBMITTED, "sent": SENT, "delivered": DELIVERED}
    return status_body(message_id, "delivery", stages=stages)


def store(message, body, *, age_s: float = 0.0) -> PostbackInbox:
    """A status postback stored as the webhook stores it (not applied), `age_s` ago."""
    row = postback_store(
        message=message,
        kind=InboxKind.STATUS,
        body=json.dumps(body).encode(),
        truncated=False,
        headers={"Content-Type": "application/json"},
        source_ip="198.51.100.7",
    )
    if age_s:
        received = timezone.now() - timedelta(seconds=age_s)
        PostbackInbox.objects.filter(pk=row.pk).update(received_at=received)
    return row


def state_of(row: PostbackInbox) -> str:
    row.refresh_from_db()
    return row.state


def only_inbox_row() -> PostbackInbox:
    [row] = PostbackInbox.objects.all()
    return row


def events_of(message) -> list[tuple]:
    return list(message.events.order_by("stage").values_list("stage", "code", "stage_at"))


def post_reply(client, message, body, *, mac: str | None = None, drain: bool = True):
    mac = sign(message.ref, purpose="reply") if mac is None else mac
    url = reverse("postbacks:reply", kwargs={"ref": message.ref, "mac": mac})
    data = body if isinstance(body, bytes) else json.dumps(body)
    response = client.post(url, data=data, content_type="application/json")
    if drain:
        postbacks_drain()
    return response


def sms_reply_body(message, text="STOP") -> dict:
    return {
        "MessageId": message.iliveit_id,
        "SourceMSISDN": message.recipient,
        "DestinationMSISDN": "40001",
        "Message": text,
        "ExtraDigits": "",
        "RetryCount": 0,
    }
