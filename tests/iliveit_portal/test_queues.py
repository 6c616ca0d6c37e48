"""The Celery queues' names: sending's, and postbacks' of its own beside it."""

from iliveit_portal.queues import celery_queues


def test_the_postbacks_queue_is_named_after_sendings_unless_named_itself():
    assert celery_queues({}) == ("portal", "portal-postbacks")
    assert celery_queues({"CELERY_QUEUE": "acme"}) == ("acme", "acme-postbacks")
    assert celery_queues({"CELERY_QUEUE": "acme", "CELERY_POSTBACKS_QUEUE": "applies"}) == (
        "acme",
        "applies",
    )
