"""The Redis client that the rate limiter, the drains' slots and the health checks share: one
connection pool per REDIS_URL and process."""

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)
    return _clients[url]
