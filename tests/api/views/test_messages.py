"""/api/v1/messages/: the filtered list, one message's timeline and replies, single sends and
resends; and one single send end to end through a real worker and the sandbox."""

import re
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from iliveit_portal.celery import app as celery_app
from messaging.models import (
    Application,
    Campaign,
    CampaignState,
    Message,
    MessageState,
    OptOutSource,
)
from messaging.optouts import opt_out_record
from postbacks.models import EventSource, MessageEvent, Reply, ReplyKind
from tests.api.conftest import error_of, token_client
from tests.support.campaigns import sms_campaign
from tests.support.worker import CeleryWorker, database_url_for_workers

LIST = "/api/v1/messages/"


def detail(message) -> str:
    return f"/api/v1/messages/{message.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_messages_are_listed_newest_first_only_from_granted_applications(
    as_viewer, as_admin, campaign, other_campaign
):
    mine = list(campaign.messages.order_by("-id").values_list("id", flat=True))
    everyone = list(Message.objects.order_by("-id").values_list("id", flat=True))

    assert ids(as_viewer.get(LIST)) == mine
    assert ids(as_admin.get(LIST)) == everyone


@pytest.mark.django_db
def test_the_list_filters_by_campaign_state_network_code_recipient_and_single(
    as_viewer, application
):
    first = sms_campaign(application, name="First", recipients=4)
    second = sms_campaign(application, name="Second", recipients=1)
    a, b, c, d = first.messages.order_by("id")
    a.state, a.network, a.delivered_code = MessageState.FAILED, "Vodacom", 2
    b.state, b.network = MessageState.DELIVERED, "MTN"
    c.is_single, c.recipient = True, "27839999999"
    for message in (a, b, c):
        message.save()

    assert set(ids(as_viewer.get(LIST, {"campaign": second.pk}))) == {second.messages.get().pk}
    assert ids(as_viewer.get(LIST, {"state": "delivered"})) == [b.pk]
    assert ids(as_viewer.get(LIST, {"network": "Vodacom"})) == [a.pk]
    assert ids(as_viewer.get(LIST, {"failure_code": 2})) == [a.pk]
    assert ids(as_viewer.get(LIST, {"recipient": "278399"})) == [c.pk]
    assert ids(as_viewer.get(LIST, {"single": "true"})) == [c.pk]
    assert d.pk in ids(as_viewer.get(LIST, {"single": "false"}))


@pytest.mark.django_db
def test_a_bad_message_filter_answers_400(as_viewer, campaign):
    response = as_viewer.get(
        LIST, {"state": "lost", "failure_code": 99999, "campaign": "x", "single": "maybe"}
    )

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"state", "failure_code", "campaign", "single"}


@pytest.mark.django_db
def test_a_message_shows_its_stages_events_and_replies_but_no_raw_email(as_viewer, campaign):
    message = campaign.messages.first()
    message.iliveit_id, message.state = "ILV-1", MessageState.DELIVERED
    message.save()
    now = timezone.now()
    MessageEvent.objects.create(
        message=message, stage="delivered", code=1, stage_at=now, source=EventSource.POSTBACK
    )
    MessageEvent.objects.create(
        message=message,
        stage="submit",
        code=1,
        stage_at=now - timedelta(seconds=5),
        source=EventSource.POSTBACK,
    )
    reply = Reply(message=message, kind=ReplyKind.EMAIL, sender="a@example.com", text="Thanks")
    reply.raw_email.save("reply.eml", ContentFile(b"From: a@example.com\r\n\r\nsecret"), save=False)
    reply.content_hash = "x" * 64
    reply.save()

    response = as_viewer.get(detail(message))

    assert response.status_code == 200
    body = response.json()
    assert body["iliveit_id"] == "ILV-1"
    assert [event["stage"] for event in body["events"]] == ["submit", "delivered"]
    assert [stage["stage"] for stage in body["stages"]] == [
        "build",
        "archive",
        "submit",
        "sent",
        "delivered",
    ]
    assert body["replies"] == [
        {
            "id": reply.pk,
            "kind": "email",
            "sender": "a@example.com",
            "subject": "",
            "text": "Thanks",
            "received_at": body["replies"][0]["received_at"],
        }
    ]
    assert "secret" not in response.content.decode()


@pytest.mark.django_db
def test_an_ungranted_message_answers_404_and_a_roleless_user_403(as_outsider, no_role, campaign):
    message = campaign.messages.first()

    assert as_outsider.get(detail(message)).status_code == 404
    assert token_client(no_role).get(detail(message)).status_code == 403
    assert as_outsider.post(f"{detail(message)}resend/").status_code == 404


# --- single sends ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_composer_sends_one_sms_and_gets_202_with_the_portal_id(as_composer, application):
    response = as_composer.post(
        LIST,
        {
            "channel": "sms",
            "recipient": "082 123 4567",
            "text": "Hi",
            "application": application.pk,
        },
        format="json",
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert (body["state"], body["iliveit_id"], body["is_single"]) == ("queued", None, True)
    assert message.recipient == "27821234567"
    assert message.campaign.application == application


@pytest.mark.django_db
def test_a_single_send_uses_the_default_application_when_the_user_may_see_it(
    as_composer, application
):
    response = as_composer.post(
        LIST,
        {"channel": "email", "recipient": "a@example.com", "subject": "Hi", "html": "<p>Hi</p>"},
        format="json",
    )

    assert response.status_code == 202, response.json()
    assert Message.objects.get().campaign.application == application


@pytest.mark.django_db
def test_a_single_send_refuses_a_default_application_the_user_may_not_see(as_outsider, application):
    Application.objects.exclude(pk=application.pk).delete()
    response = as_outsider.post(
        LIST, {"channel": "sms", "recipient": "0821234567", "text": "Hi"}, format="json"
    )

    assert response.status_code == 400
    assert "application" in error_of(response)["fields"]
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"channel": "mms"}, "channel"),
        ({"recipient": "12"}, "recipient"),
        ({"recipient": ""}, "recipient"),
        ({"text": ""}, "text"),
        ({"application": "x"}, "application"),
        ({"application": 999999}, "application"),
        ({"channel": "email", "recipient": "a@example.com", "text": "", "html": ""}, "html"),
        ({"channel": "email", "recipient": "not-an-email"}, "recipient"),
        ({"reply_to": "nope"}, "reply_to"),
        ({"channel": "email", "recipient": "a@example.com", "subject": ""}, "subject"),
    ],
)
def test_bad_single_send_input_answers_400_naming_the_field(
    as_composer, application, body, bad_field
):
    sms = {"channel": "sms", "recipient": "0821234567", "text": "Hi", "application": application.pk}

    response = as_composer.post(LIST, sms | body, format="json")

    assert response.status_code == 400, response.json()
    assert bad_field in error_of(response)["fields"]
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\x0b", "\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "s{}Bcc: x@y.z"),
        ("from_name", "Shop{}Bcc: x@y.z"),
        ("reply_to", '"a{}b"@example.com'),
    ],
)
def test_a_single_send_refuses_header_injection_naming_the_field(
    as_composer, application, field, value, breaker
):
    email = {
        "channel": "email",
        "recipient": "a@example.com",
        "subject": "Hi",
        "text": "Hello",
        "application": application.pk,
    }

    response = as_composer.post(LIST, email | {field: value.format(breaker)}, format="json")

    assert response.status_code == 400, response.json()
    assert (
        "Line breaks and control characters are not allowed." in error_of(response)["fields"][field]
    )
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_single_send_with_several_applications_must_name_one(
    as_admin, application, other_application
):
    response = as_admin.post(
        LIST, {"channel": "sms", "recipient": "0821234567", "text": "Hi"}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["message"] == "Several applications exist; name the one to send with."


@pytest.mark.django_db
def test_a_named_single_send_beside_ordinary_campaigns_of_that_name_is_accepted(
    as_composer, application
):
    # Two ordinary campaigns of that name once made the send answer 500.
    ordinary = [
        sms_campaign(application, name="Welcome", state=CampaignState.SENDING) for _ in range(2)
    ]
    sms = {"channel": "sms", "text": "Hi", "application": application.pk}

    first = as_composer.post(
        LIST, sms | {"recipient": "0821234567", "campaign_name": "Welcome"}, format="json"
    )
    second = as_composer.post(
        LIST, sms | {"recipient": "0821234568", "campaign_name": "Welcome"}, format="json"
    )

    assert (first.status_code, second.status_code) == (202, 202), first.json()
    messages = Message.objects.filter(pk__in=[first.json()["id"], second.json()["id"]])
    campaigns = {message.campaign for message in messages}
    assert len(campaigns) == 1
    assert campaigns.isdisjoint(ordinary)
    assert campaigns.pop().name == "Welcome"


@pytest.mark.django_db
def test_single_sends_file_under_one_single_sends_campaign(as_composer, application):
    sms = {"channel": "sms", "text": "Hi", "application": application.pk}
    for recipient in ("0821234567", "0821234568", "0821234569"):
        response = as_composer.post(LIST, sms | {"recipient": recipient}, format="json")
        assert response.status_code == 202, response.json()

    campaigns = as_composer.get("/api/v1/campaigns/").json()["results"]
    assert [(c["name"], c["channel"], c["is_single_sends"]) for c in campaigns] == [
        ("Single sends", "sms", True)
    ]


@pytest.mark.django_db
def test_a_single_send_to_an_opted_out_recipient_answers_409_with_the_reason(
    as_composer, application, empty_task_queue
):
    opt_out_record(application=application, recipient="27821234567", source=OptOutSource.REPLY)
    sms = {"channel": "sms", "recipient": "082 123 4567", "text": "Hi"}

    response = as_composer.post(LIST, sms | {"application": application.pk}, format="json")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert re.fullmatch(r"27821234567 opted out on \d{4}-\d\d-\d\d \(Reply\)\.", error["message"])
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_transactional_single_send_reaches_an_opted_out_recipient_and_records_it(
    as_composer, application, empty_task_queue
):
    opt_out_record(application=application, recipient="27821234567", source=OptOutSource.REPLY)
    pin = {"channel": "sms", "recipient": "0821234567", "text": "PIN 1234", "transactional": True}

    response = as_composer.post(LIST, pin | {"application": application.pk}, format="json")

    assert response.status_code == 202, response.json()
    assert response.json()["is_transactional"] is True
    message = Message.objects.get()
    assert message.is_transactional
    assert as_composer.get(detail(message)).json()["is_transactional"] is True


@pytest.mark.django_db
def test_a_single_send_is_not_transactional_unless_it_says_so(
    as_composer, application, empty_task_queue
):
    sms = {"channel": "sms", "recipient": "0821234567", "text": "Hi"}

    response = as_composer.post(LIST, sms | {"application": application.pk}, format="json")

    assert response.json()["is_transactional"] is False


@pytest.mark.django_db
def test_a_viewer_may_not_send_or_resend(as_viewer, campaign):
    send = as_viewer.post(
        LIST, {"channel": "sms", "recipient": "0821234567", "text": "Hi"}, format="json"
    )
    resend = as_viewer.post(f"{detail(campaign.messages.first())}resend/")

    assert send.status_code == resend.status_code == 403
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_resending_a_message_iliveit_never_had_answers_409(as_composer, campaign):
    response = as_composer.post(f"{detail(campaign.messages.first())}resend/")

    assert response.status_code == 409
    assert "never accepted" in error_of(response)["message"]


# --- end to end --------------------------------------------------------------------------------


@pytest.fixture
def worker(live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    celery_app.control.purge()
    started = CeleryWorker(
        queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
        env={"DATABASE_URL": database_url_for_workers(), "PORTAL_BASE_URL": live_server.url},
        name="api",
    )
    yield started
    started.stop()
    celery_app.control.purge()


def wait_for(read, done, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_single_send_is_submitted_by_a_worker_and_can_be_resent(
    make_staff, sandbox, sandbox_application, worker
):
    client = token_client(make_staff("cora", "Composer", applications=[sandbox_application]))

    sent = client.post(
        LIST,
        {"channel": "sms", "recipient": "0821234567", "text": "Hello from the API"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="e2e-1",
    )
    assert sent.status_code == 202, sent.json()
    assert sent.json()["iliveit_id"] is None
    url = detail(Message(pk=sent.json()["id"]))
    submitted = wait_for(lambda: client.get(url).json(), lambda body: body["iliveit_id"])

    assert submitted["iliveit_id"], submitted
    assert sandbox.message(submitted["iliveit_id"])["recipient"] == "27821234567"

    resent = client.post(f"{url}resend/", HTTP_IDEMPOTENCY_KEY="e2e-2")
    again = client.post(f"{url}resend/", HTTP_IDEMPOTENCY_KEY="e2e-2")

    assert resent.status_code == 201, resent.json()
    assert resent.json()["resent_from"] == submitted["id"]
    assert resent.json()["iliveit_id"] not in (None, submitted["iliveit_id"])
    assert again.json() == resent.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(resent_from_id=submitted["id"]).count() == 1
    assert Campaign.objects.count() == 1
