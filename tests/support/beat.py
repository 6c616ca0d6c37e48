"""A real `celery beat` in its own process, sending the periodic tasks of
settings.CELERY_BEAT_SCHEDULE to the test's queue."""

from __future__ import annotations

from pathlib import Path

from tests.support.celery_process import CeleryProcess


class CeleryBeat(CeleryProcess):
    def __init__(self, *, queue: str, env: dict[str, str], schedule: Path) -> None:
        # The schedule file is what beat remembers across a restart (when each task last
        # ran), so a test that restarts beat passes the same one again.
        super().__init__(
            args=["beat", "--loglevel", "info", "--schedule", str(schedule)],
            queue=queue,
            env=env,
            log_name=f"beat-{queue}",
        )
        # Until this beat has sent its first sweep.
        self.wait_for_log(b"Sending due task sweep", what="beat sent no sweep")
