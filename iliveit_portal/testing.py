"""A pytest plugin (`-p iliveit_portal.testing` in pyproject) that prepares the environment
before pytest-django loads the settings.

Tests use DATABASE_URL and REDIS_URL when they are set (CI sets both to real PostgreSQL and
Redis). Without REDIS_URL an embedded Redis is started, so `make test` needs no services.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# Live servers and the test client speak plain HTTP; tests/iliveit_portal/test_security.py
# checks the HTTPS settings themselves.
os.environ.setdefault("HTTPS", "0")
# The test sandbox listens on plain http on 127.0.0.1, as under `make run`; without DEBUG that
# endpoint would be refused. The allowed hosts keep their default (ILIVEIT_ENDPOINT's host).
os.environ.setdefault("ILIVEIT_ALLOW_LOOPBACK_HTTP", "1")
# The live server's threads would otherwise keep PostgreSQL sessions open past the test
# database's teardown.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
# DEBUG is off in tests, which would mean JSON logs; people read test output.
os.environ.setdefault("LOG_FORMAT", "plain")
# Each test run gets its own Celery queue, so tasks left by another run never reach its workers.
os.environ.setdefault("CELERY_QUEUE", f"portal-test-{os.getpid()}")
# And its own cache keys (throttle counters), for the same reason.
os.environ.setdefault("CACHE_KEY_PREFIX", f"portal-test-{os.getpid()}")
# Each pytest-xdist worker is a run of its own, with its own test database: a Celery worker
# started by one must never take another's tasks (their message ids would name other rows).
if _xdist_worker := os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("CELERY_QUEUE", "CACHE_KEY_PREFIX"):
        if not os.environ[_name].endswith(f"-{_xdist_worker}"):
            os.environ[_name] += f"-{_xdist_worker}"
os.environ.setdefault(
    "PORTAL_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

_embedded_redis = None
if not os.environ.get("REDIS_URL"):
    from iliveit_portal.embedded_redis import start_embedded_redis

    _embedded_redis, os.environ["REDIS_URL"] = start_embedded_redis(
        Path(tempfile.mkdtemp(prefix="portal-test-redis-")) / "redis.db"
    )


def pytest_unconfigure(config) -> None:
    if _embedded_redis is not None:
        from iliveit_portal.embedded_redis import stop_embedded_redis

        stop_embedded_redis(_embedded_redis)
