"""One REDIS_URL serves both redis-py (rate limiter) and Celery's broker.

redis-py spells a unix socket `unix:///path?db=N`; kombu wants `redis+socket:///path`. The
embedded development Redis listens on a unix socket, so the broker URL is derived here.
"""

from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured


def celery_broker_url(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    if parts.scheme in ("redis", "rediss"):
        return redis_url
    if parts.scheme == "unix":
        db = parse_qs(parts.query).get("db", ["0"])[0]
        return f"redis+socket://{parts.path}?virtual_host={db}"
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}"
    )
