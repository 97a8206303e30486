"""Time moves through a campaign across the 2026 National Day holiday, with two workers.

Four hazards at the landlord's rental house in 白塔村, registered on Monday
2026-09-14:

- A, general, deadline Wed 09-30 (the last working day before the holiday);
- B, the same, then decided major by a collective decision;
- C, deadline 09-30, rectified on 09-28;
- D, deadline Fri 10-09, an extension requested on 10-08 (the clock pauses).

Reminders 3 and 1 working days before; escalation to town supervision when
overdue by more than 2 working days, to city supervision for a major hazard
overdue at all. On the 2026 calendar (chinese_calendar): Fri 09-25 is the
Mid-Autumn holiday, 10-01..10-07 National Day, and Sat 10-10 a make-up
working day (调休). So:

- the 3-day reminder for 09-30 comes on Thu 09-24 (not Fri 09-25, a holiday);
- the 3-day reminder for 10-09 comes on Tue 09-29 (09-30, 10-08, 10-09 left);
- the overdue notice for 09-30 comes on Thu 10-08, nothing during the holiday;
- A is escalated on Sat 10-10, a working Saturday (overdue 10-08, 10-09, 10-10).

Two worker threads tick at 09:00 and 15:00 every day (the sweep and the outbox),
restarted half-way; on PostgreSQL they run truly at once, on SQLite their
writes are serialised (SQLite has one writer). Each notice must exist once,
on the right day, and reach the real SMTP server and HTTP receiver once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from django.db import connection, connections

from bihuan.audit import services as audit
from bihuan.audit.models import AuditEntry
from bihuan.core import clock
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import HazardState, Severity, SupervisionLevel
from bihuan.hazards.models import Supervision
from bihuan.notifications import deadlines, scheduler
from bihuan.notifications import services as notification_services
from bihuan.notifications.choices import Channel, DeadlineNoticeKind, NoticeKind
from bihuan.notifications.models import DeadlineNotice, Delivery, Notification, SweepRun
from bihuan.testing import World, after_photo, build_world

pytestmark = pytest.mark.django_db(transaction=True)

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.date(2026, 9, 14)
END = dt.date(2026, 10, 20)
RESTART = dt.date(2026, 10, 1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CST)


class Workers:
    """Two worker threads that tick when the campaign's clock says so."""

    def __init__(self, names: tuple[str, str], serialise: bool) -> None:
        self.names = names
        self.go = threading.Barrier(3, timeout=60)
        self.done = threading.Barrier(3, timeout=60)
        self.stop = False
        self.errors: list[BaseException] = []
        self.sweepers: list[str] = []
        self._db_lock = threading.Lock() if serialise else None
        self.threads = [threading.Thread(target=self._run, args=(n,), name=n) for n in names]
        for thread in self.threads:
            thread.start()

    def _run(self, name: str) -> None:
        try:
            while True:
                self.go.wait()
                if self.stop:
                    return
                try:
                    with self._db_lock or nullcontext():
                        report = scheduler.tick(name)
                    if report.swept:
                        self.sweepers.append(name)
                except BaseException as error:  # reported by the test, not lost in a thread
                    self.errors.append(error)
                self.done.wait()
        finally:
            connections.close_all()

    def tick(self) -> None:
        self.go.wait()
        self.done.wait()
        assert not self.errors, self.errors
        # Both workers ticked; exactly one of them swept this slot.
        assert len(self.sweepers) == 1, self.sweepers
        self.sweepers.clear()

    def shut_down(self) -> None:
        self.stop = True
        self.go.wait()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def campaign_world(transactional_db: None, settings: Any) -> Iterator[World]:
    settings.BIHUAN_REMINDER_WORKING_DAYS = [3, 1]
    settings.BIHUAN_NOTICE_HOUR = 8
    settings.BIHUAN_ESCALATION_RULES = [
        {"level": "town", "overdue_working_days_over": 2},
        {"level": "city", "overdue_working_days_over": 0, "severity": "major"},
    ]
    clock.freeze(at(START, 10))
    yield build_world()


def _hazard(world: World, deadline: dt.date, description: str) -> Any:
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    return hazard_services.register_hazard(
        actor=world.users["baita_grid_worker"], place=place, item=item,
        description=description, deadline=deadline)


def test_reminders_overdue_notices_and_escalations_fire_once_on_the_right_working_days(
    campaign_world: World, smtp_server: Any, receiver: Any,
) -> None:
    world = campaign_world
    users = world.users
    landlord = users["landlord"]
    landlord.email = "landlord@example.cn"
    landlord.save(update_fields=["email"])
    notification_services.save_preferences(
        actor=landlord, robot_url=receiver.url,
        choices={NoticeKind.DEADLINE_REMINDER: {Channel.IN_APP, Channel.EMAIL, Channel.CHAT},
                 NoticeKind.OVERDUE: {Channel.IN_APP, Channel.EMAIL, Channel.CHAT}})
    notification_services.save_preferences(
        actor=users["east_officer"], robot_url=receiver.url,
        choices={NoticeKind.ESCALATION: {Channel.IN_APP, Channel.CHAT}})
    notification_services.create_subscription(
        actor=users["system_admin"], name="city platform", url=receiver.url,
        event_types=["hazard.overdue"])

    a = _hazard(world, dt.date(2026, 9, 30), "A 疏散通道堵塞")
    b = _hazard(world, dt.date(2026, 9, 30), "B 违规住人")
    c = _hazard(world, dt.date(2026, 9, 30), "C 灭火器过期")
    d = _hazard(world, dt.date(2026, 10, 9), "D 电线私拉乱接")
    hazard_services.decide_major(b.pk, actor=users["east_officer"], confirmed=True,
                                 participants=["甲", "乙", "丙"], minutes="集体讨论认定为重大隐患")

    def human_work(day: dt.date) -> None:
        if day == dt.date(2026, 9, 28):
            hazard_services.submit_rectification(c.pk, actor=landlord, evidence=[after_photo(3)])
        if day == dt.date(2026, 10, 8):
            hazard_services.request_extension(d.pk, actor=landlord, reason="材料未到货",
                                              requested_deadline=dt.date(2026, 10, 23))

    serialise = connection.vendor == "sqlite"
    workers = Workers(("worker-1", "worker-2"), serialise)
    day = START + dt.timedelta(days=1)
    try:
        while day <= END:
            if day == RESTART:  # both workers restart: whatever they knew is gone
                workers.shut_down()
                workers = Workers(("worker-1b", "worker-2b"), serialise)
            clock.freeze(at(day, 7, 30))
            workers.tick()  # before the notice hour: nothing is sent
            clock.freeze(at(day, 8, 30))
            human_work(day)
            for hour in (9, 15):
                clock.freeze(at(day, hour))
                workers.tick()
            day += dt.timedelta(days=1)
        # A sweep that bypasses the slot guard (a clock skew, a manual run) adds nothing.
        assert deadlines.sweep().as_dict()["reminders"] == 0
    finally:
        workers.shut_down()

    # Each notice once, on the working day the calendar gives.
    made = sorted(
        (n.hazard_id, n.kind, n.created_at.astimezone(CST).date().isoformat(),
         n.data.get("level", ""))
        for n in DeadlineNotice.objects.all()
    )
    R, OD, E = (DeadlineNoticeKind.REMINDER, DeadlineNoticeKind.OVERDUE,
                DeadlineNoticeKind.ESCALATION)
    assert made == sorted([
        (a.pk, R, "2026-09-24", ""), (a.pk, R, "2026-09-29", ""),
        (a.pk, OD, "2026-10-08", ""), (a.pk, E, "2026-10-10", "town"),
        (b.pk, R, "2026-09-24", ""), (b.pk, R, "2026-09-29", ""),
        (b.pk, OD, "2026-10-08", ""), (b.pk, E, "2026-10-08", "city"),
        (c.pk, R, "2026-09-24", ""),
        (d.pk, R, "2026-09-29", ""),
    ])

    # The escalations went through the loop's service: a supervision document each,
    # an event and an audit entry by the escalation account.
    bot = deadlines.escalation_actor()
    listings = {s.hazard_id: s for s in Supervision.objects.all()}
    assert {h: s.level for h, s in listings.items()} == {a.pk: SupervisionLevel.TOWN,
                                                         b.pk: SupervisionLevel.CITY}
    assert all(s.listed_by_id == bot.pk for s in listings.values())
    assert listings[a.pk].deadline > dt.date(2026, 10, 10)
    entries = AuditEntry.objects.filter(action="hazard.list_supervision")
    assert sorted(e.object_id for e in entries) == sorted([str(a.pk), str(b.pk)])
    assert {e.actor_id for e in entries} == {bot.pk}
    assert not list(audit.verify()), "the audit chain must stay intact"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.supervision_level, b.supervision_level) == ("town", "city")
    assert b.severity == Severity.MAJOR
    assert a.state == HazardState.RECTIFYING

    # Who was told: one notification per person and notice.
    notices = Counter((n.user.username, n.kind) for n in Notification.objects.filter(
        notice__isnull=False).select_related("user"))
    assert notices["landlord", NoticeKind.DEADLINE_REMINDER] == 6
    assert notices["landlord", NoticeKind.OVERDUE] == 2
    assert notices["baita_grid_worker", NoticeKind.DEADLINE_REMINDER] == 6
    assert notices["baita_cadre", NoticeKind.OVERDUE] == 2
    assert notices["east_officer", NoticeKind.OVERDUE] == 2
    assert notices["east_officer", NoticeKind.ESCALATION] == 2
    assert notices["commander", NoticeKind.ESCALATION] == 1
    assert notices["west_officer", NoticeKind.OVERDUE] == 0  # another town
    assert ("landlord", NoticeKind.ESCALATION) not in notices
    assert max(Counter(Notification.objects.filter(notice__isnull=False)
                       .values_list("user_id", "notice_id")).values()) == 1

    # Delivered, each once: 8 e-mails, 8 + 2 chat posts, 2 webhook calls.
    assert Delivery.objects.exclude(status="delivered").count() == 0
    assert len(smtp_server.messages) == 8
    assert all(rcpt == ["landlord@example.cn"] for rcpt, _m in smtp_server.messages)
    posts = Counter(r.headers.get("X-Bihuan-Event", "chat") for r in receiver.received)
    assert posts == {"chat": 10, "hazard.overdue": 2}
    ids = [r.headers["X-Bihuan-Delivery"] for r in receiver.received
           if "X-Bihuan-Delivery" in r.headers]
    assert len(ids) == len(set(ids))
    # Sweep runs are pruned after a week: the log holds the last week's slots only.
    assert SweepRun.objects.count() == 1 + 3 * 7


def test_two_sweeps_at_the_same_moment_still_send_each_notice_once(
    campaign_world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the slot guard: two workers sweep the same minute at once. Each notice's
    unique claim lets exactly one of them through (on PostgreSQL the second INSERT waits
    for the first transaction, then fails)."""
    world = campaign_world
    hazards = [_hazard(world, dt.date(2026, 9, 30), f"逾期隐患 {k}") for k in range(6)]
    original = deadlines.notify_users

    def slow_notify(*args: Any, **kwargs: Any) -> Any:
        # Hold the claim's transaction open a moment: the other sweep runs into it.
        time.sleep(0.02)
        return original(*args, **kwargs)

    monkeypatch.setattr(deadlines, "notify_users", slow_notify)
    clock.freeze(at(dt.date(2026, 10, 12), 9))  # overdue by 3 working days: town supervision
    serialise = threading.Lock() if connection.vendor == "sqlite" else None
    barrier = threading.Barrier(2, timeout=30)
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            with serialise or nullcontext():
                reports.append(deadlines.sweep().as_dict())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(reports) == 2
    assert sum(r["overdue"] for r in reports) == len(hazards)
    assert sum(r["escalations"] for r in reports) == len(hazards)
    kinds = Counter(DeadlineNotice.objects.values_list("kind", flat=True))
    assert kinds == {DeadlineNoticeKind.OVERDUE: 6, DeadlineNoticeKind.ESCALATION: 6}
    assert Supervision.objects.count() == 6
    assert max(Counter(Notification.objects.values_list("user_id", "notice_id")).values()) == 1
