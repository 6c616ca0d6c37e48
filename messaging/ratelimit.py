"""A token bucket in Redis, shared by every worker that sends for one application.

iLiveIt limits each application to N messages per second and answers 429 beyond it. Every
worker takes a token here before it calls the API, so all of them together stay under the
limit. The bucket refills continuously from Redis' own clock (TIME), so workers on machines
with different clocks agree.
"""

import time
from dataclasses import dataclass

import redis
from django.conf import settings

# KEYS[1] the bucket; ARGV: rate per second, capacity. Answers the milliseconds to wait before
# a token is free (0: a token was taken).
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return wait
"""


@dataclass(frozen=True)
class RateLimiter:
    """The bucket of one application: `rate` tokens a second, holding at most `burst`."""

    client: redis.Redis
    key: str
    rate: float
    burst: float

    def try_take(self) -> float:
        """Take a token if one is free; answer 0.0, or the seconds until one will be."""
        wait_ms = self.client.eval(_TAKE, 1, self.key, self.rate, self.burst)
        return int(wait_ms) / 1000

    def take(self, *, max_wait: float) -> bool:
        """Wait up to `max_wait` seconds for a token; answer whether one was taken."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_take()
            if wait == 0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)


_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)
    return _clients[url]


def limiter_for(application_id: int, rate: int) -> RateLimiter:
    # A burst of a quarter second's worth: enough for workers to catch up after a pause of
    # their own, while requests stay spread out (a full second's burst arriving bunched after
    # network jitter would meet iLiveIt's bucket half-empty and draw 429s).
    return RateLimiter(
        client=redis_client(),
        key=f"iliveit:ratelimit:app:{application_id}",
        rate=float(rate),
        burst=max(1.0, rate / 4),
    )
