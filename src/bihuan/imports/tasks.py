"""Checking and importing big files in the background (``bihuan worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def check_import_task(job_id: int, user_id: int) -> int:
    from bihuan.accounts.models import User
    from bihuan.imports.services import check_import

    return check_import(job_id, actor=User.objects.get(pk=user_id)).processed_rows


@task()
def commit_import_task(job_id: int, user_id: int) -> int:
    from bihuan.accounts.models import User
    from bihuan.imports.services import commit_import

    return commit_import(job_id, actor=User.objects.get(pk=user_id)).created_count
