"""A real Celery worker in its own process, pointed at the test database."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from iliveit_portal.redis_client import redis_client
from postbacks.drain_slots import drain_key
from tests.support.celery_process import CeleryProcess


def database_url_for_workers() -> str:
    """The URL of the database pytest-django created, for processes outside this one."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


class CeleryWorker(CeleryProcess):
    """A worker of `queue` and, unless `postbacks` is False, of the postbacks queue too, as
    one machine's two workers would serve them between them."""

    def __init__(
        self,
        *,
        queue: str,
        env: dict[str, str],
        concurrency: int = 4,
        name: str = "w",
        postbacks: bool = True,
    ):
        # A drain an earlier test queued (its flag still set, its task purged or long done)
        # would keep this worker from being asked to apply the postbacks of this test.
        redis_client().delete(*(drain_key(slot) for slot in range(settings.POSTBACK_DRAINS)))
        super().__init__(
            args=[
                "worker",
                "--loglevel",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--without-mingle",
                "--without-gossip",
                "--queues",
                f"{queue},{settings.CELERY_POSTBACKS_QUEUE}" if postbacks else queue,
                "--hostname",
                f"{name}-{queue}@%h",
            ],
            queue=queue,
            # Named, not derived from its own queue's name: drains this worker queues must go
            # where this worker (and the test's own webhook) look for them.
            env={**env, "CELERY_POSTBACKS_QUEUE": settings.CELERY_POSTBACKS_QUEUE},
            log_name=f"worker-{queue}-{name}",
        )
        self.wait_for_log(b" ready.", what="worker not ready")
