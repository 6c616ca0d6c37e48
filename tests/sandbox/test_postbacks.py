"""Status postbacks and replies delivered to a real HTTP receiver: content, order, retries and
the duplicate and reorder switches."""

from __future__ import annotations

import base64
import email
import itertools
import time

from tests.sandbox import payloads
from tests.sandbox.conftest import Api, delivered_postbacks, wait_until
from tests.sandbox.test_server import STATUS_KEYS
from tests.support.receiver import PostbackReceiver
from tests.support.sandbox import free_port

ORDINARY_POSTBACKS = [
    ("submit", "submit_status", 1),
    ("archive", "archive_status", 4),
    ("submit", "submit_status", 2),
    ("sent", "sent_status", 1),
    ("delivery", "delivered_status", 1),
]


def summary(receiver: PostbackReceiver, path: str) -> list[tuple[str, str, int]]:
    """(postback_type, the stage field that changed, its new code) per accepted postback."""
    field_of = {
        "build": "build_status",
        "submit": "submit_status",
        "archive": "archive_status",
        "sent": "sent_status",
        "delivery": "delivered_status",
    }
    result = []
    for post in receiver.accepted(path):
        body = post.json()
        field = field_of[body["postback_type"]]
        result.append((body["postback_type"], field, body[field]))
    return result


def test_a_video_with_after_build_mms_posts_all_five_types(
    api: Api, postback_receiver: PostbackReceiver
) -> None:
    url = postback_receiver.url("/status/video-1")
    message_id = api.submit(
        "generate/video",
        payloads.video(PostbackStatusUrl=url, PostbackStatusTypes=payloads.ALL_TYPES),
    )

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 7)

    assert summary(postback_receiver, "/status/video-1") == [
        ("build", "build_status", 13),
        ("build", "build_status", 14),
        *ORDINARY_POSTBACKS,
    ]
    for post in postback_receiver.accepted():
        assert post.headers["Content-Type"] == "application/json"
        assert set(post.json()) == STATUS_KEYS | {"postback_type"}
        assert post.json()["message_id"] == message_id


def test_each_postback_carries_the_status_at_that_change(
    api: Api, postback_receiver: PostbackReceiver
) -> None:
    url = postback_receiver.url()
    api.send(payloads.sms(PostbackStatusUrl=url, PostbackStatusTypes="archive,delivery"))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 2)

    archive, delivery = (post.json() for post in postback_receiver.accepted())
    assert archive["postback_type"] == "archive"
    assert (archive["archive_status"], archive["sent_status"]) == (4, 0)
    assert archive["sent_timestamp"] == "0001-01-01T00:00:00Z"
    assert delivery["postback_type"] == "delivery"
    assert (delivery["sent_status"], delivery["delivered_status"]) == (1, 1)
    assert delivery["delivered_status_description"] == "Delivered"


def test_only_the_requested_types_are_posted(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    message_id = api.send(
        payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="sent")
    )
    api.wait_until_settled(message_id)

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)
    time.sleep(0.1)

    assert summary(postback_receiver, "/postback") == [("sent", "sent_status", 1)]


def test_without_a_url_or_types_nothing_is_posted(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    api.wait_until_settled(api.send(payloads.sms(PostbackStatusTypes=payloads.ALL_TYPES)))
    api.wait_until_settled(api.send(payloads.sms(PostbackStatusUrl=postback_receiver.url())))

    assert sandbox.postbacks() == []
    assert postback_receiver.posts == []


def test_a_postback_is_retried_until_the_receiver_answers_200(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(postback_retry_base=0.02)
    postback_receiver.fail_next(3, status=503)
    api.send(payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="sent"))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)

    posts = postback_receiver.posts
    assert [post.answered for post in posts] == [503, 503, 503, 200]
    assert [post.body for post in posts[1:]] == [posts[0].body] * 3
    waits = [later.at - earlier.at for earlier, later in itertools.pairwise(posts)]
    assert waits[0] >= 0.015 and waits[1] >= 0.035 and waits[2] >= 0.075  # doubling back-off
    [entry] = delivered_postbacks(sandbox, 1)
    assert (entry["attempts"], entry["last_http_status"], entry["delivered"]) == (4, 200, True)
    stats = sandbox.stats()
    assert (stats["postback_attempts"], stats["postbacks_delivered"]) == (4, 1)


def test_every_attempt_is_logged_with_its_status_and_duration(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(postback_retry_base=0.02)
    postback_receiver.fail_next(2, status=503)
    message_id = api.send(
        payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="sent")
    )
    delivered_postbacks(sandbox, 1)

    attempts = sandbox.postback_attempts()

    assert [(a["message_id"], a["postback_type"], a["status"]) for a in attempts] == [
        (message_id, "sent", 503),
        (message_id, "sent", 503),
        (message_id, "sent", 200),
    ]
    assert all(0 < attempt["ms"] < 5000 for attempt in attempts)
    sandbox.reset()
    assert sandbox.postback_attempts() == []


def test_any_answer_but_200_is_a_failure(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(postback_retry_base=0.02)
    postback_receiver.fail_next(1, status=204)
    api.send(payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="sent"))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)

    assert [post.answered for post in postback_receiver.posts] == [204, 200]


def test_an_unreachable_receiver_is_retried_without_a_status(sandbox, api: Api) -> None:
    sandbox.configure(postback_retry_base=0.02)
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    api.send(payloads.sms(PostbackStatusUrl=url, PostbackStatusTypes="submit"))

    wait_until(sandbox.postbacks, lambda p: len(p) == 2 and p[0]["attempts"] >= 3)

    first = sandbox.postbacks()[0]
    assert first["url"] == url
    assert first["last_http_status"] is None
    assert first["delivered"] is False


def test_reset_stops_pending_retries(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(postback_retry_base=0.02)
    postback_receiver.fail_next(10_000)
    api.send(payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="submit"))
    postback_receiver.wait_for(lambda r: len(r.posts) >= 3)

    sandbox.reset()
    time.sleep(0.05)  # one in flight during the reset may still land
    seen = len(postback_receiver.posts)
    time.sleep(0.3)

    assert len(postback_receiver.posts) == seen
    assert sandbox.postbacks() == []


def test_postback_log_entries_describe_each_delivery(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    url = postback_receiver.url("/status/log")
    message_id = api.send(payloads.sms(PostbackStatusUrl=url, PostbackStatusTypes="delivery"))
    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)

    [entry] = delivered_postbacks(sandbox, 1)

    assert entry == {
        "message_id": message_id,
        "postback_type": "delivery",
        "url": url,
        "attempts": 1,
        "last_http_status": 200,
        "delivered": True,
        "body": postback_receiver.accepted()[0].json(),
    }


def test_duplicate_switch_delivers_every_postback_twice(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(duplicate_postbacks=True)
    api.send(
        payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="submit,sent")
    )

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 6)

    bodies = [post.body for post in postback_receiver.accepted()]
    assert len(set(bodies)) == 3
    assert all(bodies.count(body) == 2 for body in bodies)
    assert len(delivered_postbacks(sandbox, 6)) == 6


def test_reorder_switch_holds_postbacks_then_sends_them_newest_first(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(reorder_postbacks=True, step_seconds=0.1)
    message_id = api.send(
        payloads.sms(
            PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes=payloads.ALL_TYPES
        )
    )

    api.wait_for_status(message_id, lambda s: s["sent_status"] == 1)
    assert postback_receiver.posts == []  # held while the lifecycle runs
    postback_receiver.wait_for(lambda r: len(r.accepted()) == 5)

    assert summary(postback_receiver, "/postback") == list(reversed(ORDINARY_POSTBACKS))


def test_switches_apply_to_messages_accepted_after_the_change(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    body = payloads.sms(PostbackStatusUrl=postback_receiver.url(), PostbackStatusTypes="sent")
    api.wait_until_settled(api.send(body))
    sandbox.configure(duplicate_postbacks=True)
    api.wait_until_settled(api.send(body))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 3)
    time.sleep(0.1)

    assert len(postback_receiver.accepted()) == 3


# --- replies ------------------------------------------------------------------------------------


def test_reply_injection_posts_an_sms_reply(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    body = payloads.sms(PostbackReplyUrl=postback_receiver.url("/reply"))
    body["Data"]["extra_digits"] = "12"
    message_id = api.send(body)

    sandbox.control("POST", f"messages/{message_id}/reply", json={"text": "YES please"})

    postback_receiver.wait_for(lambda r: len(r.accepted("/reply")) == 1)
    assert postback_receiver.accepted("/reply")[0].json() == {
        "MessageId": message_id,
        "SourceMSISDN": payloads.MSISDN,
        "DestinationMSISDN": "4000112",
        "Message": "YES please",
        "ExtraDigits": "12",
        "RetryCount": 0,
    }
    assert sandbox.postbacks()[0]["postback_type"] == "reply"


def test_reply_injection_posts_an_email_reply_with_the_raw_email(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    message_id = api.send(payloads.email(PostbackReplyUrl=postback_receiver.url("/reply")))

    sandbox.control("POST", f"messages/{message_id}/reply", json={"text": "Thanks!"})

    postback_receiver.wait_for(lambda r: len(r.accepted("/reply")) == 1)
    reply = postback_receiver.accepted("/reply")[0].json()
    assert set(reply) == {"message_id", "address", "content", "RetryCount"}
    assert (reply["message_id"], reply["address"]) == (message_id, payloads.EMAIL)
    raw = email.message_from_bytes(base64.b64decode(reply["content"]))
    assert raw["From"] == payloads.EMAIL
    assert raw["Subject"] == "Re: Hello"
    assert raw.get_payload().strip() == "Thanks!"


def test_a_retried_reply_counts_its_retries(
    sandbox, api: Api, postback_receiver: PostbackReceiver
) -> None:
    sandbox.configure(postback_retry_base=0.02)
    message_id = api.send(payloads.sms(PostbackReplyUrl=postback_receiver.url("/reply")))
    postback_receiver.fail_next(2)

    sandbox.control("POST", f"messages/{message_id}/reply", json={"text": "NO"})

    postback_receiver.wait_for(lambda r: len(r.accepted("/reply")) == 1)
    assert [post.json()["RetryCount"] for post in postback_receiver.posts] == [0, 1, 2]


def test_reply_injection_needs_a_reply_url_and_text(sandbox, api: Api) -> None:
    message_id = api.send(payloads.sms())
    url = f"{sandbox.url}/_sandbox/messages/{message_id}/reply"

    without_url = api.http.post(url, json={"text": "hi"}, timeout=5)
    unknown = api.http.post(f"{sandbox.url}/_sandbox/messages/nope/reply", json={}, timeout=5)

    assert without_url.status_code == 400
    assert without_url.json() == {"Error": "PostbackReplyUrl: the message has none"}
    assert unknown.status_code == 404
