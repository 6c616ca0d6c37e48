"""Health checks for load balancers and orchestrators.

/healthz answers whether this process serves requests at all; /readyz whether it can do its
work: the database answers, the broker (Redis) answers, and the periodic sweep (Celery beat,
run by a worker) has been seen recently.
"""

import logging
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from iliveit_portal.redis_client import redis_client

logger = logging.getLogger(__name__)


def beat_key() -> str:
    return f"portal:beat-seen:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def beat_seen() -> None:
    """Called by every run of the periodic sweep: the proof that beat and a worker are alive.
    A broker that is down must not stop the sweep, which is what recovers from it."""
    try:
        redis_client().set(beat_key(), str(time.time()), ex=int(beat_stale_after_s() * 4))
    except redis.RedisError as error:
        logger.warning("could not record the sweep for /readyz: %s", error)


def beat_stale_after_s() -> float:
    # Three sweeps missed in a row, and never less than a minute.
    return max(60.0, settings.SWEEP_INTERVAL_S * 3)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    redis_client().ping()
    return "ok"


def _beat() -> str:
    seen = redis_client().get(beat_key())
    if seen is None:
        return "not seen"
    age = time.time() - float(seen)
    return "ok" if age <= beat_stale_after_s() else f"last seen {age:.0f} s ago"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {}
    for name, check in (("database", _database), ("broker", _broker), ("beat", _beat)):
        try:
            checks[name] = check()
        except Exception as error:  # any failure of a dependency means "not ready"
            checks[name] = f"error: {type(error).__name__}"
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
