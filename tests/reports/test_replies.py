"""reports.replies: the replies a user may see, searched, narrowed and paged newest first."""

import pytest

from postbacks.models import Reply, ReplyKind
from reports.replies import replies_page, replies_search

pytestmark = pytest.mark.django_db


def add_reply(campaign, text, *, sender="27820000001", kind=ReplyKind.SMS, subject=""):
    message, _ = campaign.messages.get_or_create(recipient=sender)
    return Reply.objects.create(
        message=message, kind=kind, sender=sender, text=text, subject=subject, content_hash=text
    )


def found(user, **search) -> list[Reply]:
    return replies_page(replies_search(user, **search)).replies


def test_a_reply_keeps_its_messages_campaign_and_application(make_campaign, application):
    campaign = make_campaign()
    reply = add_reply(campaign, "yes")
    assert (reply.campaign, reply.application) == (campaign, application)


def test_a_user_sees_only_replies_to_the_applications_they_are_granted(
    make_campaign, viewer, other_application
):
    mine = add_reply(make_campaign(), "yes")
    add_reply(make_campaign(application=other_application), "not yours")
    assert found(viewer) == [mine]


def test_replies_of_several_granted_applications_merge_newest_first(
    make_campaign, make_staff, application, other_application
):
    both = make_staff("bea", "Viewer", applications=[application, other_application])
    replies = [
        add_reply(make_campaign(application=app), f"reply {n}")
        for n, app in enumerate([application, other_application, application, other_application])
    ]
    first = replies_page(replies_search(both), size=3)
    rest = replies_page(replies_search(both), before=first.next_before, size=3)
    assert first.replies + rest.replies == replies[::-1]
    assert rest.next_before is None


def test_a_user_with_no_grant_sees_no_replies(make_campaign, make_staff):
    add_reply(make_campaign(), "yes")
    assert found(make_staff("nobody", "Viewer")) == []


def test_an_admin_sees_every_applications_replies(make_campaign, admin_staff, other_application):
    add_reply(make_campaign(), "one")
    add_reply(make_campaign(application=other_application), "two")
    assert len(found(admin_staff)) == 2


def test_a_keyword_matches_the_text_subject_or_sender_in_any_case(make_campaign, viewer):
    campaign = make_campaign()
    stop = add_reply(campaign, "please STOP sending", sender="27820000001")
    email = add_reply(
        campaign, "", sender="ann@example.com", kind=ReplyKind.EMAIL, subject="Wrong person"
    )
    add_reply(campaign, "thanks", sender="27820000002")
    assert found(viewer, text="stop") == [stop]
    assert found(viewer, text="wrong") == [email]
    assert found(viewer, text="ann@") == [email]


def test_replies_narrow_to_an_application_or_a_campaign(
    make_campaign, admin_staff, application, other_application
):
    first, second = make_campaign(), make_campaign()
    elsewhere = make_campaign(application=other_application)
    in_first, in_second = add_reply(first, "a"), add_reply(second, "b")
    add_reply(elsewhere, "c")
    assert found(admin_staff, application=application) == [in_second, in_first]
    assert found(admin_staff, campaign=first) == [in_first]


def test_pages_run_newest_first_and_end_with_no_next_page(make_campaign, admin_staff):
    campaign = make_campaign()
    replies = [add_reply(campaign, f"reply {n}") for n in range(5)]
    search = replies_search(admin_staff)

    first = replies_page(search, size=2)
    second = replies_page(search, before=first.next_before, size=2)
    last = replies_page(search, before=second.next_before, size=2)

    newest_first = replies[::-1]
    assert first.replies == newest_first[:2]
    assert second.replies == newest_first[2:4]
    assert last.replies == newest_first[4:]
    assert last.next_before is None


def test_a_page_reads_a_few_rows_per_application_with_no_count_or_offset(
    make_campaign, make_staff, application, other_application, django_assert_max_num_queries
):
    both = make_staff("bea", "Viewer", applications=[application, other_application])
    for n in range(3):
        add_reply(make_campaign(), f"reply {n}")
    search = replies_search(both)
    with django_assert_max_num_queries(2) as queries:
        page = replies_page(search, size=2)
        # The campaign and application each row names come with it.
        assert [reply.campaign.application.name for reply in page.replies]
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        assert "OFFSET" not in sql and "COUNT(" not in sql
        assert "LIMIT 3" in sql
