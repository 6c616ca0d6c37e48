"""Running one piece of work from several threads at once, each with its own connection."""

import threading
from collections.abc import Callable, Sequence

from django.db import connection


def in_threads(items: Sequence, work: Callable, *, threads: int = 8) -> list[BaseException]:
    """Split `items` over `threads` threads that start together and call `work(item)` on each;
    answer the errors raised (a deadlock would be one)."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(batch: Sequence) -> None:
        start.wait()
        try:
            for item in batch:
                work(item)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(items[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return errors
