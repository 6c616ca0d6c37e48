"""A token bucket in Redis, shared by every worker that sends for one application.

iLiveIt limits each application to N messages per second and answers 429 beyond it. Every
worker takes a token here before it calls the API, so all of them together stay under the
limit. The bucket refills continuously from Redis' own clock (TIME), so workers on machines
with different clocks agree.
"""

import functools
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.commands.core import Script

from iliveit_portal.redis_client import redis_client

# KEYS[1] the bucket, KEYS[2] the application's health; ARGV: rate per second, capacity,
# health window (ms), lowest share of the rate, health lifetime (ms), tokens wanted. Takes as
# many of the tokens wanted as are free, and answers {tokens taken, milliseconds to wait before
# a token is free (0 when some were taken)}.
#
# The health hash says how much of its rate the application may use now (`share`). iLiveIt
# answers 429 when the token's own bucket runs dry, which while we keep under the rate means
# that another system is sending with the same token. So at the end of each window in which
# most answers were 429s, the share halves; each window without a 429 gives back a tenth of
# the rate (slow down fast, speed up carefully, as TCP does).
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local lowest = tonumber(ARGV[4])
local health_ttl = tonumber(ARGV[5])
local wanted = tonumber(ARGV[6])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)

local health = redis.call('HMGET', KEYS[2], 'share', 'start', 'taken', 'limited')
local share = tonumber(health[1]) or 1
local start = tonumber(health[2]) or now
local taken = tonumber(health[3]) or 0
local limited = tonumber(health[4]) or 0
if now - start >= window then
  if limited >= 2 and limited * 2 > taken then
    share = math.max(lowest, share / 2)
  elseif limited == 0 then
    share = math.min(1, share + 0.1 * math.floor((now - start) / window))
  end
  start = now
  taken = 0
  limited = 0
end
rate = rate * share
capacity = math.max(1, capacity * share)

local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local wait = 0
local got = math.min(wanted, math.floor(tokens))
if got >= 1 then
  tokens = tokens - got
  taken = taken + got
else
  got = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
redis.call('HSET', KEYS[2], 'share', share, 'start', start, 'taken', taken, 'limited', limited)
redis.call('PEXPIRE', KEYS[2], health_ttl)
return {got, wait}
"""
# KEYS[1] the bucket, KEYS[2] the application's health; ARGV[1] tokens given back. A bucket that
# has expired meanwhile is full again: nothing to give back to.
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], 'tokens', ARGV[1])
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('HINCRBY', KEYS[2], 'taken', -tonumber(ARGV[1]))
  end
end
"""
# A share left alone this long is forgotten, which gives the whole rate back.
HEALTH_TTL_MS = 600_000
# The longest an empty bucket is waited on for more than one token (take_up_to): well under a
# quarter second's burst (limiter_for), so that no token is lost to a full bucket meanwhile.
GATHER_S = 0.1
# The lowest share, unless the application's rate is so low that it would mean less than one
# message a second.
LOWEST_SHARE = 0.05


@dataclass(frozen=True)
class RateLimiter:
    """The bucket of one application: `rate` tokens a second, holding at most `burst`, of
    which the application uses the share that iLiveIt's 429s leave it (see _TAKE)."""

    client: redis.Redis
    key: str
    rate: float
    burst: float
    window_s: float = 2.0

    @property
    def health_key(self) -> str:
        return f"{self.key}:health"

    def try_take_up_to(self, wanted: int) -> tuple[int, float]:
        """Take as many of `wanted` tokens as are free; answer how many were taken and, when
        none were, the seconds until one will be."""
        lowest = min(1.0, max(LOWEST_SHARE, 1 / self.rate))
        got, wait_ms = _take_script(self.client)(
            keys=[self.key, self.health_key],
            args=[self.rate, self.burst, int(self.window_s * 1000), lowest, HEALTH_TTL_MS, wanted],
        )
        return int(got), int(wait_ms) / 1000

    def try_take(self) -> float:
        """Take a token if one is free; answer 0.0, or the seconds until one will be."""
        return self.try_take_up_to(1)[1]

    def take_up_to(self, wanted: int, *, max_wait: float) -> tuple[int, float]:
        """Wait up to `max_wait` seconds for at least one of `wanted` tokens; answer how many
        were taken and, when none were, the seconds until one will be free.

        An empty bucket is waited on until `wanted` tokens have come back (for GATHER_S at
        most), not only the first: workers sharing a low rate each woke for one token, and
        sent rounds of one, each with a claim, a settle and an announce of its own.
        """
        deadline = time.monotonic() + max_wait
        gather = min(wanted / self.rate, GATHER_S)
        while True:
            got, wait = self.try_take_up_to(wanted)
            if got or time.monotonic() + wait > deadline:
                return got, wait
            time.sleep(max(0.0, min(max(wait, gather), deadline - time.monotonic())))

    def give_back(self, tokens: int) -> None:
        """Return tokens taken but not used (their messages were not ours to send after all).
        The bucket never holds more than its capacity: the next take caps it."""
        _give_back_script(self.client)(keys=[self.key, self.health_key], args=[tokens])

    def take(self, *, max_wait: float) -> bool:
        """Wait up to `max_wait` seconds for a token; answer whether one was taken."""
        return self.take_up_to(1, max_wait=max_wait)[0] == 1

    def rate_limited(self) -> None:
        """Count one 429 from iLiveIt against the current window."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.health_key, "limited", 1)
            pipe.pexpire(self.health_key, HEALTH_TTL_MS)
            pipe.execute()

    def current_rate(self) -> float:
        """Tokens a second the application gets now."""
        share = self.client.hget(self.health_key, "share")
        return self.rate * (float(share) if share is not None else 1.0)


@functools.cache
def _take_script(client: redis.Redis) -> Script:
    # EVALSHA: the script's text is sent once per connection's server, not with every take.
    return client.register_script(_TAKE)


@functools.cache
def _give_back_script(client: redis.Redis) -> Script:
    return client.register_script(_GIVE_BACK)


def limiter_for(application_id: int, rate: int) -> RateLimiter:
    # A burst of a quarter second's worth: enough for workers to catch up after a pause of
    # their own, while requests stay spread out (a full second's burst arriving bunched after
    # network jitter would meet iLiveIt's bucket half-empty and draw 429s).
    return RateLimiter(
        client=redis_client(),
        # One bucket per task queue, as for the drains: portals (or test runs) that share a
        # Redis do not share buckets.
        key=f"iliveit:ratelimit:{settings.CELERY_TASK_DEFAULT_QUEUE}:app:{application_id}",
        rate=float(rate),
        burst=max(1.0, rate / 4),
    )
