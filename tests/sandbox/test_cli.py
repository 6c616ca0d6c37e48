"""Starting and stopping `python -m sandbox` the way the test fixture and `make run` do."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from tests.support.sandbox import REPO_ROOT, SandboxApp, SandboxProcess

APP = SandboxApp(token="cli-token", mvno_id=7, rate=10)


@pytest.fixture
def started():
    processes: list[SandboxProcess] = []

    def start(*extra: str, step_seconds: float = 0.05) -> SandboxProcess:
        process = SandboxProcess([APP], step_seconds=step_seconds, extra=extra)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.process.poll() is None:
            process.stop()


def test_every_flag_reaches_the_config(started) -> None:
    process = started(
        "--slow-seconds",
        "0.5",
        "--postback-retry-base",
        "0.1",
        "--duplicate-postbacks",
        "--reorder-postbacks",
        "--postback-senders",
        "2",
        "--error-rate",
        "0.1",
        "--slow-rate",
        "0.2",
        "--throttle-rate",
        "0.3",
        "--seed",
        "42",
        step_seconds=0.25,
    )

    assert process.control("GET", "config") == {
        "step_seconds": 0.25,
        "slow_seconds": 0.5,
        "postback_retry_base": 0.1,
        "duplicate_postbacks": True,
        "reorder_postbacks": True,
        "error_rate": 0.1,
        "slow_rate": 0.2,
        "throttle_rate": 0.3,
        "seed": 42,
    }


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(started, signum: signal.Signals) -> None:
    process = started()

    process.process.send_signal(signum)

    assert process.process.wait(timeout=5) == 0
    assert "stopping" in process.log_path.read_text()


def test_info_logs_the_address_and_apps_but_not_requests(started) -> None:
    process = started()
    headers = {"Authorization": f"Bearer {APP.token}"}
    requests.get(f"{process.url}/ping", headers=headers, timeout=5)

    process.stop()

    log = process.log_path.read_text()
    assert f"listening on {process.url}" in log
    assert "token=cli-token mvno=7" in log
    assert "GET /ping" not in log


def test_debug_logs_one_line_per_request(started) -> None:
    process = started("--log-level", "debug")
    headers = {"Authorization": f"Bearer {APP.token}"}
    requests.get(f"{process.url}/ping", headers=headers, timeout=5)

    process.stop()

    assert process.log_path.read_text().count("GET /ping") == 1


@pytest.mark.parametrize(
    "app", ["no-colons", "token:mvno:5", "token:7:fast", "token:0:5", "token:7:0", ":7:5"]
)
def test_a_bad_app_is_refused_at_start(app: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "sandbox", "--port", "0", "--app", app],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 2
    assert "--app" in result.stderr


@pytest.mark.parametrize(
    "flag",
    [
        ("--error-rate", "1.5"),
        ("--slow-rate", "-0.1"),
        ("--error-rate", "often"),
        ("--throttle-rate", "2"),
        ("--throttle-rate", "often"),
    ],
)
def test_a_rate_outside_0_to_1_is_refused_at_start(flag: tuple[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "sandbox", "--port", "0", "--app", "t:7:5", *flag],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 2
    assert flag[0] in result.stderr


def test_at_least_one_app_is_required() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 2
