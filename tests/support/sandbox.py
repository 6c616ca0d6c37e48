"""Start the iLiveIt sandbox as its own server process, the way other tools start it, and
read its control routes (`/_sandbox/...`) from tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class SandboxApp:
    token: str
    mvno_id: int
    rate: int


class SandboxProcess:
    def __init__(self, apps: list[SandboxApp], *, step_seconds: float = 0.05, extra=()):
        self.apps = apps
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = REPO_ROOT / "var" / f"sandbox-test-{self.port}.log"
        args = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(self.port)]
        for app in apps:
            args += ["--app", f"{app.token}:{app.mvno_id}:{app.rate}"]
        args += ["--step-seconds", str(step_seconds), *extra]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            args, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
        self._http = requests.Session()
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited early; see {self.log_path}")
            try:
                if self._http.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"sandbox did not start within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()

    # --- control routes -------------------------------------------------------------------------
    def control(self, method: str, route: str, **kwargs) -> dict:
        response = self._http.request(method, f"{self.url}/_sandbox/{route}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def configure(self, **switches) -> dict:
        return self.control("POST", "config", json=switches)

    def message(self, message_id: str) -> dict:
        return self.control("GET", f"messages/{message_id}")

    def submissions(self) -> dict:
        return self.control("GET", "submissions")

    def postbacks(self) -> list[dict]:
        return self.control("GET", "postbacks")["postbacks"]

    def postback_attempts(self) -> list[dict]:
        """Every postback attempt since the last reset, oldest first: message_id,
        postback_type, status (None when no answer came) and ms, the time it took."""
        answer = self.control("GET", "postback-attempts")
        return [dict(zip(answer["fields"], row, strict=True)) for row in answer["attempts"]]

    def stats(self) -> dict:
        return self.control("GET", "stats")
