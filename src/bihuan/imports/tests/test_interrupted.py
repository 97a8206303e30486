"""A job whose process died mid-run (kill -9, a crash) is not left "running" for ever."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from bihuan.core import clock
from bihuan.core.errors import ValidationFailed
from bihuan.core.taskrecovery import worker_id
from bihuan.imports import services
from bihuan.imports.choices import ImportStatus
from bihuan.imports.models import ImportJob
from bihuan.imports.tests.ledgers import write_messy_xlsx
from bihuan.imports.tests.test_imports import counts, start

pytestmark = pytest.mark.django_db


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _checked(world: Any, tmp_path: Path) -> Any:
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    return services.check_import(job, actor=world.users["east_officer"])


def _as_if_running(job: Any, claimed_by: str, **extra: Any) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING,
                                               claimed_by=claimed_by,
                                               claimed_at=clock.now(), **extra)


def test_a_commit_whose_process_died_runs_again(world: Any, tmp_path: Path) -> None:
    job = _checked(world, tmp_path)
    before = counts()
    _as_if_running(job, f"{socket.gethostname()[:40]}:{_dead_pid()}")
    job = services.commit_import(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.DONE
    assert counts()[0] == before[0] + job.created_count > before[0]


def test_the_page_shows_the_interrupted_job_ready_to_start_again(client, world: Any,
                                                                 tmp_path: Path) -> None:
    job = _checked(world, tmp_path)
    _as_if_running(job, f"{socket.gethostname()[:40]}:{_dead_pid()}")
    client.force_login(world.users["east_officer"])
    response = client.get(reverse("imports:detail", args=[job.pk]))
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and job.message


def test_a_live_run_is_not_taken_over(world: Any, tmp_path: Path) -> None:
    job = _checked(world, tmp_path)
    _as_if_running(job, worker_id())  # this very process: alive
    with pytest.raises(ValidationFailed):
        services.commit_import(job, actor=world.users["east_officer"])
    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTING


def test_a_run_on_another_host_is_presumed_dead_only_after_the_lease(world: Any,
                                                                    tmp_path: Path) -> None:
    job = _checked(world, tmp_path)
    _as_if_running(job, "another-host:4242")
    with pytest.raises(ValidationFailed):
        services.commit_import(job, actor=world.users["east_officer"])
    ImportJob.objects.filter(pk=job.pk).update(
        claimed_at=clock.now() - services.IMPORT_LEASE - services.dt.timedelta(minutes=1))
    job = services.commit_import(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.DONE
