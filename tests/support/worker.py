"""A real Celery worker in its own process, pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection

from messaging.ratelimit import redis_client
from postbacks.tasks import drain_key
from tests.support.sandbox import REPO_ROOT


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


class CeleryWorker:
    def __init__(self, *, queue: str, env: dict[str, str], concurrency: int = 4, name: str = "w"):
        # A drain an earlier test queued (its flag still set, its task purged or long done)
        # would keep this worker from being asked to apply the postbacks of this test.
        redis_client().delete(*(drain_key(slot) for slot in range(settings.POSTBACK_DRAINS)))
        self.log_path = REPO_ROOT / "var" / f"worker-{queue}-{name}-{os.getpid()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own worker command
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "iliveit_portal",
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
                queue,
                "--hostname",
                f"{name}-{queue}@%h",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env, "CELERY_QUEUE": queue},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited; see {self.log_path}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """Kill the whole worker, children too, the way a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
