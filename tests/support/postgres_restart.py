"""Stop the machine's PostgreSQL server and start it again, as a crash or a restart for an
upgrade would: every session is cut, and nothing connects while it is down.

Only for a server on this machine that pg_ctlcluster manages (Debian's postgresql-common, as
in CI, where the tests run as root). It stops the whole server, so every other user of it
sees the outage too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from django.db import connection, connections

CONFIG_DIR = Path("/etc/postgresql")


def _cluster() -> list[str] | None:
    """[version, "main"] of the only cluster, or None when there is no such one to restart."""
    if shutil.which("pg_ctlcluster") is None or not CONFIG_DIR.is_dir():
        return None
    versions = [path.name for path in CONFIG_DIR.iterdir() if (path / "main").is_dir()]
    return [versions[0], "main"] if len(versions) == 1 else None


def postgres_restart_unavailable() -> str:
    """Why this run cannot restart its database server, or "" when it can."""
    if connection.vendor != "postgresql":
        return "the tests run on SQLite, not PostgreSQL"
    if _cluster() is None:
        return "no single PostgreSQL cluster that pg_ctlcluster manages"
    if connection.settings_dict.get("HOST") not in ("", "localhost", "127.0.0.1", "::1"):
        return "the test database is not on this machine"
    if os.geteuid() != 0:
        return "pg_ctlcluster needs root"
    return ""


def _pg_ctlcluster(action: str, *extra: str, check: bool = True) -> None:
    subprocess.run(  # noqa: S603 - a fixed command on our own cluster
        ["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), action, *extra],  # noqa: S607
        check=check,
        capture_output=True,
        timeout=60,
    )


def postgres_stop() -> None:
    # Fast: sessions are cut at once rather than waited for, as in a crash.
    _pg_ctlcluster("stop", "-m", "fast")


def postgres_start() -> None:
    # Unchecked: it answers an error when the server is already running (a stop that failed),
    # and whether it is up is what the wait finds out.
    _pg_ctlcluster("start", check=False)
    wait_for_postgres()


def wait_for_postgres(timeout: float = 30.0) -> None:
    """Until this process can query again; its own sessions were cut, so they are dropped."""
    deadline = time.monotonic() + timeout
    while True:
        connections.close_all()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def postgres_down():
    """PostgreSQL stopped inside the block, and started again however the block ends."""
    connections.close_all()
    try:
        postgres_stop()
        yield
    finally:
        postgres_start()
