"""Background tasks survive a worker that dies mid-task.

django-tasks' database worker claims a task (status RUNNING) and only then runs it.
A worker killed with SIGKILL, or one whose database went away while it recorded the
result, leaves the task RUNNING (or FAILED with a connection error) for ever: the
notice it was to send would be lost. Our tasks are idempotent (a notification is
unique per user and event, a delivery is claimed by a unique key), so running such a
task again is safe, and that is what ``requeue_orphaned_tasks`` does:

- RUNNING tasks claimed by a worker process of this host that no longer exists;
- RUNNING tasks claimed longer ago than the lease (a worker on another host died);
- FAILED tasks whose failure was the database connection, a bounded number of times.

``bihuan worker`` calls it at start and then every minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Exceptions that say "the database went away", not "the task is wrong".
TRANSIENT_FAILURES = frozenset({
    "django.db.utils.OperationalError",
    "django.db.utils.InterfaceError",
    "psycopg.OperationalError",
    "psycopg.errors.AdminShutdown",
})
MAX_CLAIMS = 5


def worker_id() -> str:
    """``host:pid``: lets a restarted worker on the same host see whose claims are dead."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_is_dead(claimed_by: str, claimed_at: dt.datetime | None, *, lease: dt.timedelta,
                  now: dt.datetime) -> bool:
    """Whether the process that claimed some work (``worker_id()``) is gone: a process
    of this host that no longer exists, or, elsewhere, a claim older than ``lease``."""
    if _claimed_by_dead_local_worker([claimed_by]):
        return True
    if claimed_by.rpartition(":")[0] == socket.gethostname()[:40]:
        return False  # a live process of this host (this one included)
    return claimed_at is None or claimed_at < now - lease


def _claimed_by_dead_local_worker(worker_ids: list[str]) -> bool:
    if not worker_ids:
        return False
    host, _sep, pid = str(worker_ids[-1]).rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not _alive(int(pid))


def requeue_orphaned_tasks(lease: dt.timedelta = dt.timedelta(minutes=15)) -> int:
    """Put tasks a dead worker left behind back in the queue; returns how many."""
    from django.db.models import Q
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - lease
    requeued = 0
    with transaction.atomic():
        candidates = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            Q(status=TaskResultStatus.RUNNING)
            | Q(status=TaskResultStatus.FAILED, exception_class_path__in=TRANSIENT_FAILURES)
        )
        for task in candidates.only("id", "status", "started_at", "worker_ids",
                                    "exception_class_path"):
            if task.status == TaskResultStatus.RUNNING:
                orphaned = _claimed_by_dead_local_worker(task.worker_ids) or (
                    task.started_at is not None and task.started_at < cutoff
                )
            else:
                orphaned = (task.exception_class_path in TRANSIENT_FAILURES
                            and len(task.worker_ids) < MAX_CLAIMS)
            if not orphaned:
                continue
            DBTaskResult.objects.filter(pk=task.pk).update(
                status=TaskResultStatus.READY, started_at=None, finished_at=None,
                exception_class_path="", traceback="",
            )
            requeued += 1
    if requeued:
        logger.warning("Requeued %d task(s) left behind by a dead worker", requeued)
    return requeued
