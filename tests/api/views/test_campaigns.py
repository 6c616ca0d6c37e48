"""/api/v1/campaigns/: who may read and act, what each input is checked for, and that every
action goes through messaging's services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import Campaign, CampaignState, Channel, Message, MessageState, Slide
from messaging.optouts import opt_out_record
from tests.api.conftest import error_of, token_client
from tests.conftest import APP_A
from tests.support.applications import make_sandbox_application
from tests.support.campaigns import make_campaign, sms_campaign
from tests.support.redis_restart import redis_down

# Launches enqueue their tasks on commit, which these tests never reach: no worker is needed.
pytestmark = pytest.mark.django_db

LIST = "/api/v1/campaigns/"


def detail(campaign) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/"


def action(campaign, name: str) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/{name}/"


def sms(app, **fields) -> dict:
    return {"name": "API sale", "channel": "sms", "application": app.pk, "body_text": "Hello"} | (
        fields
    )


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["as_viewer", "as_composer", "as_admin"])
def test_every_role_lists_the_campaigns_it_is_granted(request, who, campaign, other_campaign):
    client = request.getfixturevalue(who)

    response = client.get(LIST)

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    expected = [other_campaign.pk, campaign.pk] if who == "as_admin" else [campaign.pk]
    assert ids == expected


def test_an_outsider_sees_no_campaign_of_an_application_it_is_not_granted(
    as_outsider, campaign, other_campaign
):
    response = as_outsider.get(LIST)

    assert [row["id"] for row in response.json()["results"]] == [other_campaign.pk]
    assert error_of(as_outsider.get(detail(campaign)))["code"] == "not_found"
    assert as_outsider.get(detail(campaign)).status_code == 404
    assert as_outsider.get(action(campaign, "stats")).status_code == 404


def test_a_user_without_a_role_is_refused(no_role, campaign):
    response = token_client(no_role).get(LIST)

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_anonymous_is_asked_to_authenticate(anonymous, campaign):
    response = anonymous.get(LIST)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


def test_the_list_filters_by_state_channel_application_and_name(
    as_admin, application, other_application
):
    spring = sms_campaign(application, name="Spring sale")
    winter = sms_campaign(application, name="Winter sale", state=CampaignState.DONE)
    beta = sms_campaign(other_application, name="Spring in Beta")

    def ids(**query):
        response = as_admin.get(LIST, query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(state="done") == {winter.pk}
    assert ids(channel="sms") == {spring.pk, winter.pk, beta.pk}
    assert ids(channel="email") == set()
    assert ids(application=other_application.pk) == {beta.pk}
    assert ids(search="spring") == {spring.pk, beta.pk}
    assert ids(search="", state="", channel="") == {spring.pk, winter.pk, beta.pk}


def test_a_bad_filter_answers_400_with_the_field(as_viewer, campaign):
    response = as_viewer.get(LIST, {"state": "nonsense", "application": "x"})

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"state", "application"}


def test_the_list_filters_by_creation_day(as_viewer, application):
    today = timezone.localdate()
    old = sms_campaign(application, name="Old")
    Campaign.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = sms_campaign(application, name="New")

    def ids(**query):
        response = as_viewer.get(LIST, query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(created_from=today.isoformat()) == {new.pk}
    assert ids(created_to=(today - timedelta(days=5)).isoformat()) == {old.pk}
    assert ids(created_from="2000-01-01", created_to="2999-12-31") == {old.pk, new.pk}


@pytest.mark.parametrize(
    "query",
    [
        {"created_from": "0001-01-01"},
        {"created_to": "0001-01-01"},
        {"created_from": "9999-12-31"},
        {"created_to": "9999-12-31"},
        {"created_from": "not a date"},
        {"created_from": "2026-02-02", "created_to": "2026-02-01"},
    ],
)
def test_a_creation_day_beyond_what_can_be_filtered_answers_400(as_viewer, campaign, query):
    response = as_viewer.get(LIST, query)

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {list(query)[-1]}


def test_the_detail_shows_content_progress_and_counts(as_viewer, campaign):
    response = as_viewer.get(detail(campaign))

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Spring sale"
    assert body["application_name"] == "Alpha"
    assert body["counts"]["draft"] == 3
    assert body["progress"] == {"total": 3, "past_submission": 0, "delivered": 0, "failed": 0}


def test_stats_come_from_the_dashboard_figures(as_viewer, campaign):
    Message.objects.filter(campaign=campaign).update(state=MessageState.DELIVERED)

    response = as_viewer.get(action(campaign, "stats"))

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["delivered"] == 3
    assert body["funnel"]["delivered"] == 3
    assert body["delivery_rate"] == 1.0
    assert body["latency_p50_s"] is None
    assert {"by_network", "failure_reasons", "latency", "per_hour"} <= set(body)


# --- creating ----------------------------------------------------------------------------------


def test_a_composer_creates_an_sms_campaign_with_recipients_and_sees_the_rejects(
    as_composer, composer, application
):
    recipients = ["0821234567", "not a number", "+27821234567", "27000000001"]

    response = as_composer.post(LIST, sms(application, recipients=recipients), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.state == CampaignState.DRAFT
    assert campaign.created_by == composer
    assert sorted(campaign.messages.values_list("recipient", flat=True)) == [
        "27000000001",
        "27821234567",
    ]
    imported = body["recipients_import"]
    assert imported["added"] == 2
    assert imported["duplicates"] == 1
    assert [(row["line"], row["value"]) for row in imported["rejected"]] == [(2, "not a number")]


def test_an_email_campaign_needs_a_subject_and_a_body(as_composer, application):
    response = as_composer.post(
        LIST,
        {"name": "Mail", "channel": "email", "application": application.pk},
        format="json",
    )

    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert {"subject", "body_html", "body_text"} <= set(fields)


@pytest.mark.parametrize("breaker", ["\r\n", "\x0b", "\x85", "\u2028"])
@pytest.mark.parametrize(
    ("channel", "field", "value"),
    [
        ("email", "subject", "s{}Bcc: x@y.z"),
        ("email", "from_name", "Shop{}Bcc: x@y.z"),
        ("email", "reply_to", '"a{}b"@example.com'),
        ("mms", "subject", "s{}X-Evil: 1"),
    ],
)
def test_a_campaign_refuses_header_injection_naming_the_field(
    as_composer, application, channel, field, value, breaker
):
    body = {
        "name": "Mail",
        "channel": channel,
        "application": application.pk,
        "subject": "Hi",
        **({"body_text": "Hello"} if channel == "email" else {"slides": [{"text": "Hi"}]}),
        field: value.format(breaker),
    }

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 400, response.json()
    assert (
        "Line breaks and control characters are not allowed." in error_of(response)["fields"][field]
    )
    assert not Campaign.objects.exists()


def test_a_video_network_is_checked(as_composer, application):
    body = {
        "name": "Video",
        "channel": "video",
        "application": application.pk,
        "template_id": 12,
        "template_data": {},
        "network": "bad network!",
    }

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["network"]


def test_a_video_campaign_takes_template_data_as_an_object(as_composer, application):
    body = {
        "name": "Video",
        "channel": "video",
        "application": application.pk,
        "template_id": 12,
        "template_data": {"name": "Thandi", "items": [1, 2]},
        "network": "*",
    }

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign.template_data == {"name": "Thandi", "items": [1, 2]}
    assert campaign.network == ""


def test_an_mms_campaign_takes_text_slides(as_composer, application):
    body = {
        "name": "MMS",
        "channel": "mms",
        "application": application.pk,
        "subject": "Hi",
        "slides": [{"text": "One", "duration": 3}, {"text": "Two"}],
    }

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 201, response.json()
    slides = Slide.objects.filter(campaign_id=response.json()["id"]).order_by("position")
    assert [(s.text, s.duration) for s in slides] == [("One", 3), ("Two", 5)]
    assert [s["text"] for s in response.json()["slides"]] == ["One", "Two"]


@pytest.mark.parametrize(
    ("change", "bad_field"),
    [
        ({"name": ""}, "name"),
        ({"channel": "fax"}, "channel"),
        ({"application": "one"}, "application"),
        ({"body_text": ""}, "body_text"),
        ({"reply_to": "not-an-email"}, "reply_to"),
        ({"template_id": 2**40}, "template_id"),
        ({"template_data": ["not", "an", "object"]}, "template_data"),
        ({"template_data": {"nul": "a\x00b"}}, "template_data"),
        ({"name": "a\x00b"}, "name"),
        ({"recipients": "0821234567"}, "recipients"),
        ({"recipients": ["0821234567\n0821234568"]}, "recipients.0"),
        ({"slides": [{"text": "x"}]}, "slides"),
        ({"submit_not_after": "2001-01-01T00:00:00Z"}, "submit_not_after"),
        ({"network": "any"}, "network"),
        ({"subject": "SMS has none"}, "subject"),
    ],
)
def test_bad_campaign_input_answers_400_naming_the_field(
    as_composer, application, change, bad_field
):
    response = as_composer.post(LIST, sms(application, **change), format="json")

    assert response.status_code == 400, response.json()
    error = error_of(response)
    assert error["code"] == "invalid"
    assert bad_field in error["fields"], error
    assert not Campaign.objects.exists()


def test_a_campaign_cannot_name_an_application_it_is_not_granted(as_composer, other_application):
    response = as_composer.post(LIST, sms(other_application), format="json")

    assert response.status_code == 400
    assert "application" in error_of(response)["fields"]
    assert not Campaign.objects.exists()


def test_a_viewer_cannot_create(as_viewer, application):
    response = as_viewer.post(LIST, sms(application), format="json")

    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_recipients_are_added_to_a_draft_and_refused_once_it_is_launched(as_composer, campaign):
    url = action(campaign, "recipients")

    added = as_composer.post(url, {"recipients": ["0821111111", "12345"]}, format="json")
    campaign.state = CampaignState.SENDING
    campaign.save()
    refused = as_composer.post(url, {"recipients": ["0822222222"]}, format="json")

    assert added.status_code == 200, added.json()
    assert added.json()["added"] == 1
    assert added.json()["rejected"][0]["line"] == 2
    assert refused.status_code == 409
    assert "Sending" in error_of(refused)["message"]


def test_an_opted_out_recipient_is_rejected_with_its_line_and_reason(as_composer, campaign):
    opt_out_record(application=campaign.application, recipient="27821111111", source="manual")

    response = as_composer.post(
        action(campaign, "recipients"), {"recipients": ["0822222222", "0821111111"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["added"], body["rejected_total"]) == (1, 1)
    [rejected] = body["rejected"]
    assert (rejected["line"], rejected["value"]) == (2, "27821111111")
    assert rejected["reason"].startswith("opted out on ")
    assert rejected["reason"].endswith("(Added by staff)")


# --- recipients with fields ---------------------------------------------------------------------


def test_recipients_may_carry_their_fields_as_objects(as_composer, application):
    recipients = [
        "0821234567",
        {"recipient": "0831234567", "fields": {"first_name": " Thandi ", "amount": "1 234.50"}},
        {"recipient": "0841234567", "fields": {"first_name": ""}},
        {"recipient": "0851234567"},
    ]
    body = sms(application, body_text="Hi {{ first_name }}", recipients=recipients)

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert dict(campaign.messages.values_list("recipient", "fields")) == {
        "27821234567": None,
        "27831234567": {"first_name": "Thandi", "amount": "1 234.50"},
        "27841234567": None,
        "27851234567": None,
    }
    imported = response.json()["recipients_import"]
    assert imported["missing_fields"] == [
        {"field": "first_name", "count": 3, "first": ["27821234567", "27841234567", "27851234567"]}
    ]
    assert imported["warnings"] == [
        "{{ first_name }} has no fallback and 3 recipients have no first_name: 27821234567, "
        "27841234567, 27851234567."
    ]


def test_recipients_with_fields_are_added_to_a_draft(as_composer, campaign):
    response = as_composer.post(
        action(campaign, "recipients"),
        {"recipients": [{"recipient": "0821111111", "fields": {"code": "A1"}}, "12345"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["added"] == 1
    assert response.json()["rejected"][0]["line"] == 2
    assert response.json()["warnings"] == []
    assert campaign.messages.get(recipient="27821111111").fields == {"code": "A1"}


@pytest.mark.parametrize(
    ("recipient", "bad_field", "words"),
    [
        (42, "recipients.0", "A string, or an object"),
        ({"fields": {}}, "recipients.0.recipient", "A string is required."),
        ({"recipient": "0821234567", "extra": 1}, "recipients.0", "A string, or an object"),
        ({"recipient": "0821234567", "fields": []}, "recipients.0.fields", "An object"),
        (
            {"recipient": "0821234567", "fields": {"First Name": "x"}},
            "recipients.0.fields",
            "“First Name” is not a field name",
        ),
        (
            {"recipient": "0821234567", "fields": {"recipient": "x"}},
            "recipients.0.fields",
            "is a built-in placeholder",
        ),
        (
            {"recipient": "0821234567", "fields": {f"f{n}": "x" for n in range(51)}},
            "recipients.0.fields",
            "at most 50",
        ),
        (
            {"recipient": "0821234567", "fields": {"amount": 12}},
            "recipients.0.fields.amount",
            "A string is required.",
        ),
        (
            {"recipient": "0821234567", "fields": {"note": "x" * 1001}},
            "recipients.0.fields.note",
            "At most 1,000 characters.",
        ),
        (
            {"recipient": "0821234567\n0821234568"},
            "recipients.0.recipient",
            "One recipient per item",
        ),
    ],
)
def test_a_bad_recipient_object_answers_400_naming_the_problem(
    as_composer, application, recipient, bad_field, words
):
    response = as_composer.post(LIST, sms(application, recipients=[recipient]), format="json")

    assert response.status_code == 400, response.json()
    fields = error_of(response)["fields"]
    assert bad_field in fields, fields
    assert words in " ".join(fields[bad_field])
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("content", "bad_field"),
    [
        ({"body_text": "Hi\n{{ name.upper }}"}, "body_text"),
        ({"body_text": "{% include 'x.html' %}"}, "body_text"),
    ],
)
def test_content_whose_placeholders_do_not_compile_answers_400_naming_field_and_line(
    as_composer, application, content, bad_field
):
    response = as_composer.post(LIST, sms(application, **content), format="json")

    assert response.status_code == 400, response.json()
    assert error_of(response)["fields"][bad_field][0].startswith("Line ")
    assert not Campaign.objects.exists()


def test_a_slides_bad_placeholder_answers_400_naming_the_slide(as_composer, application):
    body = {
        "name": "MMS",
        "channel": "mms",
        "application": application.pk,
        "subject": "Hi {{ name }}",
        "slides": [{"text": "fine {{ name }}"}, {"text": "a\nb {{ name|lower }}"}],
    }

    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"]["slides.1.text"][0].startswith("Line 2: {{ name|lower }}")


def test_a_launch_with_recipients_missing_a_field_answers_409_and_queues_nothing(
    as_composer, application
):
    campaign = sms_campaign(application, recipients=0, body_text="Dear {{ name }}")
    campaign.messages.create(recipient="27821000001", fields={"name": "Ann"})
    campaign.messages.create(recipient="27821000002")

    response = as_composer.post(action(campaign, "launch"))

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert (
        "{{ name }} has no fallback and 1 recipient has no name: 27821000002" in (error["message"])
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert not campaign.messages.exclude(state=MessageState.DRAFT).exists()


# --- launching and controlling ------------------------------------------------------------------


def test_a_composer_launches_pauses_resumes_and_cancels(as_composer, campaign):
    launched = as_composer.post(action(campaign, "launch"), {}, format="json")
    paused = as_composer.post(action(campaign, "pause"), {"reason": "lunch"}, format="json")
    resumed = as_composer.post(action(campaign, "resume"))
    cancelled = as_composer.post(action(campaign, "cancel"))

    assert [r.status_code for r in (launched, paused, resumed, cancelled)] == [200] * 4
    assert launched.json()["state"] == "sending"
    assert launched.json()["counts"]["queued"] == 3
    assert paused.json()["paused_reason"] == "lunch"
    assert resumed.json()["state"] == "sending"
    assert cancelled.json()["state"] == "cancelled"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-4:] == [
        AuditAction.CAMPAIGN_LAUNCH,
        AuditAction.CAMPAIGN_PAUSE,
        AuditAction.CAMPAIGN_RESUME,
        AuditAction.CAMPAIGN_CANCEL,
    ]


# Committed for real: the hint to the workers is sent only when the launch commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.serial
def test_a_launch_while_redis_is_down_answers_normally(as_composer, campaign, settings):
    with redis_down(settings.REDIS_URL):
        launched = as_composer.post(action(campaign, "launch"), {}, format="json")

    assert launched.status_code == 200, launched.content
    assert launched.json()["state"] == "sending"
    assert launched.json()["counts"]["queued"] == 3


def test_a_launch_can_be_scheduled_with_a_canary(as_composer, campaign):
    at = timezone.now() + timedelta(hours=2)

    response = as_composer.post(
        action(campaign, "launch"),
        {"at": at.isoformat(), "canary_size": 1, "canary_min_success": 0.5},
        format="json",
    )

    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED
    assert campaign.launch_at == at
    assert (campaign.canary_size, campaign.canary_min_success) == (1, 0.5)


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"at": "2001-01-01T00:00:00Z"}, "at"),
        ({"at": "tomorrow"}, "at"),
        ({"canary_size": 0}, "canary_size"),
        ({"canary_min_success": 1.5}, "canary_min_success"),
        ({"canary_min_success": 0}, "canary_min_success"),
    ],
)
def test_bad_launch_input_answers_400(as_composer, campaign, body, bad_field):
    response = as_composer.post(action(campaign, "launch"), body, format="json")

    assert response.status_code == 400
    assert bad_field in error_of(response)["fields"]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_a_refused_action_answers_409_with_the_services_reason(as_composer, application):
    empty = sms_campaign(application, recipients=0)

    launch = as_composer.post(action(empty, "launch"))
    pause = as_composer.post(action(empty, "pause"))
    resume = as_composer.post(action(empty, "resume"))
    retry = as_composer.post(action(empty, "retry-failed"))

    assert launch.status_code == pause.status_code == resume.status_code == retry.status_code == 409
    assert error_of(launch) == {
        "code": "conflict",
        "message": "The campaign has no recipients yet.",
    }
    assert error_of(pause)["message"] == "Only a sending campaign can be paused."
    assert error_of(resume)["message"] == "Only a paused campaign can be resumed."
    assert error_of(retry)["message"] == "A draft campaign cannot retry messages."


def test_retry_failed_requeues_the_retryable_failures(as_composer, campaign):
    campaign.state = CampaignState.DONE
    campaign.save()
    campaign.messages.update(state=MessageState.FAILED, error_retryable=True)

    response = as_composer.post(action(campaign, "retry-failed"))

    assert response.status_code == 200, response.json()
    assert response.json()["requeued"] == 3
    assert response.json()["campaign"]["state"] == "sending"


@pytest.mark.parametrize("name", ["launch", "pause", "resume", "cancel", "retry-failed"])
def test_a_viewer_may_not_act(as_viewer, campaign, name):
    response = as_viewer.post(action(campaign, name))

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


@pytest.mark.parametrize("name", ["launch", "pause", "resume", "cancel", "retry-failed"])
def test_an_outsider_gets_404_for_an_ungranted_campaign(as_outsider, campaign, name):
    response = as_outsider.post(action(campaign, name))

    assert response.status_code == 404
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_actions_answer_405_to_get(as_composer, campaign):
    response = as_composer.get(action(campaign, "launch"))

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# --- campaign tools: clone, remove a recipient, the estimate, the handset check ------------------


def test_the_detail_says_what_a_launch_would_send(as_composer, campaign):
    campaign.body_text = "x" * 161
    campaign.save()

    estimate = as_composer.get(detail(campaign)).json()["estimate"]

    assert estimate == {
        "messages": 3,
        "unit": "SMS",
        "sms_total": 6,
        "sms_fewest": 2,
        "sms_most": 2,
    }


def test_a_composer_clones_a_campaign_without_its_recipients(as_composer, composer, campaign):
    response = as_composer.post(action(campaign, "clone"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["state"], body["body_text"]) == (
        "Spring sale (copy)",
        "draft",
        campaign.body_text,
    )
    assert body["estimate"]["messages"] == 0
    assert Campaign.objects.get(pk=body["id"]).messages.count() == 0
    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_CLONE)
    assert (entry.actor, entry.detail) == (composer, {"cloned_from": campaign.pk})


def test_single_sends_are_not_cloned_answering_409(as_composer, campaign):
    campaign.is_single_sends = True
    campaign.save()

    response = as_composer.post(action(campaign, "clone"))

    assert response.status_code == 409
    assert "Single sends" in error_of(response)["message"]


def test_a_recipient_is_removed_from_a_draft_as_typed(as_composer, campaign):
    response = as_composer.delete(f"{action(campaign, 'recipients')}0820000001/")

    assert response.status_code == 204
    assert sorted(campaign.messages.values_list("recipient", flat=True)) == [
        "27820000000",
        "27820000002",
    ]
    assert AuditEntry.objects.filter(action=AuditAction.CAMPAIGN_RECIPIENT_REMOVE).count() == 1


def test_removing_a_recipient_who_is_not_there_answers_404(as_composer, campaign):
    response = as_composer.delete(f"{action(campaign, 'recipients')}0829999999/")

    assert response.status_code == 404
    assert campaign.messages.count() == 3


def test_removing_a_recipient_once_launched_answers_409_with_the_reason(as_composer, campaign):
    campaign.state = CampaignState.SENDING
    campaign.save()

    response = as_composer.delete(f"{action(campaign, 'recipients')}27820000001/")

    assert response.status_code == 409
    assert "campaign that is sending" in error_of(response)["message"]
    assert campaign.messages.count() == 3


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("post", "clone"),
        ("delete", "recipients/27820000001"),
        ("post", "handsets"),
        ("post", "drop-no-mms"),
    ],
)
def test_a_viewer_may_not_use_the_campaign_tools(as_viewer, campaign, method, name):
    response = getattr(as_viewer, method)(action(campaign, name))

    assert response.status_code == 403
    assert Campaign.objects.count() == 1 and campaign.messages.count() == 3


@pytest.mark.parametrize(
    ("method", "name"),
    [("post", "clone"), ("delete", "recipients/27820000001"), ("post", "drop-no-mms")],
)
def test_the_campaign_tools_answer_404_for_an_ungranted_campaign(
    as_outsider, campaign, method, name
):
    response = getattr(as_outsider, method)(action(campaign, name))

    assert response.status_code == 404
    assert Campaign.objects.count() == 1 and campaign.messages.count() == 3


def test_handsets_are_checked_and_those_without_mms_dropped(as_admin, sandbox):
    application = make_sandbox_application(sandbox, APP_A)
    campaign = make_campaign(Channel.MMS, application=application)
    for recipient in ("27831234567", "27000000002", "27000000003"):
        campaign.messages.create(recipient=recipient)
    assert as_admin.get(action(campaign, "handsets")).status_code == 404

    checked = as_admin.post(action(campaign, "handsets"))
    read = as_admin.get(action(campaign, "handsets"))
    dropped = as_admin.post(action(campaign, "drop-no-mms"))

    assert checked.status_code == 200, checked.json()
    assert checked.json() | {"started_at": None, "finished_at": None} == {
        "state": "done",
        "total": 3,
        "answered": 3,
        "no_mms": 2,
        "not_capable": 1,
        "not_provisioned": 0,
        "unknown": 1,
        "not_checked": 0,
        "error": "",
        "started_at": None,
        "finished_at": None,
    }
    assert read.json()["no_mms"] == 2
    assert dropped.status_code == 200
    assert dropped.json()["dropped"] == 2
    assert dropped.json()["campaign"]["estimate"]["messages"] == 1


def test_an_sms_campaigns_handsets_are_not_checked_answering_409(as_composer, campaign):
    response = as_composer.post(action(campaign, "handsets"))

    assert response.status_code == 409
    assert "Only MMS and video" in error_of(response)["message"]
