"""`make run` end to end: the launcher brings up web, worker, beat and the sandbox on the
embedded defaults, and stops them all again."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.sandbox import REPO_ROOT, free_port


def wait_for_http(url: str, timeout: float = 60.0, **kwargs) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=2, **kwargs)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.slow
def test_make_run_starts_the_portal_with_the_sandbox_and_stops_cleanly(tmp_path):
    web_port, sandbox_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "ILIVEIT_", "DEBUG", "SECRET_KEY"))
    }
    env.update(PORT=str(web_port), SANDBOX_PORT=str(sandbox_port), PORTAL_VAR_DIR=str(tmp_path))
    log = (tmp_path / "devstack.log").open("w+")
    stack = subprocess.Popen(
        [sys.executable, "-m", "iliveit_portal.devstack"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        login = wait_for_http(f"http://127.0.0.1:{web_port}/admin/login/")
        assert login.status_code == 200
        pong = wait_for_http(
            f"http://127.0.0.1:{sandbox_port}/ping",
            headers={"Authorization": "Bearer sandbox-token"},
        )
        assert pong.json() == {"Body": "Pong!"}

        session = requests.Session()
        session.get(f"http://127.0.0.1:{web_port}/admin/login/", timeout=5)
        signed_in = session.post(
            f"http://127.0.0.1:{web_port}/admin/login/",
            data={
                "username": "admin",
                "password": "admin",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=5,
        )
        # Signed in, the portal opens on its front page, with the campaigns on it.
        assert signed_in.url == f"http://127.0.0.1:{web_port}/", "the demo admin login should work"
        assert "Overview" in signed_in.text
        assert "Campaigns" in signed_in.text

        deadline = time.monotonic() + 30
        while "celery@" not in (tmp_path / "devstack.log").read_text():
            assert time.monotonic() < deadline, "the Celery worker never reported ready"
            time.sleep(0.2)
        output = (tmp_path / "devstack.log").read_text()
        assert f"http://127.0.0.1:{web_port}/" in output
        assert "admin / admin" in output
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)
        log.close()
    assert stack.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{web_port}/admin/login/", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{sandbox_port}/ping", timeout=2)
