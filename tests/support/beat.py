"""A real `celery beat` in its own process, sending the periodic tasks of
settings.CELERY_BEAT_SCHEDULE to the test's queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.sandbox import REPO_ROOT


class CeleryBeat:
    def __init__(self, *, queue: str, env: dict[str, str], schedule: Path) -> None:
        # The schedule file is what beat remembers across a restart (when each task last
        # ran), so a test that restarts beat passes the same one again.
        self.log_path = REPO_ROOT / "var" / f"beat-{queue}-{os.getpid()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._start_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603 - our own beat command
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "iliveit_portal",
                "beat",
                "--loglevel",
                "info",
                "--schedule",
                str(schedule),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env, "CELERY_QUEUE": queue},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_sending()

    def _wait_sending(self, timeout: float = 30.0) -> None:
        """Until this beat has sent its first sweep."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"beat exited; see {self.log_path}")
            with self.log_path.open("rb") as log:
                log.seek(self._start_offset)
                if b"Sending due task sweep" in log.read():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"beat sent no sweep in {timeout}s; see {self.log_path}")

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
