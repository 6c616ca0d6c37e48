"""The staff compose, detail and recipients pages, through the test client."""

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from messaging.models import Attachment, Campaign, CampaignState, Message, MessageState
from messaging.optouts import opt_out_record
from messaging.services import messages_sweep
from tests.messaging.compose_helpers import (
    ALL_APPLICATIONS,
    fake_image_upload,
    make_application,
    make_campaign,
    make_user,
    png_upload,
    slide_data,
)
from tests.support.redis_restart import redis_down

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def composer_client(client):
    """Not the shared Composer: a user with the compose permission alone, seeing every
    application, as these tests are about what each permission allows."""
    client.force_login(make_user("composer", "messaging.add_campaign", ALL_APPLICATIONS))
    return client


@pytest.fixture
def launcher_client(client):
    """Like composer_client's user, with the launch permission too."""
    client.force_login(
        make_user(
            "launcher", "messaging.add_campaign", "messaging.launch_campaign", ALL_APPLICATIONS
        )
    )
    return client


@pytest.fixture
def outsider_client(client):
    """Not the shared outsider: a user who may view messages but not compose."""
    client.force_login(make_user("outsider", "messaging.view_message"))
    return client


def _common(application, **content):
    return {"name": "Spring sale", "application": str(application.pk), **content}


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def _follow_messages(client, response) -> list[str]:
    return [str(m) for m in client.get(response.url).context["messages"]]


# --- who may do what ----------------------------------------------------------------------------


COMPOSE_URLS = [
    ("messaging:compose_choose", ()),
    ("messaging:campaign_new", ("email",)),
    ("messaging:campaign_edit", ("pk",)),
    ("messaging:campaign_recipients", ("pk",)),
    ("messaging:campaign_detail", ("pk",)),
]


def _url(name, args, campaign):
    return reverse(name, args=[campaign.pk if arg == "pk" else arg for arg in args])


@pytest.mark.parametrize(("name", "args"), COMPOSE_URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, name, args):
    url = _url(name, args, make_campaign("sms"))
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "args"), COMPOSE_URLS)
def test_staff_without_the_compose_permission_are_refused(outsider_client, name, args):
    assert outsider_client.get(_url(name, args, make_campaign("sms"))).status_code == 403


@pytest.mark.parametrize(("name", "args"), COMPOSE_URLS)
def test_a_composer_may_open_every_compose_page(composer_client, name, args):
    assert composer_client.get(_url(name, args, make_campaign("sms"))).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "campaign_test_send",
        "campaign_launch",
        "campaign_pause",
        "campaign_resume",
        "campaign_cancel",
        "campaign_retry_failed",
    ],
)
def test_launching_and_controlling_need_the_launch_permission(composer_client, name):
    campaign = make_campaign("sms")
    response = composer_client.post(
        reverse(f"messaging:{name}", args=[campaign.pk]), {"when": "now"}
    )
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert not Message.objects.exists()


def test_a_composer_does_not_see_the_launch_controls(composer_client):
    page = composer_client.get(reverse("messaging:campaign_detail", args=[make_campaign("sms").pk]))
    assert b"Send test" not in page.content
    assert b"Launch" not in page.content


def test_the_detail_page_previews_the_content_for_a_recipient_the_composer_picks(
    composer_client,
):
    campaign = make_campaign("sms", body_text='Hi {{ name|default:"there" }}')
    campaign.messages.create(recipient="27821000001", fields={"name": "Thandi"})
    campaign.messages.create(recipient="27821000002")
    detail = reverse("messaging:campaign_detail", args=[campaign.pk])

    first = composer_client.get(detail).content.decode()
    picked = composer_client.get(detail, {"preview": "082 100 0002"}).content.decode()
    missing = composer_client.get(detail, {"preview": "nobody"}).content.decode()

    assert "Preview for a recipient" in first
    assert "Hi Thandi" in first and "27821000001</a> gets it" in first
    assert "Hi there" in picked and "(no fields of its own)" in picked
    assert "1 SMS (GSM-7)" in picked
    assert "No recipient matches “nobody”." in missing


def test_the_detail_page_shows_what_a_personalised_sms_costs_before_launch(launcher_client):
    campaign = make_campaign("sms", body_text="{{ note }}")
    campaign.messages.create(recipient="27821000001", fields={"note": "short"})
    campaign.messages.create(recipient="27821000002", fields={"note": "x" * 200})

    page = unescape(
        launcher_client.get(
            reverse("messaging:campaign_detail", args=[campaign.pk])
        ).content.decode()
    )

    assert "3 SMS in all, 1 to 2 per recipient" in page
    assert "Sends 3 SMS to 2 recipients: 1 to 2 each." in page


def test_a_test_send_is_rendered_with_a_recipients_fields_and_typed_values(launcher_client):
    campaign = make_campaign("sms", body_text="Hi {{ first_name }}, you owe {{ amount }}")
    campaign.messages.create(
        recipient="27821000001", fields={"first_name": "Thandi", "amount": "5"}
    )
    detail = reverse("messaging:campaign_detail", args=[campaign.pk])

    form = launcher_client.get(detail).content.decode()
    response = launcher_client.post(
        reverse("messaging:campaign_test_send", args=[campaign.pk]),
        {"recipient": "082 999 9999", "fields_of": "27821000001", "value_amount": "12.50"},
    )

    # The form starts from the previewed recipient, and offers a value per field.
    assert 'name="fields_of" value="27821000001"' in form
    assert 'name="value_amount"' in form and 'name="value_first_name"' in form
    assert response.status_code == 302
    test = campaign.messages.get(is_test=True)
    assert test.fields == {"first_name": "Thandi", "amount": "12.50"}


def test_a_test_send_missing_a_value_says_which(launcher_client):
    campaign = make_campaign("sms", body_text="Hi {{ first_name }}")
    response = launcher_client.post(
        reverse("messaging:campaign_test_send", args=[campaign.pk]), {"recipient": "0829999999"}
    )
    [said] = _follow_messages(launcher_client, response)
    assert said.startswith("Test not sent: {{ first_name }} has no value and no fallback.")
    assert not campaign.messages.exists()


def test_an_unknown_channel_is_not_found(composer_client):
    assert composer_client.get(reverse("messaging:campaign_new", args=["fax"])).status_code == 404


def test_controls_are_post_only(launcher_client):
    campaign = make_campaign("sms")
    assert (
        launcher_client.get(reverse("messaging:campaign_launch", args=[campaign.pk])).status_code
        == 405
    )


# --- email --------------------------------------------------------------------------------------


def test_the_email_preview_is_sandboxed_and_cannot_run_scripts(composer_client, application):
    body = (
        '<p onclick="steal()">Hi</p><script>alert("x")</script><img src="https://t.example/p.gif">'
    )
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["email"]), _common(application, body_html=body)
    )
    assert response.status_code == 400  # no subject: the page comes back with the preview
    html = response.content.decode()
    [iframe] = re.findall(r"<iframe[^>]*>", html)
    assert re.search(r"\ssandbox[\s>]", iframe)  # present, and empty: every restriction
    assert "allow-scripts" not in html and "allow-same-origin" not in html
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', iframe).group(1))
    assert srcdoc.endswith(body)
    # The document carries its own policy ahead of the body: nothing loads from outside.
    assert srcdoc.startswith("<!doctype html>")
    assert "Content-Security-Policy\" content=\"default-src 'none'; img-src data:" in srcdoc
    # Nothing of the body escaped into the page itself.
    assert "<script>alert" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_an_email_error_is_shown_beside_the_field_and_in_the_summary(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["email"]), _common(application, body_text="Hi")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "1 problem to fix" in html
    assert "<li>Subject: This field is required.</li>" in html
    assert 'id="id_subject_error"' in html
    assert not Campaign.objects.exists()


def test_an_email_campaign_is_saved_with_its_attachments(composer_client, application, media_root):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["email"]),
        {
            **_common(application, subject="Sale", body_html="<h1>Sale</h1>", reply_to="a@b.co"),
            "new_attachments": [
                SimpleUploadedFile("terms.pdf", b"%PDF-1.4 terms", content_type="application/pdf"),
                SimpleUploadedFile("prices.csv", b"a,b\n1,2\n", content_type="text/csv"),
            ],
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("messaging:campaign_detail", args=[campaign.pk])
    assert (campaign.channel, campaign.subject, campaign.reply_to) == ("email", "Sale", "a@b.co")
    assert campaign.state == CampaignState.DRAFT
    assert campaign.created_by.username == "composer"
    attachments = list(campaign.attachments.order_by("filename"))
    assert [(a.filename, a.mime, a.size) for a in attachments] == [
        ("prices.csv", "text/csv", 8),
        ("terms.pdf", "application/pdf", 14),
    ]
    assert (media_root / attachments[1].file.name).read_bytes() == b"%PDF-1.4 terms"
    detail = composer_client.get(response.url)
    assert "terms.pdf" in detail.content.decode()
    assert re.search(r"<iframe[^>]*\ssandbox[\s>]", detail.content.decode())


def test_header_injection_in_an_email_is_refused_on_the_page(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["email"]),
        _common(
            application,
            subject="Sale\u2028Bcc: everyone@example.com",
            from_name="Shop\r\nBcc: everyone@example.com",
            body_text="Hi",
        ),
    )
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Subject: Line breaks and control characters are not allowed." in html
    assert "From name: Line breaks and control characters are not allowed." in html
    assert not Campaign.objects.exists()


def test_an_attachment_can_be_removed_and_its_file_goes_too(
    composer_client, application, media_root, django_capture_on_commit_callbacks
):
    campaign = make_campaign("email", application=application)
    attachment = Attachment.objects.create(
        campaign=campaign,
        file=SimpleUploadedFile("old.txt", b"old"),
        filename="old.txt",
        size=3,
    )
    stored = Path(media_root / attachment.file.name)
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = composer_client.post(
            reverse("messaging:campaign_edit", args=[campaign.pk]),
            _common(
                application,
                subject="Hello",
                body_text="Hi",
                remove_attachments=[str(attachment.pk)],
            ),
        )
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert not stored.exists()


def test_too_large_an_attachment_is_refused_on_the_page(composer_client, application, settings):
    settings.EMAIL_MAX_ATTACHMENT_BYTES = 5
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["email"]),
        {
            **_common(application, subject="Sale", body_text="x"),
            "new_attachments": [SimpleUploadedFile("big.bin", b"0123456789")],
        },
    )
    assert response.status_code == 400
    assert "Add attachments: big.bin is 10\xa0bytes" in response.content.decode()
    assert not Campaign.objects.exists()


# --- MMS ----------------------------------------------------------------------------------------


def test_an_mms_is_saved_with_its_slides_in_the_chosen_order(composer_client, application):
    data = {
        **_common(application, subject="Look"),
        **slide_data(
            [
                {"ORDER": "2", "duration": "5", "text": "second", "media": png_upload()},
                {"ORDER": "1", "duration": "8", "text": "first"},
                {"ORDER": "", "duration": "5", "text": ""},  # the untouched blank slide
            ]
        ),
    }
    response = composer_client.post(reverse("messaging:campaign_new", args=["mms"]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    campaign = Campaign.objects.get()
    slides = list(campaign.slides.all())
    assert [(s.position, s.text, s.duration) for s in slides] == [(0, "first", 8), (1, "second", 5)]
    assert (slides[1].media_type, slides[1].mime) == ("image", "image/png")
    assert slides[1].media.name == f"campaigns/{campaign.pk}/dot.png"


def test_an_mms_refuses_text_dressed_as_an_image(composer_client, application):
    data = {
        **_common(application, subject="Look"),
        **slide_data([{"duration": "5", "text": "Hi", "media": fake_image_upload()}]),
    }
    response = composer_client.post(reverse("messaging:campaign_new", args=["mms"]), data)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Slide 1, Image, video or audio: Refused: the content of 'fake.png' is not an" in html
    assert not Campaign.objects.exists()


def test_an_mms_without_slides_is_refused(composer_client, application):
    data = {**_common(application, subject="Look"), **slide_data([{"duration": "5"}])}
    response = composer_client.post(reverse("messaging:campaign_new", args=["mms"]), data)
    assert response.status_code == 400
    assert "Slides: An MMS needs at least one slide." in response.content.decode()
    assert not Campaign.objects.exists()


def test_editing_an_mms_can_delete_and_reorder_slides(composer_client, application):
    campaign = make_campaign("mms", application=application)
    first = campaign.slides.create(position=0, text="one")
    second = campaign.slides.create(position=1, text="two")
    third = campaign.slides.create(position=2, text="three")
    page = composer_client.get(reverse("messaging:campaign_edit", args=[campaign.pk]))
    assert page.status_code == 200
    data = {
        **_common(application, subject="Still"),
        **slide_data(
            [
                {"id": str(first.pk), "ORDER": "3", "duration": "5", "text": "one"},
                {
                    "id": str(second.pk),
                    "ORDER": "2",
                    "duration": "5",
                    "text": "two",
                    "DELETE": "on",
                },
                {"id": str(third.pk), "ORDER": "1", "duration": "5", "text": "three"},
            ],
            initial=3,
        ),
    }
    for index in range(3):
        data[f"slides-{index}-campaign"] = str(campaign.pk)
    response = composer_client.post(reverse("messaging:campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(campaign.slides.values_list("text", "position")) == [("three", 0), ("one", 1)]


# --- SMS and video ------------------------------------------------------------------------------


def test_the_sms_page_shows_the_count_and_carries_the_alphabet(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["sms"]),
        _common(application, body_text="€" * 81, submit_not_after="2001-01-01T00:00"),
    )
    assert response.status_code == 400  # the window is in the past
    html = response.content.decode()
    assert re.search(r"162 characters,\s+2 SMS \(GSM-7\)", html)
    assert 'id="gsm-alphabet" type="application/json"' in html
    assert "messaging/compose.js" in html


def test_an_sms_campaign_is_saved(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["sms"]), _common(application, body_text="Hi")
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.channel, campaign.body_text) == ("sms", "Hi")
    assert re.search(
        r"2 characters, 1 SMS \(GSM-7\)", composer_client.get(response.url).content.decode()
    )


def test_a_placeholder_that_does_not_compile_is_shown_beside_the_field(
    composer_client, application
):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["sms"]),
        _common(application, body_text="Hi\r\n{{ name|upper }}"),
    )
    assert response.status_code == 400
    assert "Text: Line 2: {{ name|upper }}: the only filter is default" in unescape(
        response.content.decode()
    )
    assert not Campaign.objects.exists()


def test_bad_video_json_is_refused_on_the_page(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["video"]),
        _common(application, template_id="4", template_data='{"a": }'),
    )
    assert response.status_code == 400
    assert "Template data: Not valid JSON: Expecting value at line 1, column 7." in unescape(
        response.content.decode()
    )


def test_a_video_campaign_is_saved(composer_client, application):
    response = composer_client.post(
        reverse("messaging:campaign_new", args=["video"]),
        _common(application, template_id="4", template_data='{"a": 1}', network="*"),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.template_id, campaign.template_data, campaign.network) == (4, {"a": 1}, "")


# --- editing ------------------------------------------------------------------------------------


def test_a_sending_campaign_cannot_be_edited(composer_client):
    campaign = make_campaign("sms", state=CampaignState.SENDING)
    response = composer_client.get(reverse("messaging:campaign_edit", args=[campaign.pk]))
    assert response.status_code == 302
    assert (
        "only draft or scheduled campaigns can be edited"
        in _follow_messages(composer_client, response)[0]
    )


def test_a_campaign_launched_while_being_edited_is_not_overwritten(composer_client, application):
    campaign = make_campaign("sms", application=application)
    page_url = reverse("messaging:campaign_edit", args=[campaign.pk])
    assert composer_client.get(page_url).status_code == 200
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.SENDING)
    response = composer_client.post(page_url, _common(application, body_text="Changed"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.body_text, campaign.state) == ("Hi there", CampaignState.SENDING)


def test_editing_keeps_the_state_and_channel(composer_client, application):
    campaign = make_campaign("sms", application=application, state=CampaignState.SCHEDULED)
    response = composer_client.post(
        reverse("messaging:campaign_edit", args=[campaign.pk]),
        _common(application, body_text="New text", channel="email", state="done"),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.channel, campaign.state, campaign.body_text) == (
        "sms",
        CampaignState.SCHEDULED,
        "New text",
    )


# --- recipients ---------------------------------------------------------------------------------


def test_pasted_recipients_are_added_and_every_reject_is_listed(composer_client):
    campaign = make_campaign("sms")
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]),
        {"pasted": "\n082 123 4567\nnonsense\n27821234567\n+27 82 123 4568\n"},
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.added, result.duplicates, result.rejected_total) == (2, 1, 1)
    html = unescape(response.content.decode())
    assert re.search(r'<td class="number">3</td><td>nonsense</td><td>[^<]*not a phone number', html)
    assert sorted(campaign.messages.values_list("recipient", "state")) == [
        ("27821234567", MessageState.DRAFT),
        ("27821234568", MessageState.DRAFT),
    ]


def test_an_opted_out_recipient_is_listed_among_the_rejects_with_when_and_how(composer_client):
    campaign = make_campaign("sms")
    opt_out_record(application=campaign.application, recipient="27821234568", source="bounce")
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]),
        {"pasted": "082 123 4567\n082 123 4568\n"},
    )
    assert response.status_code == 200
    assert (response.context["result"].added, response.context["result"].rejected_total) == (1, 1)
    html = unescape(response.content.decode())
    assert re.search(
        r'<td class="number">2</td><td>27821234568</td><td>opted out on [-\d]+ \(Bounce\)', html
    )


def test_a_recipients_csv_is_imported(composer_client):
    campaign = make_campaign("email")
    upload = SimpleUploadedFile("list.csv", b"name,email\nA,a@example.com\nB,bad\n")
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]), {"file": upload}
    )
    assert response.status_code == 200
    assert response.context["result"].added == 1
    assert list(campaign.messages.values_list("recipient", flat=True)) == ["a@example.com"]
    assert re.search(r'<td class="number">3</td><td>bad</td>', response.content.decode())


def test_a_recipients_csv_missing_a_field_the_content_uses_is_imported_with_a_warning(
    composer_client,
):
    campaign = make_campaign("sms", body_text="Hi {{ first_name }}")
    upload = SimpleUploadedFile("list.csv", b"msisdn,First Name\n0821234567,Jo\n0831234567,\n")
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]), {"file": upload}
    )
    assert response.status_code == 200
    assert response.context["result"].added == 2
    html = unescape(response.content.decode())
    assert (
        "<li>{{ first_name }} has no fallback and 1 recipient has no first_name: 27831234567.</li>"
        in html
    )
    assert campaign.messages.get(recipient="27821234567").fields == {"first_name": "Jo"}


def test_an_unreadable_recipients_file_is_a_form_error(composer_client):
    campaign = make_campaign("sms")
    upload = SimpleUploadedFile("list.xlsx", b"PK\x03\x04\x00\x00binary")
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]), {"file": upload}
    )
    assert response.status_code == 400
    assert "Or upload a CSV or text file: This is not a text file" in response.content.decode()


def test_recipients_cannot_be_added_once_sending(composer_client):
    campaign = make_campaign("sms", state=CampaignState.SENDING)
    response = composer_client.post(
        reverse("messaging:campaign_recipients", args=[campaign.pk]), {"pasted": "0821234567"}
    )
    assert response.status_code == 400
    assert "cannot be added to a campaign that is Sending" in response.content.decode()
    assert not campaign.messages.exists()


# --- test send and launch -----------------------------------------------------------------------


def test_a_test_send_normalises_the_recipient_and_queues_one_test_message(launcher_client):
    campaign = make_campaign("sms")
    response = launcher_client.post(
        reverse("messaging:campaign_test_send", args=[campaign.pk]), {"recipient": "082 123 4567"}
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.recipient, message.is_test, message.campaign) == ("27821234567", True, campaign)
    assert _follow_messages(launcher_client, response) == ["Test message to 27821234567 is queued."]


def test_a_test_send_to_an_opted_out_recipient_is_refused_with_the_reason(launcher_client):
    campaign = make_campaign("sms")
    opt_out_record(application=campaign.application, recipient="27821234567", source="reply")
    response = launcher_client.post(
        reverse("messaging:campaign_test_send", args=[campaign.pk]), {"recipient": "082 123 4567"}
    )
    assert response.status_code == 302
    [said] = _follow_messages(launcher_client, response)
    assert re.fullmatch(r"Test not sent: 27821234567 opted out on [-\d]+ \(Reply\)\.", said)
    assert not Message.objects.exists()


def test_a_bad_test_recipient_is_shown_on_the_detail_page(launcher_client):
    campaign = make_campaign("sms")
    response = launcher_client.post(
        reverse("messaging:campaign_test_send", args=[campaign.pk]), {"recipient": "hello"}
    )
    assert response.status_code == 400
    assert 'id="id_recipient_error"' in response.content.decode()
    assert not Message.objects.exists()


def test_a_refused_launch_says_why(launcher_client):
    campaign = make_campaign("sms")
    response = launcher_client.post(
        reverse("messaging:campaign_launch", args=[campaign.pk]), {"when": "now"}
    )
    assert response.status_code == 302
    assert _follow_messages(launcher_client, response) == [
        "Not launched: The campaign has no recipients yet."
    ]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_a_launch_with_a_recipient_missing_a_field_is_refused_on_the_page(launcher_client):
    campaign = make_campaign("sms", body_text="Hi {{ name }}")
    campaign.messages.create(recipient="27821234567", state=MessageState.DRAFT)
    response = launcher_client.post(
        reverse("messaging:campaign_launch", args=[campaign.pk]), {"when": "now"}
    )
    [message] = _follow_messages(launcher_client, response)
    assert message.startswith(
        "Not launched: Some recipients have no value for a placeholder: {{ name }} has no "
        "fallback and 1 recipient has no name: 27821234567."
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert campaign.messages.get().state == MessageState.DRAFT


def test_a_launch_now_starts_sending(launcher_client):
    campaign = make_campaign("sms")
    campaign.messages.create(recipient="27821234567", state=MessageState.DRAFT)
    response = launcher_client.post(
        reverse("messaging:campaign_launch", args=[campaign.pk]), {"when": "now"}
    )
    assert _follow_messages(launcher_client, response) == ["Launched."]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    assert campaign.messages.get().state == MessageState.QUEUED


# Committed for real: the hint to the workers is sent only when the launch commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.serial
def test_a_launch_while_the_task_queue_is_down_answers_and_the_sweeper_sends_later(
    launcher_client, settings
):
    campaign = make_campaign("sms")
    campaign.messages.create(recipient="27821234567", state=MessageState.DRAFT)
    settings.SWEEP_QUEUED_AFTER_S = 0

    with redis_down(settings.REDIS_URL):
        response = launcher_client.post(
            reverse("messaging:campaign_launch", args=[campaign.pk]), {"when": "now"}
        )
        assert response.status_code == 302
        shown = _follow_messages(launcher_client, response)

    assert shown[0] == "Launched."
    assert "The task queue cannot be reached just now" in shown[1]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    assert campaign.messages.get().state == MessageState.QUEUED
    # Once the queue is back, the sweep hands the queued message to the workers.
    assert messages_sweep()["requeued"] == 1


def test_a_launch_can_be_scheduled(launcher_client):
    campaign = make_campaign("sms")
    campaign.messages.create(recipient="27821234567", state=MessageState.DRAFT)
    at = timezone.localtime() + timedelta(days=1)
    response = launcher_client.post(
        reverse("messaging:campaign_launch", args=[campaign.pk]),
        {"when": "later", "at": at.strftime("%Y-%m-%dT%H:%M")},
    )
    assert _follow_messages(launcher_client, response) == [f"Scheduled for {at:%Y-%m-%d %H:%M}."]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED
    assert campaign.launch_at == at.replace(second=0, microsecond=0)


def test_a_launch_time_in_the_past_is_refused_beside_the_field(launcher_client):
    campaign = make_campaign("sms")
    response = launcher_client.post(
        reverse("messaging:campaign_launch", args=[campaign.pk]),
        {"when": "later", "at": "2001-01-01T00:00"},
    )
    assert response.status_code == 400
    assert 'id="id_at_error"' in response.content.decode()


def test_pause_resume_and_cancel_go_through_the_services(launcher_client):
    campaign = make_campaign("sms", state=CampaignState.SENDING)
    detail = reverse("messaging:campaign_detail", args=[campaign.pk])
    assert b"Pause" in launcher_client.get(detail).content
    response = launcher_client.post(reverse("messaging:campaign_pause", args=[campaign.pk]))
    assert _follow_messages(launcher_client, response) == ["Paused."]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    response = launcher_client.post(reverse("messaging:campaign_pause", args=[campaign.pk]))
    assert _follow_messages(launcher_client, response) == [
        "Could not pause: Only a sending campaign can be paused."
    ]
    launcher_client.post(reverse("messaging:campaign_resume", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    launcher_client.post(reverse("messaging:campaign_cancel", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED


def test_retry_failed_counts_only_what_it_will_queue_and_lists_the_failures_for_good(
    launcher_client,
):
    campaign = make_campaign("sms", state=CampaignState.DONE)
    failed = {"state": MessageState.FAILED}
    campaign.messages.create(recipient="27820000001", error_retryable=True, **failed)
    campaign.messages.create(recipient="27820000002", last_error="400: text is too long", **failed)
    campaign.messages.create(recipient="27820000003", last_error="400: text is too long", **failed)
    # Accepted by iLiveIt, then failed in its pipeline: queued again it would be sent twice.
    campaign.messages.create(
        recipient="27820000004",
        iliveit_id="abc-4",
        submit_code=9,
        submit_description="NotMMS",
        error_retryable=True,
        **failed,
    )
    # A test send is not one of the campaign's messages.
    campaign.messages.create(recipient="27820000005", is_test=True, error_retryable=True, **failed)
    detail = reverse("messaging:campaign_detail", args=[campaign.pk])

    page = launcher_client.get(detail).content.decode()

    assert "Retry 1 failed" in page
    assert "3 messages failed for good and will not be retried" in page
    assert "400: text is too long: 2" in unescape(page)
    assert "9 · NotMMS: 1" in unescape(page)
    response = launcher_client.post(reverse("messaging:campaign_retry_failed", args=[campaign.pk]))
    assert _follow_messages(launcher_client, response) == ["1 failed message(s) queued again."]
    assert "Retry" not in launcher_client.get(detail).content.decode()


def test_retry_failed_reports_how_many(launcher_client):
    campaign = make_campaign("sms", state=CampaignState.DONE)
    campaign.messages.create(
        recipient="27821234567", state=MessageState.FAILED, error_retryable=True
    )
    page = launcher_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    assert b"Retry 1 failed" in page.content
    response = launcher_client.post(reverse("messaging:campaign_retry_failed", args=[campaign.pk]))
    assert _follow_messages(launcher_client, response) == ["1 failed message(s) queued again."]


def test_the_detail_page_counts_recipients_without_tests(launcher_client):
    campaign = make_campaign("sms")
    campaign.messages.create(recipient="27821234567", state=MessageState.DRAFT)
    campaign.messages.create(recipient="27821234568", state=MessageState.DRAFT)
    campaign.messages.create(recipient="27821234567", state=MessageState.QUEUED, is_test=True)
    page = launcher_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    assert page.context["recipients_count"] == 2
    counts = {value: count for value, _label, count in page.context["states"]}
    assert counts["draft"] == 2
    assert sum(counts.values()) == 2


def test_the_progress_endpoint_answers_live_counts(launcher_client):
    campaign = make_campaign("sms", state=CampaignState.SENDING)
    campaign.messages.create(recipient="27821234567", state=MessageState.QUEUED)
    campaign.messages.create(recipient="27821234568", state=MessageState.SUBMITTED)
    campaign.messages.create(recipient="27821234569", state=MessageState.FAILED)
    page = launcher_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    assert b"messaging/progress.js" in page.content
    assert b"data-poll=" in page.content
    data = launcher_client.get(reverse("messaging:campaign_progress", args=[campaign.pk])).json()
    assert data["state"] == "sending"
    assert data["settling"] is True
    assert (data["states"]["queued"], data["states"]["submitted"], data["states"]["failed"]) == (
        1,
        1,
        1,
    )


def test_the_progress_endpoint_needs_sign_in(client):
    campaign = make_campaign("sms", state=CampaignState.SENDING)
    response = client.get(reverse("messaging:campaign_progress", args=[campaign.pk]))
    assert response.status_code == 302


def test_a_done_campaign_keeps_refreshing_while_reports_are_due(launcher_client):
    campaign = make_campaign("sms", state=CampaignState.DONE)
    campaign.messages.create(recipient="27821234567", state=MessageState.SENT)
    page = launcher_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    assert b"data-poll=" in page.content
    campaign.messages.update(state=MessageState.DELIVERED)
    page = launcher_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    assert b"data-poll=" not in page.content
    data = launcher_client.get(reverse("messaging:campaign_progress", args=[campaign.pk])).json()
    assert data["settling"] is False


# --- roles and application grants -------------------------------------------------------------


ROLE_PAGES = {
    # page: (method, expected for a granted Viewer, for a granted Composer)
    "campaign_detail": ("get", 200, 200),
    "campaign_progress": ("get", 200, 200),
    "campaign_edit": ("get", 403, 200),
    "campaign_recipients": ("get", 403, 200),
    "campaign_launch": ("post", 403, 302),
    "campaign_pause": ("post", 403, 302),
}


@pytest.fixture
def granted_campaign(application):
    """Without messages, so that a launch on these pages is refused before anything is queued."""
    return make_campaign("sms", application=application)


@pytest.mark.parametrize("page", ROLE_PAGES)
@pytest.mark.parametrize(("role", "column"), [("Viewer", 1), ("Composer", 2)])
def test_each_role_may_do_what_its_role_allows(
    client, make_staff, application, granted_campaign, page, role, column
):
    client.force_login(make_staff("ann", role, applications=[application]))
    method = ROLE_PAGES[page][0]
    url = reverse(f"messaging:{page}", args=[granted_campaign.pk])

    assert getattr(client, method)(url, {"when": "now"}).status_code == ROLE_PAGES[page][column]


@pytest.mark.parametrize("page", ROLE_PAGES)
def test_staff_not_granted_the_application_get_no_page_and_no_data(
    client, make_staff, granted_campaign, page
):
    other = make_application("Other", token="other-token")
    client.force_login(make_staff("out", "Composer", applications=[other]))
    method = ROLE_PAGES[page][0]

    url = reverse(f"messaging:{page}", args=[granted_campaign.pk])
    response = getattr(client, method)(url, {"when": "now"})

    assert response.status_code == 404
    assert granted_campaign.name.encode() not in response.content
    granted_campaign.refresh_from_db()
    assert granted_campaign.state == CampaignState.DRAFT


def test_an_admin_sees_every_application_without_a_grant(client, make_staff, granted_campaign):
    client.force_login(make_staff("adm", "Admin"))
    url = reverse("messaging:campaign_detail", args=[granted_campaign.pk])

    assert client.get(url).status_code == 200


def test_a_composer_may_only_pick_a_granted_application(client, make_staff, application):
    other = make_application("Other", token="other-token")
    client.force_login(make_staff("ann", "Composer", applications=[application]))
    url = reverse("messaging:campaign_new", args=["sms"])

    page = client.get(url).content.decode()
    response = client.post(url, {**_common(other), "body_text": "Hello"})

    assert f'value="{application.pk}"' in page
    assert f'value="{other.pk}"' not in page
    assert "application" in response.context["form"].errors
    assert not Campaign.objects.exists()


# --- the campaign list ------------------------------------------------------------------------


def test_the_list_shows_only_granted_campaigns_with_their_figures(client, make_staff, application):
    ours = make_campaign("sms", name="Ours", application=application)
    for n, state in enumerate([MessageState.DELIVERED, MessageState.FAILED, MessageState.QUEUED]):
        ours.messages.create(recipient=f"2782000000{n}", state=state)
    make_campaign("sms", name="Theirs", application=make_application("Other", token="t-2"))
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    response = client.get(reverse("reports:campaign_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ours" in html and "Theirs" not in html
    assert "33.3%" in html  # delivered and failed, one of three each
    assert 'aria-label="2 of 3 messages past submission"' in html
    assert "Compose a campaign" not in html


def test_the_lists_application_filter_offers_only_granted_applications(
    client, make_staff, application
):
    other = make_application("Other", token="t-2")
    make_campaign("sms", name="Theirs", application=other)
    client.force_login(make_staff("ann", "Viewer", applications=[application]))
    url = reverse("reports:campaign_list")

    html = client.get(url).content.decode()
    crafted = client.get(url, {"application": other.pk}).content.decode()

    assert f'<option value="{application.pk}">' in html
    assert str(other) not in html and f'value="{other.pk}"' not in html
    assert "Theirs" not in crafted and str(other) not in crafted


def test_the_list_filters_and_shows_a_bad_filter_as_an_error(client, make_staff, application):
    make_campaign("sms", name="Spring", application=application)
    make_campaign("email", name="Autumn", application=application)
    client.force_login(make_staff("ann", "Composer", applications=[application]))
    url = reverse("reports:campaign_list")

    found = client.get(url, {"channel": "email", "created_from": "not a date"})

    html = found.content.decode()
    assert found.status_code == 200
    assert "Autumn" in html and "Spring" not in html
    assert "Enter a valid date." in html
    backwards = client.get(url, {"created_from": "2026-02-02", "created_to": "2026-02-01"})
    assert "before its start" in backwards.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("field", ["created_from", "created_to"])
def test_a_day_at_the_ends_of_the_calendar_is_a_filter_error_not_a_crash(
    client, make_staff, application, field, day
):
    make_campaign("sms", name="Spring", application=application)
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    response = client.get(reverse("reports:campaign_list"), {field: day})

    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Choose a day from 1900 to 9998." in html
    assert "Spring" in html  # the bad filter is left out


def test_the_list_pages_by_25_and_keeps_the_filters(client, make_staff, application):
    for n in range(30):
        make_campaign("sms", name=f"Campaign {n:02d}", application=application)
    client.force_login(make_staff("ann", "Viewer", applications=[application]))
    url = reverse("reports:campaign_list")

    first = client.get(url, {"channel": "sms"}).content.decode()
    second = client.get(url, {"channel": "sms", "page": "2"}).content.decode()
    beyond = client.get(url, {"page": "999"})

    listed = r">(Campaign \d\d)<"
    assert re.findall(listed, first) == [f"Campaign {n:02d}" for n in range(29, 4, -1)]
    assert re.findall(listed, second) == [f"Campaign {n:02d}" for n in range(4, -1, -1)]
    assert 'href="?channel=sms&amp;page=2"' in first
    assert beyond.status_code == 200


def test_the_list_needs_a_sign_in(client):
    response = client.get(reverse("reports:campaign_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
