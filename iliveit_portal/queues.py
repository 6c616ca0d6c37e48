"""The Celery queues' names, for the settings and for `make run`, which starts a worker per
queue: sending's (CELERY_QUEUE) and applying postbacks' (CELERY_POSTBACKS_QUEUE), which must
never wait behind sending's backlog."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_QUEUE = "portal"


def celery_queues(environ: Mapping[str, str]) -> tuple[str, str]:
    """(sending's queue, postbacks' queue) as the environment names them."""
    default = environ.get("CELERY_QUEUE") or DEFAULT_QUEUE
    return default, environ.get("CELERY_POSTBACKS_QUEUE") or f"{default}-postbacks"
