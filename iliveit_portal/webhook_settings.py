"""Settings for the webhook's own processes (docker-compose.yml's `webhook` service): the
portal's settings, with only the URLs and middleware that postbacks and health probes need.

The staff pages' middleware (sessions, CSRF, sign-in, messages, static files, page headers,
request figures) does nothing for a postback, yet it was a third of Django's CPU per postback:
0.96 ms with all of it, about 0.70 ms with the two kept here, in one process (bench/pipeline.py
runs 500 postbacks a second).
"""

from iliveit_portal.settings import *  # noqa: F403

ROOT_URLCONF = "iliveit_portal.webhook_urls"
MIDDLEWARE = [
    # The HTTPS redirect and HSTS, as on every other path of the portal.
    "django.middleware.security.SecurityMiddleware",
    # Content-Length on every answer: without it gunicorn chunks the body, which iLiveIt's
    # client must then decode for a two-byte "OK".
    "django.middleware.common.CommonMiddleware",
]
# The admin's app stays installed (its models and migrations are the portal's), but its pages
# are not served here, so the middleware it needs is not missing.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
