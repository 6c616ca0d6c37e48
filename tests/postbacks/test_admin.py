"""The postback admin: read-only inbox and events, quarantined and suspicious rows easy to
find, bodies shown escaped, and late postbacks counted per campaign."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from access.models import ApplicationGrant
from postbacks.models import EventSource, InboxState, MessageEvent, PostbackInbox

pytestmark = pytest.mark.django_db

INBOX_LIST = "admin:postbacks_postbackinbox_changelist"
EVENT_LIST = "admin:postbacks_messageevent_changelist"


def make_staff(username, *, perms=()):
    user = get_user_model().objects.create_user(username, password="x", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def rows(message):
    return {
        "quarantined": PostbackInbox.objects.create(
            message=message,
            body=b'<script>alert("x")</script>',
            state=InboxState.QUARANTINED,
            reason="body is not JSON",
        ),
        "suspicious": PostbackInbox.objects.create(
            message=message,
            body=b'{"message_id": "OTHER"}',
            state=InboxState.SUSPICIOUS,
            reason="names MessageID OTHER",
        ),
        "applied": PostbackInbox.objects.create(
            message=message, body=b"{}", state=InboxState.APPLIED
        ),
    }


def test_a_superuser_sees_quarantined_postbacks_and_can_filter_them(superuser_client, rows):
    url = reverse(INBOX_LIST)
    everything = superuser_client.get(url)
    quarantined = superuser_client.get(url, {"state__exact": InboxState.QUARANTINED})
    suspicious = superuser_client.get(url, {"state__exact": InboxState.SUSPICIOUS})

    assert everything.status_code == 200
    assert set(everything.context["cl"].result_list) == set(rows.values())
    assert list(quarantined.context["cl"].result_list) == [rows["quarantined"]]
    assert list(suspicious.context["cl"].result_list) == [rows["suspicious"]]
    assert b"body is not JSON" in quarantined.content


def test_the_inbox_can_be_filtered_by_kind(superuser_client, rows):
    response = superuser_client.get(reverse(INBOX_LIST), {"kind__exact": "reply"})
    assert list(response.context["cl"].result_list) == []


def test_the_body_is_shown_escaped(superuser_client, rows):
    url = reverse("admin:postbacks_postbackinbox_change", args=[rows["quarantined"].pk])
    response = superuser_client.get(url)

    assert response.status_code == 200
    assert b'<script>alert("x")</script>' not in response.content
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.content


def test_a_long_body_is_truncated_for_display(superuser_client, message):
    inbox = PostbackInbox.objects.create(message=message, body=b"a" * 10_000)
    response = superuser_client.get(
        reverse("admin:postbacks_postbackinbox_change", args=[inbox.pk])
    )
    assert b"a" * 4000 in response.content
    assert b"a" * 4001 not in response.content
    assert b"6000 more characters" in response.content


def test_inbox_rows_cannot_be_added_or_changed(superuser_client, rows):
    row = rows["quarantined"]
    add = superuser_client.get(reverse("admin:postbacks_postbackinbox_add"))
    change = superuser_client.post(
        reverse("admin:postbacks_postbackinbox_change", args=[row.pk]),
        {"state": InboxState.APPLIED, "reason": ""},
    )

    assert add.status_code == 403
    assert change.status_code == 403
    row.refresh_from_db()
    assert row.state == InboxState.QUARANTINED


def test_only_a_superuser_may_delete_an_inbox_row(client, rows):
    row = rows["applied"]
    url = reverse("admin:postbacks_postbackinbox_delete", args=[row.pk])
    perms = ("view_postbackinbox", "delete_postbackinbox")
    client.force_login(make_staff("staff", perms=perms))

    assert client.get(reverse(INBOX_LIST)).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert PostbackInbox.objects.filter(pk=row.pk).exists()


def test_staff_without_permission_cannot_see_the_inbox(client, rows):
    client.force_login(make_staff("nobody"))
    assert client.get(reverse(INBOX_LIST)).status_code == 403


def test_events_are_read_only_and_filterable_by_source_and_lateness(superuser_client, message):
    now = timezone.now()
    late = MessageEvent.objects.create(
        message=message,
        stage="sent",
        code=1,
        stage_at=now,
        source=EventSource.POSTBACK,
        late_by_s=300,
    )
    polled = MessageEvent.objects.create(
        message=message, stage="delivered", code=1, stage_at=now, source=EventSource.POLL
    )
    url = reverse(EVENT_LIST)

    assert set(superuser_client.get(url).context["cl"].result_list) == {late, polled}
    assert list(superuser_client.get(url, {"late": "yes"}).context["cl"].result_list) == [late]
    by_source = superuser_client.get(url, {"source__exact": EventSource.POLL})
    assert list(by_source.context["cl"].result_list) == [polled]
    assert superuser_client.get(reverse("admin:postbacks_messageevent_add")).status_code == 403
    change = reverse("admin:postbacks_messageevent_change", args=[late.pk])
    assert superuser_client.post(change, {"late_by_s": "0"}).status_code == 403
    delete = reverse("admin:postbacks_messageevent_delete", args=[late.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403


def test_the_event_list_of_a_campaign_shows_its_late_postbacks(superuser_client, message):
    now = timezone.now()
    MessageEvent.objects.create(
        message=message,
        stage="sent",
        code=1,
        stage_at=now,
        source=EventSource.POSTBACK,
        late_by_s=300,
    )
    response = superuser_client.get(reverse(EVENT_LIST), {"message__campaign": message.campaign_id})

    assert response.status_code == 200
    assert response.context["late_postbacks"] == 1
    assert b"1 postback came later than" in response.content


def test_the_event_list_tells_nothing_of_a_campaign_the_user_is_not_granted(client, message):
    from tests.support.applications import make_application

    MessageEvent.objects.create(
        message=message,
        stage="sent",
        code=1,
        stage_at=timezone.now(),
        source=EventSource.POSTBACK,
        late_by_s=300,
    )
    user = make_staff("ann", perms=["view_messageevent"])
    ApplicationGrant.objects.create(user=user, application=make_application("Ours"))
    client.force_login(user)
    event = MessageEvent.objects.get()

    listing = client.get(reverse(EVENT_LIST), {"message__campaign": message.campaign_id})
    counted = client.get(reverse(EVENT_LIST), {"_facets": "1", "late": "yes"})
    page = client.get(reverse("admin:postbacks_messageevent_change", args=[event.pk]), follow=True)

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    assert "late_postbacks" not in listing.context
    assert list(counted.context["cl"].result_list) == []
    for response in (listing, counted, page):
        html = response.content.decode()
        assert "Spring sale" not in html and "later than" not in html
        assert message.recipient not in html


@pytest.mark.parametrize("campaign", ["²", "1234567890123456789012345", "-1", "x"])
def test_an_odd_campaign_in_the_event_list_link_is_no_error(superuser_client, campaign):
    response = superuser_client.get(reverse(EVENT_LIST), {"message__campaign": campaign})

    assert response.status_code < 500
