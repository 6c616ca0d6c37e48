"""A `celery` command (a worker or beat) in its own process group, logging to a file under
var/, so that a test can wait for a line in its log and stop it with everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.support.sandbox import REPO_ROOT


class CeleryProcess:
    def __init__(self, *, args: list[str], queue: str, env: dict[str, str], log_name: str):
        self.log_path = REPO_ROOT / "var" / f"{log_name}-{os.getpid()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._start_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603 - our own celery command
            [sys.executable, "-m", "celery", "-A", "iliveit_portal", *args],
            cwd=REPO_ROOT,
            env={**os.environ, **env, "CELERY_QUEUE": queue},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for_log(self, text: bytes, *, what: str, timeout: float = 30.0) -> None:
        """Until `text` appears in what this process has logged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery exited; see {self.log_path}")
            with self.log_path.open("rb") as log:
                log.seek(self._start_offset)
                if text in log.read():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{what} in {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """Kill the whole process group, children too, the way a lost machine would."""
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
