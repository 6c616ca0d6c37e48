"""The Redis that `make run`, `make test` and the benchmarks start when no REDIS_URL is set."""

import os
import time

import pytest
import redis

from iliveit_portal.embedded_redis import start_embedded_redis, stop_embedded_redis


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped child of this process lingers as a zombie until reaped; that is stopped too.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def wait_stopped(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def server(tmp_path):
    server, url = start_embedded_redis(tmp_path / "redis.db")
    yield server, url
    stop_embedded_redis(server)


def test_it_serves_the_url_it_answers(server):
    _, url = server
    client = redis.Redis.from_url(url)
    client.set("greeting", "hello")
    assert client.get("greeting") == b"hello"


def test_stopping_it_stops_the_server_while_others_are_still_connected(server):
    handle, url = server
    pid = handle.pid
    others = [redis.Redis.from_url(url) for _ in range(3)]
    for other in others:
        other.ping()

    stop_embedded_redis(handle)

    assert wait_stopped(pid)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()
