"""The deadline sweep: reminders, overdue notices and supervision escalation.

Run by ``bihuan worker`` every minute (``scheduler``). Each notice is claimed by
inserting a ``DeadlineNotice`` whose (kind, hazard, occurrence) is unique, in
the same transaction as its notifications and deliveries (and, for an
escalation, the ``list_supervision`` service call): whichever worker inserts
first sends it; a second worker's insert fails (on PostgreSQL it waits for the
first transaction and then fails) and it moves on. A worker that restarts
finds the claims in the database, not in its memory.

Days are working days on the Chinese calendar (``core.workdays``); the sweep
sends nothing on days off, so a deadline just before the National Day holiday
gets its overdue notice on the first working day after it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bihuan.accounts.choices import Role
from bihuan.core import clock, workdays
from bihuan.core.errors import DomainError
from bihuan.hazards.choices import HazardState, SupervisionLevel
from bihuan.hazards.models import Hazard
from bihuan.notifications import conf
from bihuan.notifications.choices import DeadlineNoticeKind, NoticeKind
from bihuan.notifications.models import DeadlineNotice
from bihuan.notifications.services import (
    hazard_link,
    hazard_payload,
    hazard_text,
    notify_users,
    queue_webhooks,
)

logger = logging.getLogger(__name__)

LEVEL_RANK = {SupervisionLevel.NONE: 0, SupervisionLevel.TOWN: 1, SupervisionLevel.CITY: 2}

# Who hears of a deadline: the party, and the officials over the hazard's area.
REMINDER_ROLES = (Role.GRID_WORKER, Role.VILLAGE_CADRE)
OVERDUE_ROLES = (Role.GRID_WORKER, Role.VILLAGE_CADRE, Role.TOWN_OFFICER)
ESCALATION_ROLES = {
    SupervisionLevel.TOWN: (Role.TOWN_OFFICER,),
    SupervisionLevel.CITY: (Role.TOWN_OFFICER, Role.COMMAND_STAFF),
}


@dataclass
class SweepReport:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"reminders": self.reminders, "overdue": self.overdue,
                "escalations": self.escalations, "skipped": self.skipped[:20]}


def _ancestor_paths(path: str) -> list[str]:
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def officials_over(hazard: Hazard, roles: tuple[str, ...]) -> set[int]:
    """Users holding one of ``roles`` in the hazard's area or an area above it."""
    from bihuan.accounts.models import Membership

    return set(Membership.objects.filter(
        active=True, role__in=roles, area__path__in=_ancestor_paths(hazard.area.path),
        user__is_active=True,
    ).values_list("user_id", flat=True))


def _party_user(hazard: Hazard) -> set[int]:
    party = hazard.place.party
    return {party.user_id} if party is not None and party.user_id else set()


def _claim(kind: str, hazard: Hazard, key: str, data: dict[str, Any]) -> DeadlineNotice | None:
    """Insert the claim in a savepoint; ``None`` if someone made it already."""
    deadline = hazard.deadline
    assert deadline is not None
    try:
        with transaction.atomic():
            return DeadlineNotice.objects.create(kind=kind, hazard=hazard, occurrence_key=key,
                                                 deadline=deadline, created_at=clock.now(),
                                                 data=data)
    except IntegrityError:
        return None


def _candidates() -> Any:
    return (Hazard.objects.filter(state=HazardState.RECTIFYING, deadline__isnull=False,
                                  clock_paused_since__isnull=True)
            .select_related("place__party", "area").order_by("deadline", "id"))


def _reminders(today: dt.date, report: SweepReport) -> None:
    # For each lead (1, then 3 working days), the hazards whose deadline is at most that
    # far and further than the shorter lead: the most urgent reminder due is sent, and
    # one missed while the worker was down is superseded, not sent late.
    nearer: dt.date | None = None
    for lead in conf.reminder_working_days():
        horizon = workdays.add_working_days(today, lead)
        told = DeadlineNotice.objects.filter(
            kind=DeadlineNoticeKind.REMINDER, hazard=OuterRef("pk"),
            deadline=OuterRef("deadline"), occurrence_key__endswith=f":{lead}")
        due = _candidates().filter(deadline__gte=today, deadline__lte=horizon).exclude(
            Exists(told))
        if nearer is not None:
            due = due.filter(deadline__gt=nearer)
        nearer = horizon
        for hazard in due:
            assert hazard.deadline is not None
            left = workdays.working_days_between(today, hazard.deadline)
            with transaction.atomic():
                notice = _claim(DeadlineNoticeKind.REMINDER, hazard,
                                f"{hazard.deadline.isoformat()}:{lead}",
                                {"working_days_left": left, "lead": lead})
                if notice is None:
                    continue
                title = _("%(number)s: rectification due in %(n)d working day(s), on "
                          "%(date)s") % {"number": hazard.number, "n": left,
                                         "date": hazard.deadline.isoformat()}
                notify_users(_party_user(hazard) | officials_over(hazard, REMINDER_ROLES),
                             kind=NoticeKind.DEADLINE_REMINDER, verb="deadline_reminder",
                             title=title, body=hazard_text(hazard), hazard=hazard,
                             notice=notice, link=hazard_link(hazard))
                queue_webhooks("hazard.deadline_reminder", hazard,
                               {"hazard": hazard_payload(hazard), "working_days_left": left},
                               cause=f"d{notice.pk}")
                report.reminders += 1


def _overdue(today: dt.date, report: SweepReport) -> None:
    # Those already told are left out in SQL: the sweep runs every minute.
    told = DeadlineNotice.objects.filter(kind=DeadlineNoticeKind.OVERDUE, hazard=OuterRef("pk"),
                                         deadline=OuterRef("deadline"))
    for hazard in _candidates().filter(deadline__lt=today).exclude(Exists(told)):
        assert hazard.deadline is not None
        with transaction.atomic():
            notice = _claim(DeadlineNoticeKind.OVERDUE, hazard, hazard.deadline.isoformat(),
                            {"overdue_working_days":
                             workdays.working_days_between(hazard.deadline, today)})
            if notice is None:
                continue
            title = _("%(number)s: rectification overdue since %(date)s") % {
                "number": hazard.number, "date": hazard.deadline.isoformat()}
            notify_users(_party_user(hazard) | officials_over(hazard, OVERDUE_ROLES),
                         kind=NoticeKind.OVERDUE, verb="overdue", title=title,
                         body=hazard_text(hazard), hazard=hazard, notice=notice,
                         link=hazard_link(hazard))
            queue_webhooks("hazard.overdue", hazard, {"hazard": hazard_payload(hazard)},
                           cause=f"d{notice.pk}")
            report.overdue += 1


def escalation_actor() -> Any:
    """The service account that lists escalated hazards (command staff over the city).

    Created on first use, with an unusable password, and recorded in the
    ``permissions`` audit stream like any other grant.
    """
    from bihuan.accounts.models import Membership, User
    from bihuan.areas.choices import AreaLevel
    from bihuan.areas.models import Area
    from bihuan.audit import services as audit

    username = conf.escalation_username()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    city = (Area.objects.filter(code=settings.BIHUAN_CITY_CODE).first()
            or Area.objects.filter(level=AreaLevel.CITY, parent__isnull=True).first())
    if city is None:
        raise DomainError(_("No city area: the escalation account has nowhere to act."))
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=None,
                                            display_name=_("Automatic escalation"))
            Membership.objects.create(user=user, role=Role.COMMAND_STAFF, area=city)
            audit.record("accounts.service_account_created", actor=None, obj=user,
                         stream="permissions",
                         data={"username": username, "role": Role.COMMAND_STAFF,
                               "area": city.code, "why": "automatic supervision escalation"})
    except IntegrityError:
        # Another worker created it at the same moment (its audit entry stands alone).
        return User.objects.get(username=username)
    return user


def nth_working_day_back(today: dt.date, n: int) -> dt.date:
    """The ``n``-th most recent working day up to ``today`` (``n`` ≥ 1).

    A deadline is overdue by more than X working days exactly when it lies before
    the (X+1)-th most recent working day: the sweep's cut-off, so the database,
    not a Python loop over every overdue hazard, picks those to escalate.
    """
    day = today
    seen = 1 if workdays.is_working_day(day) else 0
    while seen < n:
        day -= dt.timedelta(days=1)
        if workdays.is_working_day(day):
            seen += 1
    while not workdays.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _escalations(today: dt.date, report: SweepReport) -> None:
    from bihuan.hazards import services as hazard_services
    from bihuan.hazards.models import Supervision

    actor = None
    # The higher level first: a hazard listed by the city is not listed by the town too.
    for rule in sorted(conf.escalation_rules(),
                       key=lambda r: -LEVEL_RANK[SupervisionLevel(r.level)]):
        rank = LEVEL_RANK[SupervisionLevel(rule.level)]
        cutoff = nth_working_day_back(today, rule.overdue_working_days_over + 1)
        listed = Supervision.objects.filter(
            hazard=OuterRef("pk"), delisted_at__isnull=True,
            level__in=[str(lv) for lv, r in LEVEL_RANK.items() if r >= rank and r > 0])
        claimed = DeadlineNotice.objects.filter(
            kind=DeadlineNoticeKind.ESCALATION, hazard=OuterRef("pk"),
            deadline=OuterRef("deadline"), occurrence_key__endswith=f":{rule.level}")
        due = _candidates().filter(deadline__lt=cutoff).exclude(Exists(listed)).exclude(
            Exists(claimed))
        if rule.severity is not None:
            due = due.filter(severity=rule.severity)
        for hazard in due:
            assert hazard.deadline is not None
            late = workdays.working_days_between(hazard.deadline, today)
            actor = actor or escalation_actor()
            try:
                with transaction.atomic():
                    notice = _claim(DeadlineNoticeKind.ESCALATION, hazard,
                                    f"{hazard.deadline.isoformat()}:{rule.level}",
                                    {"level": rule.level, "overdue_working_days": late,
                                     "rule": rule.__dict__})
                    if notice is None:
                        continue
                    supervision = hazard_services.list_supervision(
                        hazard.pk, actor=actor, level=rule.level,
                        document_number=_document_number(hazard, rule.level, today),
                        responsible_person=_responsible(hazard),
                        deadline=workdays.add_working_days(today, rule.deadline_working_days),
                    )
                    notice.data = {**notice.data, "supervision": supervision.pk,
                                   "document_number": supervision.document_number}
                    notice.save(update_fields=["data"])
                    title = _("%(number)s listed for %(level)s supervision: overdue %(n)d "
                              "working day(s)") % {"number": hazard.number, "n": late,
                                                   "level": SupervisionLevel(rule.level).label}
                    notify_users(
                        officials_over(hazard, ESCALATION_ROLES[SupervisionLevel(rule.level)]),
                        kind=NoticeKind.ESCALATION, verb="escalation", title=title,
                        body=hazard_text(hazard), hazard=hazard, notice=notice,
                        link=hazard_link(hazard))
                    report.escalations += 1
            except DomainError as error:
                # The claim rolled back with the refusal: the next sweep tries again.
                logger.warning("Escalation of hazard %s refused: %s", hazard.pk, error)
                report.skipped.append(f"{hazard.pk}: {error}")


def _document_number(hazard: Hazard, level: str, today: dt.date) -> str:
    tag = "TOWN" if level == SupervisionLevel.TOWN else "CITY"
    return (f"{settings.BIHUAN_HAZARD_PREFIX}-AUTO-{tag}-{today:%Y%m%d}-{hazard.pk:08d}"
            f"-{hazard.version}")


def _responsible(hazard: Hazard) -> str:
    party = hazard.place.party
    return party.name if party is not None else hazard.place.name


def sweep() -> SweepReport:
    """One pass over the deadlines, as of ``clock.now()``; safe to run from two workers."""
    report = SweepReport()
    now = timezone.localtime(clock.now())
    today = now.date()
    if not workdays.is_working_day(today) or now.hour < conf.notice_hour():
        return report
    with translation.override(settings.LANGUAGE_CODE):
        _reminders(today, report)
        _overdue(today, report)
        _escalations(today, report)
    return report
