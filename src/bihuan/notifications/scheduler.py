"""The worker's clockwork: the deadline sweep every minute, the outbox every few seconds.

``bihuan worker`` runs :func:`run_forever` in a thread beside django-tasks'
database worker. Any number of workers may run it:

- the sweep runs once per slot (a minute by default): a worker claims the slot
  by inserting a ``SweepRun`` whose ``slot`` is unique, and only the worker
  whose insert succeeded sweeps it (and, even were two to sweep, each notice's
  own claim keeps it single);
- deliveries are claimed one by one (``delivery.send_one``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from bihuan.core import clock
from bihuan.notifications import conf, deadlines, delivery
from bihuan.notifications.models import SweepRun

logger = logging.getLogger(__name__)

# Sweep runs are kept this long (the log of what the sweep did), then pruned.
KEEP_RUNS = dt.timedelta(days=7)


@dataclass
class TickReport:
    swept: bool = False
    sweep: deadlines.SweepReport | None = None
    sent: delivery.SendReport | None = None


def current_slot(now: dt.datetime | None = None) -> dt.datetime:
    interval = conf.sweep_interval_seconds()
    moment = now or clock.now()
    seconds = int(moment.timestamp()) // interval * interval
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def sweep_if_due(worker: str) -> deadlines.SweepReport | None:
    """Sweep the current slot unless another worker already did; ``None`` if it did."""
    slot = current_slot()
    try:
        with transaction.atomic():
            run = SweepRun.objects.create(slot=slot, worker=worker[:80], started_at=clock.now())
    except IntegrityError:
        return None
    report = deadlines.sweep()
    SweepRun.objects.filter(pk=run.pk).update(finished_at=clock.now(), counts=report.as_dict())
    SweepRun.objects.filter(slot__lt=slot - KEEP_RUNS).delete()
    _requeue_orphaned_tasks()
    _daily_housekeeping(slot)
    return report


def _daily_housekeeping(slot: dt.datetime) -> None:
    """Once a day (the first slot after 03:00 local time, claimed like any slot): purge
    the personal data of tenants whose retention period has passed."""
    local = timezone.localtime(slot)
    if (local.hour, local.minute) != (3, 0) or local.second >= conf.sweep_interval_seconds():
        return
    try:
        from bihuan.tenants.tasks import purge_moved_out_tenants

        purge_moved_out_tenants.enqueue()
    except Exception:  # housekeeping must never stop the sweep
        logger.exception("Enqueueing the tenant purge failed")


def _requeue_orphaned_tasks() -> None:
    """Tasks left RUNNING by a dead worker go back to the queue (core.taskrecovery)."""
    try:
        from bihuan.core.taskrecovery import requeue_orphaned_tasks
    except ImportError:
        return
    try:
        requeue_orphaned_tasks()
    except Exception:  # recovery must never stop the sweep
        logger.exception("Requeueing orphaned tasks failed")


def tick(worker: str) -> TickReport:
    """One turn of the worker's loop: the sweep if its slot is free, then the outbox."""
    report = TickReport()
    report.sweep = sweep_if_due(worker)
    report.swept = report.sweep is not None
    report.sent = delivery.send_due()
    return report


def run_forever(worker: str, stop: threading.Event) -> None:
    """Tick until ``stop`` is set; a failed tick is logged and the next one tries again."""
    poll = max(0.5, conf.delivery_poll_seconds())
    logger.info("Notification scheduler %s: sweep every %ss, outbox every %ss", worker,
                conf.sweep_interval_seconds(), poll)
    while not stop.is_set():
        close_old_connections()
        try:
            tick(worker)
        except Exception:
            logger.exception("Notification scheduler tick failed at %s",
                             timezone.localtime(clock.now()).isoformat())
        finally:
            close_old_connections()
        stop.wait(poll)
