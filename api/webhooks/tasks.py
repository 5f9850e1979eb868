"""Background tasks (Django's tasks API, run by ``python manage.py worker``).

A task only says "attempt this delivery now"; whether it is still due, and which worker
owns the attempt, is decided by the delivery's own row (api.webhooks.delivery), so a
task run twice, late or after a crash does no harm.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from api.webhooks import delivery


@task()
def deliver(delivery_id: int) -> None:
    delivery.attempt(delivery_id)


# Finished task rows are kept this long for inspection (the admin of django-tasks-db,
# or SQL), then deleted by the worker; a row still RUNNING that long was left by a
# worker that was killed (its delivery was taken up again when its lease expired).
TASK_RESULT_RETENTION = timedelta(days=1)


def prune_task_results() -> int:
    """Delete task rows past TASK_RESULT_RETENTION; returns how many."""
    cutoff = timezone.now() - TASK_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.filter(
        Q(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff)
        | Q(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    ).delete()
    return deleted
