"""`make run` end to end: the launcher brings up web, worker, beat and the sandbox on the
embedded defaults, leaves its settings where manage.py finds them so that the README's commands
reach it from a second terminal, and stops them all again."""

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from iliveit_portal.devstack import devstack_env_load, devstack_env_write
from tests.support.sandbox import REPO_ROOT, free_port

BANNER_LOGIN = "Sign in:         admin / admin"


def wait_for_http(url: str, timeout: float = 60.0, **kwargs) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=2, **kwargs)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def _clean_environment(var_dir: Path) -> dict[str, str]:
    """A terminal of someone who has only cloned the repository: none of the test run's
    settings, except where var/ is (a directory of this test's own)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_", "REDIS_", "ILIVEIT_", "DEBUG", "SECRET_KEY", "PORTAL_", "CELERY_")
        )
    }
    env["PORTAL_VAR_DIR"] = str(var_dir)
    return env


@contextlib.contextmanager
def dev_stack(var_dir: Path):
    """`make run` (python -m iliveit_portal.devstack) on free ports; stopped with SIGTERM
    as Ctrl-C would. Yields (web URL, sandbox port, the log's path, the process)."""
    web_port, sandbox_port = free_port(), free_port()
    env = {**_clean_environment(var_dir), "PORT": str(web_port), "SANDBOX_PORT": str(sandbox_port)}
    log_path = var_dir / "devstack.log"
    with log_path.open("w+") as log:
        stack = subprocess.Popen(
            [sys.executable, "-m", "iliveit_portal.devstack"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{web_port}", sandbox_port, log_path, stack
        finally:
            if stack.poll() is None:
                stack.send_signal(signal.SIGTERM)
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.kill()
                stack.wait()


def wait_for_log(log_path: Path, predicate, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        output = log_path.read_text()
        if predicate(output):
            return output
        assert time.monotonic() < deadline, f"not seen in the log within {timeout}s:\n{output}"
        time.sleep(0.2)


def readme_commands() -> list[list[str]]:
    """The README's command-line example block, as written (comments dropped)."""
    readme = (REPO_ROOT / "README.md").read_text()
    block = next(
        block
        for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
        if "manage.py sendmessage" in block
    )
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def run(args: list[str], env: dict[str, str]) -> str:
    if args[0] == ".venv/bin/python" and not (REPO_ROOT / args[0]).exists():
        args = [sys.executable, *args[1:]]  # a checkout tested from another environment
    result = subprocess.run(  # noqa: S603 - the README's own commands
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, f"{shlex.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_make_run_starts_the_portal_with_the_sandbox_and_stops_cleanly(tmp_path):
    with dev_stack(tmp_path) as (web, sandbox_port, log_path, stack):
        login = wait_for_http(f"{web}/login/")
        assert login.status_code == 200
        pong = wait_for_http(
            f"http://127.0.0.1:{sandbox_port}/ping",
            headers={"Authorization": "Bearer sandbox-token"},
        )
        assert pong.json() == {"Body": "Pong!"}

        session = requests.Session()
        session.get(f"{web}/login/", timeout=5)
        signed_in = session.post(
            f"{web}/login/",
            data={
                "username": "admin",
                "password": "admin",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=5,
        )
        # Signed in, the portal opens on its front page, with a way to sign out.
        assert signed_in.url == f"{web}/", "the demo admin login should work"
        assert "Sign out admin" in signed_in.text
        assert "Overview" in signed_in.text

        # The banner again once everything answers, below the start-up logs.
        output = wait_for_log(log_path, lambda text: text.count(BANNER_LOGIN) == 2)
        assert output.rindex(BANNER_LOGIN) > output.index(" ready.")
        assert f"{web}/" in output[output.rindex(BANNER_LOGIN) - 200 :]
        assert (tmp_path / "devstack.env").exists()
    assert stack.returncode == 0
    assert not (tmp_path / "devstack.env").exists(), "the stack's settings outlived it"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{web}/login/", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{sandbox_port}/ping", timeout=2)


@pytest.mark.slow
def test_the_readmes_commands_reach_the_running_stack(tmp_path):
    """In a second terminal, with nothing exported: `--wait` needs the stack's database and
    its embedded Redis (the worker submits), `--inline` its web port (iLiveIt's postbacks)."""
    sms, email, status = readme_commands()
    env = _clean_environment(tmp_path)
    with dev_stack(tmp_path) as (_web, _, log_path, _):
        wait_for_log(log_path, lambda text: text.count(BANNER_LOGIN) == 2)

        sms_id, sms_message_id = run(sms, env).split()
        email_id, email_message_id = run(email, env).split()

        status[status.index("42")] = sms_id
        document = json.loads(run(status, env))
        assert (document["id"], document["message_id"]) == (int(sms_id), sms_message_id)
        assert document["recipient"] == "27821234567"
        # The sandbox's postbacks reach the stack's web server at PORTAL_BASE_URL: the
        # inline email is delivered in a few of the sandbox's 2-second steps.
        status[status.index(sms_id)] = email_message_id
        deadline = time.monotonic() + 45
        while (document := json.loads(run(status, env)))["state"] != "delivered":
            assert time.monotonic() < deadline, document
            time.sleep(1)
        assert document["id"] == int(email_id)


def test_a_settings_file_left_by_a_stack_that_is_gone_is_ignored(tmp_path):
    path = tmp_path / "devstack.env"
    devstack_env_write({"REDIS_URL": "unix:///tmp/x.sock?db=0", "DEBUG": "1"}, path=path)
    environ = {"DEBUG": "0"}
    assert devstack_env_load(environ, path=path)
    # What the shell sets wins over the file.
    assert environ == {"DEBUG": "0", "REDIS_URL": "unix:///tmp/x.sock?db=0"}
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    text = path.read_text().replace(f"DEVSTACK_PID={os.getpid()}", "DEVSTACK_PID=999999999")
    path.write_text(text)
    environ = {}
    assert not devstack_env_load(environ, path=path)
    assert environ == {}
