import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iliveit_portal.settings")

app = Celery("iliveit_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_broken_connections(sender=None, **kwargs) -> None:
    # What Django does around every request: a connection that failed (a database restart) or
    # outlived CONN_MAX_AGE is closed, and the next task's first query checks the one it keeps
    # (CONN_HEALTH_CHECKS). Kept connections are the point (settings, CELERY_DB_REUSE_MAX).
    # Not around a task run eagerly, inside its caller's transaction, as Celery's fix-up does not.
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
