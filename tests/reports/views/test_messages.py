"""The message list, the message page, its archived content (from the sandbox over HTTP), a
reply's raw email and the CSV export, through the test client."""

import csv
import io
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from messaging.models import Campaign, Channel, Message, MessageState
from messaging.services import campaign_launch, message_submit
from postbacks.models import EventSource, MessageEvent, Reply, ReplyKind
from tests.messaging.compose_helpers import make_application, make_campaign, make_user
from tests.support.sandbox import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def campaign(application):
    """Without messages: `message` and the tests add the ones they show."""
    return make_campaign("sms", application=application, name="Spring sale")


@pytest.fixture
def message(campaign):
    return campaign.messages.create(
        recipient="27820000001",
        state=MessageState.FAILED,
        network="vodacom",
        iliveit_id="msg-1",
        submit_code=2,
        submit_description="Submitted",
        sent_code=5,
        sent_description="Network rejected",
    )


def _page(response) -> str:
    return response.content.decode()


def _listed(response) -> list[int]:
    return [message.pk for message, _ in response.context["rows"]]


# --- who may see what ----------------------------------------------------------------------------


def _urls(campaign, message, reply) -> list[str]:
    return [
        reverse("reports:message_list", args=[campaign.pk]),
        reverse("reports:message_export", args=[campaign.pk]),
        reverse("reports:message_detail", args=[message.pk]),
        reverse("reports:message_archived", args=[message.pk]),
        reverse("reports:message_reply_raw", args=[message.pk, reply.pk]),
    ]


@pytest.fixture
def reply(message):
    reply = Reply(
        message=message,
        kind=ReplyKind.EMAIL,
        sender="reader@example.com",
        subject="Re: <b>hello</b>",
        text="Thanks <script>alert(1)</script>",
        content_hash="b",
    )
    reply.raw_email.save("raw.eml", ContentFile(b"Subject: Re: hello\r\n\r\nThanks!"))
    return reply


def test_anonymous_visitors_are_sent_to_log_in(client, campaign, message, reply):
    for url in _urls(campaign, message, reply):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_a_viewer_not_granted_the_application_gets_404_everywhere(
    client, make_staff, campaign, message, reply
):
    other = make_application("App B", token="token-b")
    client.force_login(make_staff("stranger", "Viewer", applications=[other]))
    for url in _urls(campaign, message, reply):
        assert client.get(url).status_code == 404, url


def test_a_user_without_a_role_is_refused(client, make_staff, application, campaign, message):
    client.force_login(make_staff("nobody", None, applications=[application]))
    assert client.get(reverse("reports:message_list", args=[campaign.pk])).status_code == 403
    assert client.get(reverse("reports:message_detail", args=[message.pk])).status_code == 403


@pytest.mark.parametrize("role", ["Viewer", "Composer", "Admin"])
def test_each_role_granted_the_application_sees_the_pages(
    client, make_staff, application, campaign, message, role
):
    client.force_login(make_staff("someone", role, applications=[application]))
    assert client.get(reverse("reports:message_list", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("reports:message_detail", args=[message.pk])).status_code == 200
    export = client.get(reverse("reports:message_export", args=[campaign.pk]))
    assert export.status_code == 200


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_each_messages_columns_and_links_to_its_page(
    viewer_client, campaign, message
):
    response = viewer_client.get(reverse("reports:message_list", args=[campaign.pk]))
    html = _page(response)
    assert response.status_code == 200
    assert f'href="{reverse("reports:message_detail", args=[message.pk])}"' in html
    assert "27820000001" in html
    assert 'class="badge state-failed"' in html
    assert "vodacom" in html
    assert "Network rejected" in html  # the latest stage reported
    assert response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "delivered"}, ["delivered"]),
        ({"network": "mtn"}, ["delivered"]),
        ({"failure_code": "5"}, ["failed"]),
        ({"q": "2783"}, ["delivered"]),
    ],
)
def test_each_filter_narrows_the_list(viewer_client, campaign, message, query, expected):
    campaign.messages.create(
        recipient="27830000002", state=MessageState.DELIVERED, network="mtn", delivered_code=5
    )
    response = viewer_client.get(reverse("reports:message_list", args=[campaign.pk]), query)
    assert response.status_code == 200
    assert [m.state for m, _ in response.context["rows"]] == expected


@pytest.mark.parametrize(
    "query",
    [
        {"failure_code": "abc"},
        {"failure_code": "99999"},
        {"state": "exploded"},
        {"after": "-1"},
        {"after": "x"},
        {"before": "0"},
        {"state": "delivered", "failure_code": "5"},
        {"q": "x" * 300},
    ],
)
def test_a_bad_filter_shows_its_error_and_is_left_out(viewer_client, campaign, message, query):
    response = viewer_client.get(reverse("reports:message_list", args=[campaign.pk]), query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="error"' in _page(response)


def test_page_two_starts_after_page_ones_last_id(viewer_client, campaign):
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}", state=MessageState.QUEUED)
        for n in range(60)
    )
    url = reverse("reports:message_list", args=[campaign.pk])
    first = viewer_client.get(url, {"state": "queued"})
    assert len(_listed(first)) == 50
    next_after = first.context["next_after"]
    assert next_after == _listed(first)[-1]
    assert f"state=queued&amp;after={next_after}" in _page(first)
    second = viewer_client.get(url, {"state": "queued", "after": next_after})
    assert len(_listed(second)) == 10
    assert min(_listed(second)) > next_after
    assert not set(_listed(first)) & set(_listed(second))
    assert second.context["next_after"] is None


def test_the_last_page_link_shows_the_last_messages_and_links_back(viewer_client, campaign):
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}", state=MessageState.QUEUED)
        for n in range(120)
    )
    all_ids = list(campaign.messages.order_by("id").values_list("id", flat=True))
    url = reverse("reports:message_list", args=[campaign.pk])
    first = viewer_client.get(url, {"state": "queued"})
    assert 'href="?state=queued&amp;last=1" rel="last"' in _page(first)
    last = viewer_client.get(url, {"state": "queued", "last": "1"})
    assert _listed(last) == all_ids[70:]
    page = _page(last)
    assert 'rel="next"' not in page and 'rel="last"' not in page
    assert f'href="?state=queued&amp;before={all_ids[70]}" rel="prev"' in page
    assert 'href="?state=queued" rel="first"' in page
    previous = viewer_client.get(url, {"state": "queued", "before": all_ids[70]})
    assert _listed(previous) == all_ids[20:70]
    assert f"after={all_ids[69]}" in _page(previous)


# --- the message page ----------------------------------------------------------------------------


def test_the_page_says_when_a_message_was_sent_as_transactional(viewer_client, message):
    url = reverse("reports:message_detail", args=[message.pk])
    assert 'data-flag="transactional"' not in _page(viewer_client.get(url))

    Message.objects.filter(pk=message.pk).update(is_transactional=True)

    assert 'data-flag="transactional"' in _page(viewer_client.get(url))


def test_the_page_shows_every_stage_an_sms_goes_through(viewer_client, message):
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "msg-1" in html
    for stage in ("Archive", "Submit", "Sent", "Delivered"):
        assert f'<th scope="row">{stage}' in html
    # Only a video MMS is built.
    assert '<th scope="row">Build' not in html
    assert "Network rejected" in html
    assert f'href="{reverse("reports:message_archived", args=[message.pk])}"' in html


def test_the_page_counts_the_429s_apart_from_the_attempts(viewer_client, message):
    Message.objects.filter(pk=message.pk).update(attempts=1, rate_limited_count=3)
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "1 · refused for rate (429) 3 times, which do not count as attempts" in html


def test_a_video_message_page_shows_its_build_stage(viewer_client, application):
    video = make_campaign("video", application=application, name="Launch film")
    message = video.messages.create(recipient="27820000001", state=MessageState.QUEUED)

    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))

    assert '<th scope="row">Build' in html


def test_the_timeline_runs_by_stage_time_and_marks_late_events(viewer_client, message):
    now = timezone.now()
    sent = MessageEvent.objects.create(
        message=message,
        stage="sent",
        code=5,
        description="Network rejected",
        stage_at=now - timedelta(minutes=1),
        source=EventSource.POLL,
        late_by_s=125,
    )
    submitted = MessageEvent.objects.create(
        message=message,
        stage="submit",
        code=2,
        description="Submitted",
        stage_at=now - timedelta(minutes=5),
        source=EventSource.POSTBACK,
    )
    response = viewer_client.get(reverse("reports:message_detail", args=[message.pk]))
    assert [event.pk for event in response.context["events"]] == [submitted.pk, sent.pk]
    html = _page(response)
    assert html.index(f'data-event="{submitted.pk}"') < html.index(f'data-event="{sent.pk}"')
    assert html.count("data-late") == 1
    assert "late by 125 s" in html
    assert "Status poll" in html and "Postback" in html


def test_replies_are_shown_escaped_with_the_admins_raw_email_link(
    viewer_client, viewer, message, reply
):
    viewer.is_staff = True  # the admin's link is for those who may open the admin
    viewer.save()
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "Re: &lt;b&gt;hello&lt;/b&gt;" in html
    assert "Thanks &lt;script&gt;" in html
    raw_url = reverse("admin:messaging_message_reply_raw", args=[message.pk, reply.pk])
    assert f'href="{raw_url}"' in html
    assert viewer_client.get(raw_url).status_code == 200


def test_replies_are_hidden_from_those_who_may_not_see_them(client, application, message, reply):
    user = make_user("campaigns-only", "messaging.view_campaign")
    user.application_grants.create(application=application)
    client.force_login(user)
    html = _page(client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "reader@example.com" not in html
    assert "Download the raw email" not in html
    raw = reverse("reports:message_reply_raw", args=[message.pk, reply.pk])
    assert client.get(raw).status_code == 403


def test_those_who_may_see_replies_but_not_the_admin_download_here(
    client, application, message, reply
):
    user = make_user("reader", "messaging.view_campaign", "postbacks.view_reply", staff=False)
    user.application_grants.create(application=application)
    client.force_login(user)
    html = _page(client.get(reverse("reports:message_detail", args=[message.pk])))
    raw_url = reverse("reports:message_reply_raw", args=[message.pk, reply.pk])
    assert f'href="{raw_url}"' in html
    assert "admin" not in raw_url
    response = client.get(raw_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"Subject: Re: hello\r\n\r\nThanks!"


def test_an_sms_reply_shows_its_text_and_no_download(viewer_client, message):
    Reply.objects.create(
        message=message, kind=ReplyKind.SMS, sender="27820000001", text="STOP", content_hash="a"
    )
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "STOP" in html
    assert "Download the raw email" not in html


# --- archived content (the sandbox, over HTTP) ---------------------------------------------------


@pytest.fixture
def sent_message(sandbox_application, empty_task_queue):
    """A message really submitted to the sandbox, which archives it a step later."""
    campaign = Campaign.objects.create(
        name="Archived",
        channel=Channel.EMAIL,
        application=sandbox_application,
        subject="Hello <there>",
        body_html='<p onclick="x()">Hi <img src="https://tracker.example/p.gif"></p>',
        body_text="Hi",
    )
    campaign.messages.create(recipient="reader@example.com")
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    message_submit(message_id=message.pk)
    message.refresh_from_db()
    assert message.iliveit_id
    return message


@pytest.fixture
def sandbox_viewer_client(viewer_client, viewer, sandbox_application):
    """viewer_client, its viewer granted the sandbox's application too (sent_message's)."""
    viewer.application_grants.create(application=sandbox_application)
    return viewer_client


def _archived(client, message, *, wait_s: float = 5.0):
    """The archived page, asked again until the sandbox has reached the archive stage."""
    url = reverse("reports:message_archived", args=[message.pk])
    deadline = time.monotonic() + wait_s
    while True:
        response = client.get(url)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_the_archived_content_of_a_sent_message_is_shown_escaped(
    sandbox_viewer_client, sent_message
):
    response = _archived(sandbox_viewer_client, sent_message)
    assert response.status_code == 200
    html = _page(response)
    assert response.context["archived"].type == "email"
    assert response.context["archived"].date_created is not None
    assert "Hello &lt;there&gt;" in html  # the subject, in the escaped JSON
    assert "<there>" not in html
    # The HTML body only inside a sandboxed srcdoc iframe (escaped into its attribute), under
    # the page's strict policy.
    assert "<iframe" in html and "sandbox" in html
    assert '<p onclick="x()">' not in html
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_message_without_a_message_id_has_no_archived_content(viewer_client, campaign):
    unsent = campaign.messages.create(recipient="27820000009", state=MessageState.QUEUED)
    response = viewer_client.get(reverse("reports:message_archived", args=[unsent.pk]))
    assert response.status_code == 404
    assert "no iLiveIt MessageID" in _page(response)


def test_a_message_id_the_sandbox_does_not_know_is_a_clear_404(sandbox_viewer_client, sent_message):
    Message.objects.filter(pk=sent_message.pk).update(iliveit_id="no-such-message")
    response = sandbox_viewer_client.get(
        reverse("reports:message_archived", args=[sent_message.pk])
    )
    assert response.status_code == 404
    assert "does not know this MessageID" in _page(response)


def test_the_sandbox_being_down_is_a_clear_502(sandbox_viewer_client, sent_message):
    application = sent_message.campaign.application
    application.endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    application.save()
    response = sandbox_viewer_client.get(
        reverse("reports:message_archived", args=[sent_message.pk])
    )
    assert response.status_code == 502
    assert "iLiveIt did not answer" in _page(response)
    assert 'role="alert"' in _page(response)


def test_an_endpoint_that_would_leak_the_token_is_refused_with_the_reason(
    sandbox_viewer_client, sent_message
):
    # Written past the admin's check (a row from before the rule, or the shell): the fragment
    # would send the token to the sandbox's own health page, and show its answer here.
    application = sent_message.campaign.application
    application.endpoint = f"{application.endpoint}/_sandbox/health#"
    application.save()

    response = sandbox_viewer_client.get(
        reverse("reports:message_archived", args=[sent_message.pk])
    )

    assert response.status_code == 502
    assert "is refused: it must not have a query (?) or a fragment (#)" in _page(response)
    assert "_sandbox" not in _page(response)


# --- the CSV export ------------------------------------------------------------------------------


def test_the_export_streams_a_csv_attachment_of_the_campaigns_messages(
    viewer_client, campaign, message
):
    campaign.messages.create(recipient='=HYPERLINK("http://evil.example")')
    campaign.messages.create(recipient="27820000099", is_test=True)
    response = viewer_client.get(reverse("reports:message_export", args=[campaign.pk]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="messages-{campaign.pk}-spring-sale.csv"'
    )
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["recipient"] for row in rows] == [
        "27820000001",
        '\'=HYPERLINK("http://evil.example")',
    ]
    assert rows[0]["sent_code"] == "5"


# --- resending ----------------------------------------------------------------------------------


def _wait_archived(sandbox, message) -> None:
    deadline = time.monotonic() + 10
    while sandbox.message(message.iliveit_id)["status"]["archive_status"] != 4:
        assert time.monotonic() < deadline, "the sandbox did not archive it"
        time.sleep(0.05)


def test_a_composer_resends_a_message_and_lands_on_the_new_one(
    client, make_staff, sandbox_application, sandbox, sent_message
):
    client.force_login(make_staff("cara", "Composer", applications=[sandbox_application]))
    page = client.get(reverse("reports:message_detail", args=[sent_message.pk]))
    assert "Resend to reader@example.com" in _page(page)
    _wait_archived(sandbox, sent_message)

    response = client.post(reverse("messaging:message_resend", args=[sent_message.pk]))

    copy = sent_message.resends.get()
    assert response.status_code == 302
    assert response.url == reverse("reports:message_detail", args=[copy.pk])
    new_page = _page(client.get(response.url))
    assert f"message {sent_message.pk}</a>" in new_page
    assert copy.iliveit_id and copy.iliveit_id != sent_message.iliveit_id


@pytest.fixture
def slow_lifecycle(sandbox):
    # Set before the message is submitted: at the tests' 0.05 s steps it is archived (and so
    # may be resent) a moment after its submission.
    sandbox.configure(step_seconds=60)


def test_a_refused_resend_says_why_on_the_message_page(
    client, make_staff, sandbox_application, slow_lifecycle, sent_message
):
    # Not archived yet: iLiveIt refuses to resend it.
    client.force_login(make_staff("cara", "Composer", applications=[sandbox_application]))

    response = client.post(reverse("messaging:message_resend", args=[sent_message.pk]), follow=True)

    assert "refused the resend" in _page(response)
    assert sent_message.resends.get().state == MessageState.FAILED


def test_viewers_may_not_resend_and_outsiders_get_404(
    client, make_staff, sandbox_application, sent_message
):
    url = reverse("messaging:message_resend", args=[sent_message.pk])
    client.force_login(make_staff("vic", "Viewer", applications=[sandbox_application]))
    assert client.post(url).status_code == 403
    assert "Resend to" not in _page(
        client.get(reverse("reports:message_detail", args=[sent_message.pk]))
    )

    client.force_login(make_staff("out", "Composer"))
    assert client.post(url).status_code == 404
    assert not sent_message.resends.exists()


# --- a message's fields and what it is sent ------------------------------------------------------


def test_the_page_shows_the_recipients_fields_and_the_text_rendered_with_them(
    viewer_client, campaign
):
    Campaign.objects.filter(pk=campaign.pk).update(
        body_text='Hi {{ first_name }}, you owe R{{ amount|default:"0" }}.'
    )
    message = campaign.messages.create(
        recipient="27820000002", fields={"first_name": "Thandi <3", "amount": "1 234.50"}
    )

    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))

    assert "first_name" in html and "Thandi &lt;3" in html
    assert "Hi Thandi &lt;3, you owe R1 234.50." in html
    assert "What it will be sent" in html


def test_an_email_shows_its_rendered_subject_and_html_body_in_the_sandboxed_frame(
    viewer_client, application
):
    campaign = make_campaign(
        "email",
        application=application,
        subject="For {{ first_name }}",
        body_html="<p>Hello {{ first_name }}</p>",
    )
    message = campaign.messages.create(
        recipient="thandi@example.com", fields={"first_name": "<b>Thandi</b>"}
    )

    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))

    assert "For &lt;b&gt;Thandi&lt;/b&gt;" in html
    # Escaped in the body (a value is text, never markup), then again for srcdoc.
    assert "Hello &amp;lt;b&amp;gt;Thandi&amp;lt;/b&amp;gt;" in html
    assert 'sandbox referrerpolicy="no-referrer" srcdoc=' in html


def test_a_message_without_fields_says_so_and_a_one_time_pin_shows_no_content(
    viewer_client, campaign, message
):
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "This recipient has no fields of its own." in html

    Campaign.objects.filter(pk=campaign.pk).update(is_otp=True, body_text="PIN 1234")
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "erased once it is sent" in html
    assert "PIN 1234" not in html


# --- how a message reads -----------------------------------------------------------------------


def test_the_list_says_what_happened_as_a_sentence(viewer_client, campaign, message):
    delivered_at = timezone.now()
    campaign.messages.create(
        recipient="27830000002",
        state=MessageState.DELIVERED,
        delivered_code=1,
        delivered_description="Delivered",
        delivered_at=delivered_at,
    )
    html = _page(viewer_client.get(reverse("reports:message_list", args=[campaign.pk])))
    assert "Failed at sending: Network rejected (code 5)" in html
    local = timezone.localtime(delivered_at).strftime("%Y-%m-%d %H:%M")
    assert f">{local}</time>" in html
    assert "Delivered at <time" in html
    assert "delivered <span" not in html


def test_a_failed_message_shows_its_failure_not_an_empty_last_error(viewer_client, message):
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))
    assert "<dt>Failure</dt>" in html
    assert "Failed at sending: Network rejected (code 5)" in html
    assert "<dt>Last error</dt>" not in html


def test_a_failure_without_a_stage_code_shows_the_error_once(viewer_client, campaign):
    refused = campaign.messages.create(
        recipient="27830000009", state=MessageState.FAILED, last_error="401: invalid token"
    )
    html = _page(viewer_client.get(reverse("reports:message_detail", args=[refused.pk])))
    assert "Failed at submission: 401: invalid token" in html
    assert html.count("401: invalid token") == 1


def test_the_network_and_failure_code_filters_offer_the_campaigns_own_values(
    viewer_client, campaign, message
):
    campaign.messages.create(recipient="27830000002", state=MessageState.DELIVERED, network="mtn")
    response = viewer_client.get(reverse("reports:message_list", args=[campaign.pk]))
    form = response.context["form"]
    assert [value for value, _ in form.fields["network"].choices] == ["", "mtn", "vodacom"]
    assert [value for value, _ in form.fields["failure_code"].choices] == ["", 5]
    html = _page(response)
    assert '<select name="network"' in html and '<select name="failure_code"' in html
    assert "5 · Network rejected (sending)" in html


def test_a_network_the_campaign_never_used_is_a_form_error(viewer_client, campaign, message):
    response = viewer_client.get(
        reverse("reports:message_list", args=[campaign.pk]), {"network": "nowhere"}
    )
    assert response.status_code == 200
    assert "network" in response.context["form"].errors
    assert len(response.context["rows"]) == 1  # the bad filter is left out


def test_an_mms_message_page_shows_each_image_slide_as_a_thumbnail(viewer_client, application):
    from messaging.models import SlideMedia
    from tests.messaging.compose_helpers import png_bytes

    mms = make_campaign("mms", application=application, name="Picture day")
    image = mms.slides.create(position=0, media_type=SlideMedia.IMAGE, mime="image/png")
    image.media.save("dot.png", ContentFile(png_bytes()))
    mms.slides.create(position=1, text="Words only")
    message = mms.messages.create(recipient="27820000001", state=MessageState.QUEUED)

    html = _page(viewer_client.get(reverse("reports:message_detail", args=[message.pk])))

    src = reverse("messaging:slide_media", args=[mms.pk, image.pk])
    assert f'<img src="{src}"' in html
    assert html.count("<img ") == 1
