"""Background work: the retention purge, for the worker (or cron) to run daily."""

from __future__ import annotations

from django_tasks import task


@task()
def purge_moved_out_tenants() -> int:
    from bihuan.tenants.services import purge_moved_out

    return purge_moved_out(actor=None)
