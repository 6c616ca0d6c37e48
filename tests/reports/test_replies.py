"""reports.replies: the replies a user may see, searched, narrowed and paged newest first."""

import pytest

from postbacks.models import Reply, ReplyKind
from reports.replies import replies_filter, replies_page, replies_visible

pytestmark = pytest.mark.django_db


def add_reply(campaign, text, *, sender="27820000001", kind=ReplyKind.SMS, subject=""):
    message, _ = campaign.messages.get_or_create(recipient=sender)
    return Reply.objects.create(
        message=message, kind=kind, sender=sender, text=text, subject=subject, content_hash=text
    )


def test_a_user_sees_only_replies_to_the_applications_they_are_granted(
    make_campaign, viewer, other_application
):
    mine = add_reply(make_campaign(), "yes")
    add_reply(make_campaign(application=other_application), "not yours")
    assert list(replies_visible(viewer)) == [mine]


def test_an_admin_sees_every_applications_replies(make_campaign, admin_staff, other_application):
    add_reply(make_campaign(), "one")
    add_reply(make_campaign(application=other_application), "two")
    assert replies_visible(admin_staff).count() == 2


def test_a_keyword_matches_the_text_subject_or_sender_in_any_case(make_campaign, admin_staff):
    campaign = make_campaign()
    stop = add_reply(campaign, "please STOP sending", sender="27820000001")
    email = add_reply(
        campaign, "", sender="ann@example.com", kind=ReplyKind.EMAIL, subject="Wrong person"
    )
    add_reply(campaign, "thanks", sender="27820000002")
    everything = replies_visible(admin_staff)
    assert list(replies_filter(everything, text="stop")) == [stop]
    assert list(replies_filter(everything, text="wrong")) == [email]
    assert list(replies_filter(everything, text="ann@")) == [email]


def test_replies_narrow_to_an_application_or_a_campaign(
    make_campaign, admin_staff, application, other_application
):
    first, second = make_campaign(), make_campaign()
    elsewhere = make_campaign(application=other_application)
    in_first, in_second = add_reply(first, "a"), add_reply(second, "b")
    add_reply(elsewhere, "c")
    everything = replies_visible(admin_staff)
    assert set(replies_filter(everything, application=application)) == {in_first, in_second}
    assert list(replies_filter(everything, campaign=first)) == [in_first]


def test_pages_run_newest_first_and_end_with_no_next_page(make_campaign, admin_staff):
    campaign = make_campaign()
    replies = [add_reply(campaign, f"reply {n}") for n in range(5)]
    everything = replies_visible(admin_staff)

    first = replies_page(everything, size=2)
    second = replies_page(everything, before=first.next_before, size=2)
    last = replies_page(everything, before=second.next_before, size=2)

    newest_first = replies[::-1]
    assert first.replies == newest_first[:2]
    assert second.replies == newest_first[2:4]
    assert last.replies == newest_first[4:]
    assert last.next_before is None


def test_a_page_reads_a_few_rows_with_no_count_or_offset(
    make_campaign, admin_staff, django_assert_max_num_queries
):
    campaign = make_campaign()
    for n in range(3):
        add_reply(campaign, f"reply {n}")
    everything = replies_visible(admin_staff)
    with django_assert_max_num_queries(1) as queries:
        page = replies_page(everything, size=2)
        # The campaign and application each row names come with it.
        assert [reply.message.campaign.application.name for reply in page.replies]
    sql = queries.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql
    assert "LIMIT 3" in sql
