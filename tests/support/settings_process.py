"""Settings are read at import, so a case that varies the environment starts a fresh
interpreter with it and reads what the settings became."""

import json
import os
import subprocess
import sys

from tests.support.sandbox import REPO_ROOT

# The variables a case sets for itself; the test run's own values are not passed on.
_OWN = ("DATABASE_", "REDIS_", "ILIVEIT_", "PORTAL_", "DEBUG", "HTTPS", "BEHIND_PROXY")


def load_settings(script: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_OWN) and key not in ("SECRET_KEY", "ALLOWED_HOSTS")
    }
    base["DJANGO_SETTINGS_MODULE"] = "iliveit_portal.settings"
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={**base, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_values(names: list[str], **env: str) -> dict:
    """The named settings (None when unset) as the environment `env` makes them."""
    script = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}, default=str))"
    )
    result = load_settings(script, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
