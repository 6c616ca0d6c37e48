"""What the benchmarks share: a throwaway database on DATABASE_URL's server."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def throwaway_database(tmp: Path, prefix: str) -> tuple[str, Callable[[], None]]:
    """A new database on DATABASE_URL's PostgreSQL server (or a SQLite file under tmp without
    one) and the function that drops it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / f'{prefix}.sqlite3'}", lambda: None
    import psycopg

    parts = urlsplit(url)
    name = f"{prefix}_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def django_for_bench(tmp: Path, database_url: str, **environment: str) -> None:
    """Point this process (and the processes it starts) at the benchmark's database with
    production-like settings, migrate it, and set Django up."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: S106
        ALLOWED_HOSTS="127.0.0.1,testserver",
        PORTAL_VAR_DIR=str(tmp),
        LOG_LEVEL="warning",
        # Plain HTTP on loopback, as behind a TLS proxy: production without the redirect.
        HTTPS="0",
        # The sandbox is on loopback and speaks plain http (messaging/endpoints.py).
        ILIVEIT_ALLOW_LOOPBACK_HTTP="1",
        **environment,
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(repo / "manage.py"), "migrate", "-v0"], check=True, cwd=repo
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "iliveit_portal.settings"
    import django

    django.setup()
