"""The admin: tokens are write-only, campaigns link out to the compose pages, messages and
opt-outs are read-only."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from access.models import ApplicationGrant
from audit.models import AuditAction, AuditEntry
from messaging.models import Application, CampaignState, MessageState, OptOut
from tests.messaging.compose_helpers import TOKEN, make_application, make_campaign, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _iliveit_hosts(settings):
    settings.ILIVEIT_ENDPOINT_HOSTS = ["api.example.com", "127.0.0.1"]


def _application_data(**overrides):
    return {
        "name": "App A",
        "environment": "staging",
        "endpoint": "https://api.example.com",
        "mvno_id": "101",
        "rate_limit": "20",
        "new_token": "",
        **overrides,
    }


def _pages_about(client, application: Application) -> dict[str, str]:
    urls = {
        "list": reverse("admin:messaging_application_changelist"),
        "change": reverse("admin:messaging_application_change", args=[application.pk]),
        "history": reverse("admin:messaging_application_history", args=[application.pk]),
        "delete": reverse("admin:messaging_application_delete", args=[application.pk]),
        "search": reverse("admin:messaging_application_changelist") + "?q=App",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        pages[name] = response.content.decode()
    return pages


def test_the_token_is_never_shown_in_full(superuser_client):
    application = make_application(token=TOKEN)
    for name, html in _pages_about(superuser_client, application).items():
        assert TOKEN not in html, name
        assert TOKEN[:-4] not in html, name
    pages = _pages_about(superuser_client, application)
    assert application.token_hint in pages["list"]
    assert application.token_hint in pages["change"]


def test_the_new_token_input_is_write_only(superuser_client):
    application = make_application()
    html = superuser_client.get(
        reverse("admin:messaging_application_change", args=[application.pk])
    ).content.decode()
    assert '<input type="password" name="new_token"' in html
    assert 'name="token"' not in html


def test_a_token_is_required_when_adding_an_application(superuser_client):
    url = reverse("admin:messaging_application_add")
    response = superuser_client.post(url, _application_data())
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_token"] == ["This field is required."]
    assert not Application.objects.exists()

    response = superuser_client.post(url, _application_data(new_token="first-token-123456"))
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.token == "first-token-123456"
    assert application.token_rotated_at is None


def test_filling_in_a_new_token_rotates_it(superuser_client):
    application = make_application()
    url = reverse("admin:messaging_application_change", args=[application.pk])
    response = superuser_client.post(url, _application_data(new_token="  rotated-token-987654  "))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.token == "rotated-token-987654"
    assert application.token_rotated_at is not None
    # The change log names the field, never the value.
    entry = LogEntry.objects.get(object_id=str(application.pk))
    assert "rotated-token" not in entry.change_message
    assert "New token" in entry.get_change_message()


def test_leaving_the_new_token_empty_keeps_the_old_one(superuser_client):
    application = make_application()
    url = reverse("admin:messaging_application_change", args=[application.pk])
    response = superuser_client.post(url, _application_data(rate_limit="99"))
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.token, application.rate_limit) == (TOKEN, 99)
    assert application.token_rotated_at is None


def test_a_token_with_spaces_is_refused(superuser_client):
    application = make_application()
    url = reverse("admin:messaging_application_change", args=[application.pk])
    response = superuser_client.post(url, _application_data(new_token="two words"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_token"] == [
        "A token has no spaces or line breaks."
    ]
    application.refresh_from_db()
    assert application.token == TOKEN


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://127.0.0.1:9999/internal#", "must not have a query (?) or a fragment (#)"),
        ("https://api.example.com/?next=/", "must not have a query (?) or a fragment (#)"),
        ("https://evil.example", "must be on an iLiveIt host (api.example.com, 127.0.0.1)"),
        ("http://api.example.com", "must use https"),
        ("https://me:pw@api.example.com", "must not carry a user name or password"),
    ],
)
def test_an_endpoint_that_would_leak_the_token_is_refused(superuser_client, endpoint, reason):
    application = make_application()
    url = reverse("admin:messaging_application_change", args=[application.pk])

    response = superuser_client.post(url, _application_data(endpoint=endpoint))

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["endpoint"]
    assert reason in error
    application.refresh_from_db()
    assert application.endpoint == "http://127.0.0.1:8765"


def test_a_new_application_needs_an_allowed_endpoint_too(superuser_client):
    url = reverse("admin:messaging_application_add")
    data = _application_data(new_token="first-token-123456")

    assert (
        superuser_client.post(url, {**data, "endpoint": "https://evil.example"}).status_code == 200
    )
    assert not Application.objects.exists()
    assert superuser_client.post(url, {**data, "endpoint": "api.example.com/v1"}).status_code == 302
    assert Application.objects.get().endpoint == "https://api.example.com/v1"


def _audit_log_text() -> str:
    return str(list(AuditEntry.objects.values_list("target_label", "detail")))


def test_creating_an_application_is_audited_without_its_token(superuser_client):
    url = reverse("admin:messaging_application_add")
    assert (
        superuser_client.post(url, _application_data(new_token="first-token-123456")).status_code
        == 302
    )

    created = AuditEntry.objects.get(action=AuditAction.APPLICATION_CREATE)
    assert created.actor_name == "boss"
    assert created.detail == {
        "name": "App A",
        "environment": "staging",
        "endpoint": "https://api.example.com",
        "mvno_id": 101,
        "rate_limit": 20,
        "token_hint": "…3456",
    }
    assert "first-token" not in _audit_log_text()


def test_each_change_to_an_application_is_audited_from_old_to_new(superuser_client):
    application = make_application()
    url = reverse("admin:messaging_application_change", args=[application.pk])
    data = _application_data(
        environment="production",
        endpoint="https://api.example.com/v1",
        mvno_id="202",
        rate_limit="5",
        new_token="rotated-token-987654",
    )

    assert superuser_client.post(url, data).status_code == 302

    changed = AuditEntry.objects.get(action=AuditAction.APPLICATION_CHANGE)
    assert changed.actor_name == "boss"
    assert changed.detail == {
        "environment": {"old": "staging", "new": "production"},
        "endpoint": {"old": "http://127.0.0.1:8765", "new": "https://api.example.com/v1"},
        "mvno_id": {"old": 101, "new": 202},
        "rate_limit": {"old": 50, "new": 5},
    }
    token = AuditEntry.objects.get(action=AuditAction.APPLICATION_TOKEN)
    assert token.detail == {"token_hint": "…7654", "first": False}
    assert TOKEN not in _audit_log_text()
    assert "rotated-token" not in _audit_log_text()

    # Saving it again unchanged records nothing.
    assert superuser_client.post(url, {**data, "new_token": ""}).status_code == 302
    assert AuditEntry.objects.count() == 2


def test_the_campaign_list_links_to_the_compose_pages(superuser_client):
    draft = make_campaign("sms", name="Draft one")
    sending = make_campaign(
        "sms", name="Busy one", state=CampaignState.SENDING, application=draft.application
    )
    response = superuser_client.get(reverse("admin:messaging_campaign_changelist"))
    html = response.content.decode()
    assert reverse("messaging:campaign_edit", args=[draft.pk]) in html
    assert reverse("messaging:campaign_recipients", args=[draft.pk]) in html
    assert reverse("messaging:campaign_detail", args=[sending.pk]) in html
    assert reverse("messaging:campaign_edit", args=[sending.pk]) not in html


def test_campaigns_are_read_only_in_the_admin(superuser_client):
    campaign = make_campaign("sms")
    assert superuser_client.get(reverse("admin:messaging_campaign_add")).status_code == 403
    page = superuser_client.get(reverse("admin:messaging_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    assert 'name="body_text"' not in page.content.decode()
    assert reverse("messaging:campaign_edit", args=[campaign.pk]) in page.content.decode()
    response = superuser_client.post(
        reverse("admin:messaging_campaign_change", args=[campaign.pk]), {"name": "Renamed"}
    )
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "A sms campaign"


def test_only_a_draft_campaign_can_be_deleted(superuser_client):
    sending = make_campaign("sms", state=CampaignState.SENDING)
    draft = make_campaign("sms", application=sending.application)
    assert (
        superuser_client.get(
            reverse("admin:messaging_campaign_delete", args=[sending.pk])
        ).status_code
        == 403
    )
    assert (
        superuser_client.get(
            reverse("admin:messaging_campaign_delete", args=[draft.pk])
        ).status_code
        == 200
    )


def test_the_campaign_list_filters_and_searches(superuser_client):
    campaign = make_campaign("email", name="Winter promo")
    url = reverse("admin:messaging_campaign_changelist")
    assert "Winter promo" in superuser_client.get(url, {"q": "winter"}).content.decode()
    assert "Winter promo" in superuser_client.get(url, {"channel__exact": "email"}).content.decode()
    assert (
        "Winter promo" not in superuser_client.get(url, {"state__exact": "done"}).content.decode()
    )
    assert campaign.pk


def test_the_campaign_list_filter_offers_only_granted_applications(client, make_staff):
    ours = make_campaign("sms", name="Our campaign").application
    theirs = make_campaign("sms", name="Their campaign", application=make_application("Theirs"))
    client.force_login(make_staff("ann", "Viewer", applications=[ours], is_staff=True))

    response = client.get(reverse("admin:messaging_campaign_changelist"), {"_facets": "1"})

    html = response.content.decode()
    assert response.status_code == 200
    assert str(ours) in html and "Our campaign" in html
    assert "Theirs" not in html and "Their campaign" not in html
    assert f"application__id__exact={theirs.application.pk}" not in html


def test_messages_are_listed_read_only_and_searchable(
    superuser_client, django_assert_max_num_queries
):
    campaign = make_campaign("sms", name="Lots")
    for number in range(5):
        campaign.messages.create(
            recipient=f"2782123456{number}",
            state=MessageState.FAILED,
            iliveit_id=f"id-{number}",
            last_error="boom " * 40,
        )
    url = reverse("admin:messaging_message_changelist")
    # The campaign column costs no query per row.
    with django_assert_max_num_queries(10):
        html = superuser_client.get(url).content.decode()
    assert "27821234563" in html and "Lots" in html and "id-3" in html
    assert "boom boom" in html and "boom " * 40 not in html
    found = superuser_client.get(url, {"q": "id-2"}).content.decode()
    assert "27821234562" in found and "27821234563" not in found
    assert "27821234564" in superuser_client.get(url, {"q": "27821234564"}).content.decode()
    assert "27821234561" in superuser_client.get(url, {"state__exact": "failed"}).content.decode()
    assert superuser_client.get(reverse("admin:messaging_message_add")).status_code == 403
    message = campaign.messages.first()
    change = superuser_client.get(reverse("admin:messaging_message_change", args=[message.pk]))
    assert change.status_code == 200
    assert 'name="recipient"' not in change.content.decode()


def test_the_admin_index_links_to_compose(superuser_client):
    html = superuser_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("messaging:compose_choose")}"' in html
    assert "Compose a campaign" in html


def test_staff_who_cannot_compose_see_no_compose_link(client):
    client.force_login(make_user("viewer", "messaging.view_message"))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Compose a campaign" not in html


def _message_with_replies(tmp_path, settings):
    from django.core.files.base import ContentFile

    from postbacks.models import Reply, ReplyKind

    settings.MEDIA_ROOT = tmp_path
    message = make_campaign("email", name="Replies").messages.create(
        recipient="reader@example.com", state=MessageState.DELIVERED, iliveit_id="id-r"
    )
    Reply.objects.create(
        message=message, kind=ReplyKind.SMS, sender="27820000001", text="STOP", content_hash="a"
    )
    reply = Reply(
        message=message,
        kind=ReplyKind.EMAIL,
        sender="reader@example.com",
        subject="Re: <b>hello</b>",
        text="Thanks!",
        content_hash="b",
    )
    reply.raw_email.save("raw.eml", ContentFile(b"Subject: Re: hello\r\n\r\nThanks!"))
    return message, reply


def test_a_messages_replies_are_shown_read_only_with_the_raw_email(
    superuser_client, tmp_path, settings
):
    message, reply = _message_with_replies(tmp_path, settings)

    html = superuser_client.get(reverse("admin:messaging_message_change", args=[message.pk]))
    html = html.content.decode()

    assert "27820000001" in html and "STOP" in html and "Thanks!" in html
    assert "Re: &lt;b&gt;hello&lt;/b&gt;" in html
    assert 'name="replies-0-text"' not in html
    raw_url = reverse("admin:messaging_message_reply_raw", args=[message.pk, reply.pk])
    assert f'href="{raw_url}"' in html
    response = superuser_client.get(raw_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content) == b"Subject: Re: hello\r\n\r\nThanks!"


def test_the_raw_email_needs_the_right_to_see_replies(client, tmp_path, settings):
    message, reply = _message_with_replies(tmp_path, settings)
    raw_url = reverse("admin:messaging_message_reply_raw", args=[message.pk, reply.pk])

    assert client.get(raw_url).status_code == 302  # to the login page
    client.force_login(make_user("viewer", "messaging.view_message"))
    assert client.get(raw_url).status_code == 404
    other = message.campaign.messages.create(recipient="other@example.com")
    reader = make_user("reader", "messaging.view_message", "postbacks.view_reply")
    client.force_login(reader)
    assert client.get(raw_url).status_code == 404  # not granted the message's application
    ApplicationGrant.objects.create(user=reader, application=message.campaign.application)
    assert client.get(raw_url).status_code == 200
    # A reply is reached only through its own message.
    wrong = reverse("admin:messaging_message_reply_raw", args=[other.pk, reply.pk])
    assert client.get(wrong).status_code == 404


def test_opt_outs_are_listed_read_only_and_only_of_granted_applications(client, make_staff):
    ours = make_application("Ours")
    theirs = make_application("Theirs")
    OptOut.objects.create(application=ours, recipient="27821230001", source="reply")
    OptOut.objects.create(application=theirs, recipient="27821230002", source="reply")
    client.force_login(make_staff("ann", "Viewer", applications=[ours], is_staff=True))
    url = reverse("admin:messaging_optout_changelist")

    response = client.get(url, {"_facets": "1"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "27821230001" in html and "27821230002" not in html
    assert f"application__id__exact={theirs.pk}" not in html
    assert "27821230001" in client.get(url, {"q": "1230001"}).content.decode()
    assert client.get(reverse("admin:messaging_optout_add")).status_code == 403
    entry = OptOut.objects.get(application=ours)
    change = client.get(reverse("admin:messaging_optout_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="recipient"' not in change.content.decode()
    assert client.post(reverse("admin:messaging_optout_delete", args=[entry.pk])).status_code == 403
    other = OptOut.objects.get(application=theirs)
    assert client.get(reverse("admin:messaging_optout_change", args=[other.pk])).status_code in (
        302,
        404,
    )
