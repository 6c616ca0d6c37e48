import threading
import time
import uuid

from messaging.ratelimit import RateLimiter, limiter_for, redis_client


def fresh_limiter(rate: float, burst: float) -> RateLimiter:
    return RateLimiter(
        client=redis_client(), key=f"test:bucket:{uuid.uuid4()}", rate=rate, burst=burst
    )


def test_a_full_bucket_gives_its_burst_then_asks_to_wait():
    limiter = fresh_limiter(rate=10, burst=3)
    assert [limiter.try_take() for _ in range(3)] == [0, 0, 0]
    wait = limiter.try_take()
    assert 0 < wait <= 0.1


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
