"""The api app's tasks: thin wrappers that beat runs."""

from django.conf import settings

from api.tasks import prune_old_data


def test_beat_runs_the_prune_task_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["prune"]
    assert entry["task"] == prune_old_data.name == "api.tasks.prune_old_data"
    assert entry["schedule"] == 3600.0
