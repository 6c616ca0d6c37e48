"""Settings for bench/postbacks.py's baseline: the webhook processes' settings, with a URL
conf that holds only a bare view inserting one row."""

from iliveit_portal.webhook_settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
