"""The replies inbox and a campaign's replies page, through the test client."""

import pytest
from django.urls import reverse

from postbacks.models import Reply, ReplyKind

pytestmark = pytest.mark.django_db


def add_reply(campaign, text, *, sender="27820000001"):
    message, _ = campaign.messages.get_or_create(recipient=sender)
    return Reply.objects.create(
        message=message, kind=ReplyKind.SMS, sender=sender, text=text, content_hash=text
    )


def test_the_inbox_lists_replies_of_granted_applications_only(
    viewer_client, make_campaign, other_application
):
    add_reply(make_campaign(name="Spring sale"), "Yes please")
    add_reply(make_campaign(application=other_application, name="Hidden"), "secret answer")

    page = viewer_client.get(reverse("replies:inbox")).content.decode()

    assert "Yes please" in page and "Spring sale" in page
    assert "secret answer" not in page and "Hidden" not in page


def test_the_inbox_filters_by_keyword_and_application(
    client, admin_staff, make_campaign, application, other_application
):
    client.force_login(admin_staff)
    add_reply(make_campaign(), "STOP")
    add_reply(make_campaign(), "thank you")
    add_reply(make_campaign(application=other_application), "stop it")

    by_word = client.get(reverse("replies:inbox"), {"q": "stop"}).content.decode()
    both = client.get(
        reverse("replies:inbox"), {"q": "stop", "application": application.pk}
    ).content.decode()

    assert "STOP" in by_word and "stop it" in by_word and "thank you" not in by_word
    assert "STOP" in both and "stop it" not in both


def test_an_unknown_application_is_a_form_error_not_a_crash(viewer_client, other_application):
    response = viewer_client.get(reverse("replies:inbox"), {"application": other_application.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_inbox_pages_with_an_older_replies_link(viewer_client, make_campaign):
    campaign = make_campaign()
    for n in range(51):
        add_reply(campaign, f"reply number {n:02d}")

    first = viewer_client.get(reverse("replies:inbox"))
    link = first.context["next_before"]
    second = viewer_client.get(reverse("replies:inbox"), {"before": link})

    assert "reply number 50" in first.content.decode()
    assert "reply number 00" not in first.content.decode()
    assert "Older replies" in first.content.decode()
    assert [reply.text for reply in second.context["replies"]] == ["reply number 00"]


def test_a_campaigns_replies_page_shows_its_own_replies(viewer_client, make_campaign):
    campaign = make_campaign(name="Spring sale")
    add_reply(campaign, "mine")
    add_reply(make_campaign(), "another campaign's")

    response = viewer_client.get(reverse("reports:campaign_replies", args=[campaign.pk]))

    page = response.content.decode()
    assert "mine" in page and "another campaign&#x27;s" not in page
    assert 'name="application"' not in page  # the campaign names its application


def test_another_applications_campaign_replies_are_404(
    viewer_client, make_campaign, other_application
):
    campaign = make_campaign(application=other_application)
    response = viewer_client.get(reverse("reports:campaign_replies", args=[campaign.pk]))
    assert response.status_code == 404


def test_without_the_right_to_read_replies_the_pages_are_403(client, make_staff, application):
    from django.contrib.auth.models import Permission

    user = make_staff("nora", applications=[application])
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(user)
    assert client.get(reverse("replies:inbox")).status_code == 403
    assert "Replies" not in client.get(reverse("reports:campaign_list")).content.decode()


def test_the_nav_and_the_campaign_page_link_to_the_replies(viewer_client, make_campaign):
    campaign = make_campaign()
    page = viewer_client.get(reverse("messaging:campaign_detail", args=[campaign.pk]))
    html = page.content.decode()
    assert reverse("replies:inbox") in html
    assert reverse("reports:campaign_replies", args=[campaign.pk]) in html
