"""Enqueueing a task row with the writes of a transition (the transactional outbox).

With the database task backend, ``task.enqueue()`` is one ORM INSERT of the
task's row. A hazard transition adds that row to its statement batch instead
(:class:`bihuan.hazards.statements.Batch`), so it costs no round trip and no
ORM compilation; the row is the same one the backend writes, and it commits
or rolls back with the transition: the worker sees it only after the commit.
Any other backend enqueues as usual.
"""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued

from bihuan.hazards.statements import Batch


def enqueue_in(batch: Batch, task: Task[Any, Any], *args: Any) -> None:
    """Enqueue ``task(*args)`` with the statements of ``batch`` (when they run)."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        task.enqueue(*args)
        return
    from django_tasks_db.models import DBTaskResult

    # The row DatabaseBackend.enqueue creates (django_tasks_db: _task_to_db_task); the
    # pre_save signal fills in run_after as it does there.
    backend.validate_task(task)
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    batch.add_insert(row)

    def enqueued() -> None:
        task_enqueued.send(type(backend), task_result=row.task_result)

    batch.after(enqueued)
