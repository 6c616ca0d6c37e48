import threading
import time
import uuid

from iliveit_portal.redis_client import redis_client
from messaging.ratelimit import RateLimiter, limiter_for


def fresh_limiter(rate: float, burst: float, window_s: float = 2.0) -> RateLimiter:
    return RateLimiter(
        client=redis_client(),
        key=f"test:bucket:{uuid.uuid4()}",
        rate=rate,
        burst=burst,
        window_s=window_s,
    )


def test_a_full_bucket_gives_its_burst_then_asks_to_wait():
    limiter = fresh_limiter(rate=10, burst=3)
    assert [limiter.try_take() for _ in range(3)] == [0, 0, 0]
    wait = limiter.try_take()
    assert 0 < wait <= 0.1


def test_several_tokens_are_taken_at_once_up_to_what_the_bucket_holds():
    limiter = fresh_limiter(rate=10, burst=5)
    assert limiter.try_take_up_to(3) == (3, 0)
    assert limiter.try_take_up_to(10) == (2, 0)
    taken, wait = limiter.try_take_up_to(10)
    assert taken == 0
    assert 0 < wait <= 0.1


def test_an_empty_bucket_is_waited_on_until_several_tokens_have_come_back():
    limiter = fresh_limiter(rate=100, burst=25)
    assert limiter.try_take_up_to(25) == (25, 0)

    taken, _ = limiter.take_up_to(20, max_wait=1.0)

    # A tenth of a second's worth, not the first token back: 10 at 100/s.
    assert 8 <= taken <= 12


def test_tokens_given_back_are_taken_again_but_never_beyond_the_burst():
    limiter = fresh_limiter(rate=1, burst=4)
    assert limiter.try_take_up_to(4) == (4, 0)
    limiter.give_back(3)
    assert limiter.try_take_up_to(10) == (3, 0)
    limiter.give_back(40)
    assert limiter.try_take_up_to(10)[0] == 4


def test_giving_back_to_a_bucket_that_expired_leaves_nothing_behind():
    limiter = fresh_limiter(rate=10, burst=2)
    limiter.give_back(1)
    assert not redis_client().exists(limiter.key)


def test_workers_sharing_a_bucket_stay_under_the_rate_together():
    limiter = fresh_limiter(rate=50, burst=5)
    taken: list[float] = []
    lock = threading.Lock()

    def worker():
        while True:
            if not limiter.take(max_wait=1):
                return
            with lock:
                if len(taken) >= 100:
                    return
                taken.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    # 100 tokens at 50/s with a burst of 5 take at least (100 - 5) / 50 = 1.9 s.
    assert len(taken) == 100
    assert elapsed >= 1.85
    assert elapsed < 3.0, "the workers should use the whole rate, not a fraction of it"


def test_take_gives_up_when_the_wait_exceeds_its_limit():
    limiter = fresh_limiter(rate=1, burst=1)
    assert limiter.take(max_wait=0)
    assert not limiter.take(max_wait=0.1)


def test_each_application_has_its_own_bucket():
    first, second = limiter_for(10_001, rate=1), limiter_for(10_002, rate=1)
    first.client.delete(first.key, second.key)
    assert first.try_take() == 0
    assert second.try_take() == 0
    assert first.try_take() > 0


def drained(limiter: RateLimiter) -> float:
    """Empty the bucket; answer the wait for the next token, which tells the rate in force."""
    while (wait := limiter.try_take()) == 0:
        pass
    return wait


def test_the_bucket_slows_down_while_most_answers_are_429_and_recovers_after():
    limiter = fresh_limiter(rate=100, burst=1, window_s=0.2)
    assert drained(limiter) <= 0.01
    for _ in range(5):
        limiter.try_take()
        limiter.rate_limited()  # another system is using the same token
    time.sleep(0.25)

    # The window of 429s halves the rate: a token every 20 ms instead of every 10.
    assert 0.015 <= drained(limiter) <= 0.02
    assert limiter.current_rate() == 50
    for _ in range(3):
        limiter.try_take()
        limiter.rate_limited()
    time.sleep(0.25)
    assert drained(limiter) > 0.03
    assert limiter.current_rate() == 25

    # With no 429s each window gives back a tenth of the rate.
    time.sleep(0.45)
    limiter.try_take()
    assert 35 <= limiter.current_rate() <= 65
    time.sleep(1.2)
    limiter.try_take()
    assert limiter.current_rate() == 100


def test_a_few_429s_among_many_answers_leave_the_rate_alone():
    limiter = fresh_limiter(rate=100, burst=20, window_s=0.2)
    for _ in range(10):
        limiter.try_take()
    limiter.rate_limited()
    limiter.rate_limited()
    time.sleep(0.25)
    limiter.try_take()
    assert limiter.current_rate() == 100


def test_a_slowed_bucket_still_sends_at_least_one_message_a_second():
    limiter = fresh_limiter(rate=4, burst=1, window_s=0.2)
    for _ in range(6):
        for _ in range(3):
            limiter.try_take()
            limiter.rate_limited()
        time.sleep(0.25)
        limiter.try_take()
    assert limiter.current_rate() == 1
