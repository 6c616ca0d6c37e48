"""One request rate per API token (or per signed-in user, for session calls)."""

import logging

import redis
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken
from iliveit_portal.client_address import client_address

logger = logging.getLogger(__name__)


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except redis.RedisError as error:
            # The counters live in Redis. Refusing every call while it is down would also stop
            # what needs only the database: a launch commits there, and the sweeper sends it.
            logger.warning("API rate limit not checked, Redis unavailable: %s", error)
            return True

    def get_rate(self) -> str:
        # Read per request rather than from DRF's settings cache, so that a changed setting
        # (and a test's override) applies at once.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{client_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
