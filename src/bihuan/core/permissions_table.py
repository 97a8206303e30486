"""Who may reach which URL: ONE table of role × relation to the object × action.

``core/tests/test_permission_matrix.py`` turns every row into requests: for each
role (played by one persona of ``bihuan.testing``) and each relation it can have
to the row's object (own / in scope / out of scope / none), it requests the URL
and checks the outcome:

* the role holds that relation in ``allow`` → reached (2xx, or a redirect that is
  not to a login page);
* out of scope (or the role may not reach the object at all) → 404, "not found",
  never a hint that the object exists;
* no object and not allowed → 403 or 404;
* anonymous → ``anonymous`` says: ``LOGIN`` (302 to a login page, or 401/403 from
  the API), ``OPEN`` (public pages) or ``NOT_FOUND``.

A URL pattern of the resolver that no row names FAILS the matrix test, so a new
endpoint cannot be forgotten. To add one: append a row ``E(...)`` below (one per
method that matters) naming the URL by ``namespace:name`` (DRF router names have
no namespace, e.g. ``"hazard-detail"``); a trailing ``*`` covers a whole family
(``"admin:*"``). If the URL takes an object, name its kind in ``obj`` (a key of
``OBJECTS`` — add a builder there for a new kind) and, if its URL arguments are
not ``pk=<object pk>``, give ``kwargs``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bihuan.accounts.choices import Role

# ---------------------------------------------------------------- relations

OWN = "own"  # the responsible party's own place / hazard; a citizen's own report
IN = "in_scope"  # inside the role's area subtree or departmental jurisdiction
OUT = "out_of_scope"  # exists, but outside the role's scope → must be 404
NONE = "none"  # the URL names no object (lists, forms, the login page)

# What an anonymous visitor gets.
LOGIN = "login"  # 302 to a login page (the API: 401 or 403)
OPEN = "open"  # public: reached like an allowed role
NOT_FOUND = "not_found"  # 404

ANONYMOUS = "anonymous"

# ---------------------------------------------------------------- roles

CMD = Role.COMMAND_STAFF.value
TOWN = Role.TOWN_OFFICER.value
VILLAGE = Role.VILLAGE_CADRE.value
GRID = Role.GRID_WORKER.value
DEPT = Role.DEPT_INSPECTOR.value
PARTY = Role.PARTY.value
CITIZEN = Role.CITIZEN.value
SYS = Role.SYSTEM_ADMIN.value
SEC = Role.SECURITY_ADMIN.value
AUD = Role.AUDIT_ADMIN.value

ROLES: tuple[str, ...] = (CMD, TOWN, VILLAGE, GRID, DEPT, PARTY, CITIZEN, SYS, SEC, AUD)
OFFICIALS: tuple[str, ...] = (CMD, TOWN, VILLAGE, GRID, DEPT)
AREA_OFFICIALS: tuple[str, ...] = (CMD, TOWN, VILLAGE, GRID)
ADMINS: tuple[str, ...] = (SYS, SEC, AUD)

# The persona of ``bihuan.testing`` that plays each role.
PERSONA: dict[str, str] = {
    CMD: "commander",
    TOWN: "east_officer",
    VILLAGE: "baita_cadre",
    GRID: "baita_grid_worker",
    DEPT: "market_inspector",
    PARTY: "landlord",
    CITIZEN: "citizen",
    SYS: "system_admin",
    SEC: "security_admin",
    AUD: "audit_admin",
}

# For each role, the place (key in ``bihuan.testing``) it has each relation to.
# Objects of other kinds are taken at that place (its hazard, its inspection, ...).
# A relation a role cannot have (the city-wide commander has no out-of-scope place)
# is simply absent.
SAMPLE_PLACE: dict[str, dict[str, str]] = {
    CMD: {IN: "baita_rental"},
    TOWN: {IN: "baita_rental", OUT: "loutang_rental"},
    VILLAGE: {IN: "baita_rental", OUT: "loutang_rental"},
    GRID: {IN: "baita_rental", OUT: "baita2_workshop"},
    DEPT: {IN: "wujin_market", OUT: "baita_rental"},
    PARTY: {OWN: "baita_rental", OUT: "baita_shop"},
    CITIZEN: {OWN: "loutang_hotel", OUT: "baita_rental"},
    SYS: {OUT: "baita_rental"},
    SEC: {OUT: "baita_rental"},
    AUD: {OUT: "baita_rental"},
    ANONYMOUS: {OUT: "baita_rental"},
}


def _first(queryset: Any) -> Any:
    obj = queryset.order_by("pk").first()
    if obj is None:
        raise LookupError(f"no sample object: {queryset.model.__name__}")
    return obj


def _place(place: Any, role: str, relation: str) -> Any:
    return place


def _hazard(place: Any, role: str, relation: str) -> Any:
    from bihuan.hazards.models import Hazard

    hazards = Hazard.objects.filter(place=place)
    if role == CITIZEN and relation == OWN:
        hazards = hazards.filter(reported_by__username=PERSONA[CITIZEN])
    return _first(hazards)


def _evidence(place: Any, role: str, relation: str) -> Any:
    from django.core.files.base import ContentFile

    from bihuan.core import clock
    from bihuan.hazards.models import Evidence
    from bihuan.testing import tiny_jpeg

    found = Evidence.objects.filter(hazard__place=place).order_by("pk").first()
    if found is not None:
        return found
    # A sample place whose hazard came without a photo: give it one.
    hazard = _hazard(place, role, relation)
    evidence = Evidence(hazard=hazard, kind="before", sha256="0" * 64,
                        content_type="image/jpeg", uploaded_by=hazard.reported_by,
                        uploaded_at=clock.now())
    evidence.file.save("matrix.jpg", ContentFile(tiny_jpeg()), save=False)
    evidence.save()
    return evidence


def _inspection(place: Any, role: str, relation: str) -> Any:
    from bihuan.inspections.models import Inspection

    return _first(Inspection.objects.filter(place=place))


def _party(place: Any, role: str, relation: str) -> Any:
    from bihuan.places.models import Party

    if relation == OUT:
        # Every sample party owns places in two towns; out of scope is a party whose
        # places nobody in the sample sees.
        party, _created = Party.objects.get_or_create(name="matrix-out-of-scope",
                                                      defaults={"phone": "13700000009"})
        return party
    return place.party


def _report(place: Any, role: str, relation: str) -> Any:
    from bihuan.core import clock
    from bihuan.reports.models import CitizenReport

    report = CitizenReport.objects.filter(area=place.area).order_by("pk").first()
    if report is None:  # citizens file reports about an area, not a registered place
        report = CitizenReport.objects.create(description="matrix", area=place.area,
                                              reporter_ip_hash="0" * 64, created_at=clock.now())
    return report


def _audit_entry(place: Any, role: str, relation: str) -> Any:
    from bihuan.audit.models import AuditEntry

    return _first(AuditEntry.objects.filter(object_type="places.place", object_id=str(place.pk))
                  | AuditEntry.objects.filter(stream__startswith="hazards.hazard:"))


def _supervision(place: Any, role: str, relation: str) -> Any:
    """A listed supervision (挂牌督办) of the place's hazard, written directly: the listing
    service is tested in hazards/tests; the matrix needs only the record."""
    from bihuan.core import clock
    from bihuan.hazards.models import Supervision

    hazard = _hazard(place, role, relation)
    found = Supervision.objects.filter(hazard=hazard).order_by("pk").first()
    if found is not None:
        return found
    return Supervision.objects.create(
        hazard=hazard, level="town", document_number=f"matrix-{hazard.pk}",
        responsible_person="matrix", deadline=clock.today(), listed_by=hazard.reported_by,
        listed_at=clock.now())


def _user(role: str) -> Any:
    from bihuan.accounts.models import User

    return User.objects.get(username=PERSONA[role])


def _owner(role: str, relation: str) -> Any:
    """Whose an owned object (a notice, an assignment) is: the role's persona's; out of
    scope (and for the anonymous visitor), someone else's."""
    if relation == OUT or role == ANONYMOUS:
        return _someone_else(role)
    return _user(role)


def _someone_else(role: str) -> Any:
    """An official who is not the role's persona (the owner of an out-of-scope object)."""
    from bihuan.accounts.models import User

    other = "west_officer" if PERSONA.get(role) != "west_officer" else "commander"
    return User.objects.get(username=other)


def _town_of(place: Any) -> Any:
    from bihuan.areas.models import Area

    code = [c for c in place.area.path.split("/") if c][1]
    return Area.objects.get(code=code)


def _campaign(place: Any, role: str, relation: str) -> Any:
    """A campaign of the place's town (campaigns are run by towns and the city)."""
    from bihuan.campaigns.models import Campaign
    from bihuan.core import clock

    town = _town_of(place)
    campaign, _created = Campaign.objects.get_or_create(
        code=f"matrix-{town.code}",
        defaults={"name": f"matrix {town.name}", "area": town,
                  "starts_on": clock.today(), "ends_on": clock.today() + dt.timedelta(days=30)})
    return campaign


def _task(place: Any, role: str, relation: str) -> Any:
    """A task of the town's campaign for the place's grid."""
    from bihuan.campaigns.models import Task
    from bihuan.core import clock

    task, _created = Task.objects.get_or_create(
        campaign=_campaign(place, role, relation), area=place.area, title="matrix",
        defaults={"due_on": clock.today() + dt.timedelta(days=10),
                  "created_by": _user(CMD), "created_at": clock.now()})
    return task


def _task_evidence(place: Any, role: str, relation: str) -> Any:
    from django.core.files.base import ContentFile

    from bihuan.campaigns.models import TaskEvidence, TaskReport
    from bihuan.core import clock
    from bihuan.testing import tiny_jpeg

    task = _task(place, role, relation)
    found = TaskEvidence.objects.filter(report__task=task).first()
    if found is not None:
        return found
    report = TaskReport.objects.create(task=task, reported_by=_user(CMD), at=clock.now(),
                                       note="matrix", progress=10)
    evidence = TaskEvidence(report=report, sha256=f"{task.pk:064d}", content_type="image/jpeg")
    evidence.file.save("matrix.jpg", ContentFile(tiny_jpeg()), save=False)
    evidence.save()
    return evidence


def _draw_of(place: Any, role: str, relation: str, kind: str) -> Any:
    """An announced draw of the town's campaign over the place's grid (nothing drawn)."""
    from bihuan.campaigns import draws
    from bihuan.campaigns.models import Draw
    from bihuan.core import clock

    campaign = _campaign(place, role, relation)
    found = Draw.objects.filter(campaign=campaign, area=place.area, kind=kind).first()
    if found is not None:
        return found
    inputs: dict[str, Any] = {"areas": []} if kind == "look_back" else {"grids": []}
    params = {"share": 10} if kind == "look_back" else {"grids": 1, "per_grid": 1, "days": 30}
    return Draw.objects.create(
        campaign=campaign, kind=kind, area=place.area, nonce="0" * 16,
        seed=draws.effective_seed("", "0" * 16), params=params, inputs=inputs,
        inputs_hash=draws.digest(inputs), announced_by=_user(CMD), announced_at=clock.now())


def _draw(place: Any, role: str, relation: str) -> Any:
    return _draw_of(place, role, relation, "look_back")


def _look_back(place: Any, role: str, relation: str) -> Any:
    """A look-back of the place's hazard assigned to the role's persona; out of scope, to
    someone else (only the assignee reaches it)."""
    from bihuan.campaigns.models import LookBackItem

    assignee = _owner(role, relation)
    item, _created = LookBackItem.objects.update_or_create(
        draw=_draw_of(place, role, relation, "look_back"),
        hazard=_hazard(place, role, relation),
        defaults={"assignee": assignee, "tier": 1})
    return item


def _duty_check(place: Any, role: str, relation: str) -> Any:
    """A duty check of the place's inspection, the role's persona the checker; out of
    scope, someone else."""
    from bihuan.campaigns.models import DutyCheckItem

    checker = _owner(role, relation)
    item, _created = DutyCheckItem.objects.update_or_create(
        draw=_draw_of(place, role, relation, "duty"),
        inspection=_inspection(place, role, relation),
        defaults={"checker": checker, "grid": place.area})
    return item


def _notification(place: Any, role: str, relation: str) -> Any:
    """A notice about the place's hazard in the persona's inbox; out of scope: in
    someone else's."""
    from bihuan.core import clock
    from bihuan.notifications.models import Notification

    owner = _owner(role, relation)
    return Notification.objects.create(user=owner, kind="hazard_event", verb="matrix",
                                       title="matrix", created_at=clock.now())


def sample_tenant(place: Any, name: str = "matrix") -> Any:
    """A tenant of ``place`` with a (made-up) ID number sealed like a real one, written
    directly: the registration service validates real ID numbers (tenants/tests)."""
    from bihuan.core import clock, crypto
    from bihuan.tenants.models import ID_NUMBER_PURPOSE, Tenant

    number = f"33078419900101{place.pk:04d}"
    ring = crypto.keyring()
    return Tenant.objects.create(
        place=place, name=name, room="101",
        id_number_sealed=crypto.encrypt(number, purpose=ID_NUMBER_PURPOSE, ring=ring),
        id_number_hash=crypto.lookup_hash(number, purpose=ID_NUMBER_PURPOSE, ring=ring),
        moved_in_on=clock.today() - dt.timedelta(days=30), registered_at=clock.now())


def _tenant(place: Any, role: str, relation: str) -> Any:
    """A tenant of the place (the department's sample is a market: one is made up there)."""
    from bihuan.tenants.models import Tenant

    found = Tenant.objects.filter(place=place).order_by("pk").first()
    return found if found is not None else sample_tenant(place)


def _import_job(place: Any, role: str, relation: str) -> Any:
    """A checked import of a one-row ledger for the place's area, uploaded by the role's
    persona; out of scope, by someone else (a job is its uploader's alone). Written
    directly: imports/tests cover reading and checking real ledgers."""
    from django.core.files.base import ContentFile

    from bihuan.core import clock
    from bihuan.imports.models import Duplicate, ImportJob

    owner = _owner(role, relation)
    found = ImportJob.objects.filter(created_by=owner, area=place.area).first()
    if found is not None:
        return found
    job = ImportJob(token=f"matrix{owner.pk:08d}{place.pk:08d}", kind="places",
                    status="checked", filename="matrix.csv", file_format="csv",
                    area=place.area, total_rows=1, processed_rows=1, duplicate_rows=1,
                    header={"first_row": 1, "last_row": 1, "labels": ["名称", "地址"],
                            "mapping": {"0": "name", "1": "address"}},
                    created_by=owner, created_at=clock.now(), checked_at=clock.now())
    job.file.save("matrix.csv", ContentFile("名称,地址\nmatrix,matrix\n".encode()),
                  save=False)
    job.save()
    Duplicate.objects.create(job=job, row=2, name="matrix", address="matrix", place=place,
                             similarity=1.0)
    return job


def _webhook() -> Any:
    """The webhook subscription and delivery the administrator's pages name: configuration,
    not case data (no area scope)."""
    from bihuan.core import clock
    from bihuan.notifications.models import WebhookSubscription

    found = WebhookSubscription.objects.filter(name="matrix").first()
    if found is not None:
        return found
    return WebhookSubscription.objects.create(
        name="matrix", url="http://127.0.0.1:9/matrix", secret="s" * 40,
        created_by=_user(SYS), created_at=clock.now())


def _delivery() -> Any:
    from bihuan.core import clock
    from bihuan.notifications.models import Delivery

    subscription = _webhook()
    found = Delivery.objects.filter(subscription=subscription).first()
    if found is not None:
        return found
    return Delivery.objects.create(
        channel="webhook", recipient=subscription.url, payload={}, status="failed",
        attempts=1, next_attempt_at=clock.now(), created_at=clock.now(),
        subscription=subscription)


# Object kind → builder(place, role, relation) returning the object the URL names.
OBJECTS: dict[str, Callable[[Any, str, str], Any]] = {
    "place": _place,
    "hazard": _hazard,
    "evidence": _evidence,
    "inspection": _inspection,
    "party": _party,
    "report": _report,
    "audit_entry": _audit_entry,
    "supervision": _supervision,
    "campaign": _campaign,
    "task": _task,
    "task_evidence": _task_evidence,
    "draw": _draw,
    "look_back": _look_back,
    "duty_check": _duty_check,
    "notification": _notification,
    "tenant": _tenant,
    "import_job": _import_job,
}


def by_pk(obj: Any) -> dict[str, Any]:
    return {"pk": obj.pk}


@dataclass(frozen=True)
class E:
    """One row: a URL (and method) and who may reach it in which relation."""

    name: str
    method: str = "GET"
    obj: str | None = None
    # role → relations in which the role reaches the URL.
    allow: Mapping[str, frozenset[str]] = field(default_factory=dict)
    anonymous: str = LOGIN
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    data: Mapping[str, Any] | None = None
    # A query string from the object (``None`` when the row names no object).
    query: Callable[[Any], Mapping[str, Any]] | None = None
    # Logout: its redirect to the login page is the success, not a refusal.
    login_redirect_is_reach: bool = False
    # Why the row looks the way it does, when not obvious.
    note: str = ""


def roles(*names: str, rel: str = NONE, **more: str) -> dict[str, frozenset[str]]:
    """``roles(CMD, TOWN, rel=IN)`` → {CMD: {IN}, TOWN: {IN}}."""
    return {name: frozenset({rel}) for name in names}


def anywhere(*names: str) -> dict[str, frozenset[str]]:
    """Every relation the roles' samples have: the URL checks nothing about the object
    (a redirect to a page that does), or its object is public by design."""
    return {name: frozenset(SAMPLE_PLACE[name]) for name in names}


def merge(*parts: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    result: dict[str, set[str]] = {}
    for part in parts:
        for role, relations in part.items():
            result.setdefault(role, set()).update(relations)
    return {role: frozenset(rels) for role, rels in result.items()}


EVERYONE = roles(*ROLES)
SIGNED_IN_OFFICIALS = roles(*OFFICIALS)
OFFICIALS_IN_SCOPE = roles(*OFFICIALS, rel=IN)
PARTY_OWN = roles(PARTY, rel=OWN)

# ---------------------------------------------------------------- the table

TABLE: list[E] = [
    # -- core
    E("home", allow=EVERYONE, note="officials: the inbox; parties: the portal"),
    E("healthz", allow=EVERYONE, anonymous=OPEN),
    E("readyz", allow=EVERYONE, anonymous=OPEN),
    E("set_language", method="POST", allow=EVERYONE, anonymous=OPEN,
      data={"language": "en", "next": "/"}),
    # -- accounts
    E("accounts:login", allow=EVERYONE, anonymous=OPEN),
    E("accounts:logout", method="POST", allow=EVERYONE, anonymous=OPEN,
      login_redirect_is_reach=True),
    E("accounts:password_change", allow=EVERYONE),
    E("accounts:profile", allow=EVERYONE),
    E("accounts:two_factor", allow=EVERYONE,
      note="without an authenticator yet: a redirect to the set-up"),
    E("accounts:two_factor_setup", allow=EVERYONE),
    # -- the audit trail: the audit administrator alone (三员分立); everyone else 404
    E("audit:list", allow=roles(AUD)),
    E("audit:detail", obj="audit_entry", allow={AUD: frozenset({OUT})},
      note="the audit administrator sees no case data but reads every entry about it"),
    # -- hazards
    E("hazards:list", allow=EVERYONE, note="everyone signed in: a list of what they see"),
    E("hazards:detail", obj="hazard", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN,
                                                  roles(CITIZEN, rel=OWN))),
    E("hazards:transition", obj="hazard",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN)),
      kwargs=lambda h: {"pk": h.pk, "action": "verify_pass"},
      note="in scope but not this role's action: a redirect back with a message"),
    E("hazards:evidence", obj="evidence",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN)),
      note="a photo of a hazard the user sees (a citizen: of the hazard it reported)"),
    # -- places
    E("places:search", allow=EVERYONE),
    E("places:detail", obj="place", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("places:qr", obj="place", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("places:by_token", obj="place", kwargs=lambda p: {"token": p.qr_token},
      allow=merge(OFFICIALS_IN_SCOPE, anywhere(PARTY, CITIZEN, *ADMINS)),
      note="the token is printed on the door: non-officials are sent on to the portal, "
           "which shows a party its own places only; officials out of scope get 404"),
    # -- inspections
    E("inspections:new_place", allow=roles(*AREA_OFFICIALS, DEPT)),
    E("inspections:start", obj="place", kwargs=lambda p: {"place_pk": p.pk},
      allow=OFFICIALS_IN_SCOPE),
    E("inspections:walk", obj="place", allow=OFFICIALS_IN_SCOPE,
      kwargs=lambda p: {"place_pk": p.pk, "checklist_pk": _checklist_pk(p)}),
    E("inspections:quick_hazard", obj="place", kwargs=lambda p: {"place_pk": p.pk},
      allow=OFFICIALS_IN_SCOPE),
    E("inspections:detail", obj="inspection", allow=anywhere(*ROLES), anonymous=OPEN,
      note="a plain redirect to the notice, which checks the scope"),
    E("inspections:notice", obj="inspection", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("inspections:signature", obj="inspection", allow={},
      note="the sample inspections carry no signature, so in scope is 404 too; "
           "inspections/tests cover the file itself"),
    # -- documents (PDF notices, briefings)
    E("documents:notice_pdf", obj="inspection", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN),
      note="the same readers as the HTML notice"),
    E("documents:supervision_pdf", obj="supervision",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN),
      note="a citizen who reported the hazard sees it, but not the supervision document"),
    E("documents:briefing", allow=roles(*AREA_OFFICIALS),
      note="area roles only: a department sees some place kinds, not area totals"),
    E("documents:briefing_download", kwargs=lambda _o: {"fmt": "xlsx"},
      allow=roles(*AREA_OFFICIALS), note="without a choice: a redirect to the briefing page"),
    # -- the responsible party's portal
    E("portal:home", allow=roles(PARTY)),
    E("portal:enter", kwargs=lambda _o: {"token": "no-such-token"}, allow={},
      anonymous=NOT_FOUND, note="a party link; an unknown token is not found"),
    E("portal:leave", method="POST", allow=EVERYONE, anonymous=OPEN),
    E("portal:place", obj="place", allow=PARTY_OWN),
    E("portal:self_check", obj="place", allow=PARTY_OWN),
    E("portal:notice", obj="place", allow=PARTY_OWN),
    E("portal:hazard", obj="hazard", allow=PARTY_OWN),
    E("portal:rectify", obj="hazard", allow=PARTY_OWN),
    E("portal:extension", obj="hazard", allow=PARTY_OWN),
    E("portal:photo", obj="evidence", allow=PARTY_OWN),
    E("portal:party_links", obj="party", allow=OFFICIALS_IN_SCOPE),
    # -- citizen reports
    E("reports:new", allow=EVERYONE, anonymous=OPEN),
    E("reports:follow", allow=EVERYONE, anonymous=OPEN),
    E("reports:status", kwargs=lambda _o: {"ticket": "YK-AAAAAAAA"}, allow={},
      anonymous=NOT_FOUND, note="an unknown ticket is not found, for everyone"),
    E("reports:photo", kwargs=lambda _o: {"ticket": "YK-AAAAAAAA"}, allow={},
      anonymous=NOT_FOUND),
    E("reports:triage", allow=SIGNED_IN_OFFICIALS),
    E("reports:detail", obj="report", allow=roles(*AREA_OFFICIALS, rel=IN),
      note="triage is the territorial authority's: departments see no reports"),
    E("reports:triage_photo", obj="report", allow={},
      note="the sample reports carry no photo, so in scope is 404 too; "
           "reports/tests cover the photo itself"),
    # -- the API (session or token); anonymous: 401/403
    E("api-root", allow=EVERYONE),
    E("area-list", allow=EVERYONE),
    E("area-detail", obj="place", kwargs=lambda p: {"pk": p.area_id},
      allow=merge(roles(*OFFICIALS, rel=IN), anywhere(DEPT)),
      note="the area of the sample place; departments see the whole city's tree"),
    E("place-list", allow=EVERYONE),
    E("place-detail", obj="place", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("inspection-list", allow=EVERYONE),
    E("inspection-detail", obj="inspection", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("hazard-list", allow=EVERYONE),
    E("hazard-detail", obj="hazard",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN))),
    E("hazard-events", obj="hazard",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN))),
    E("hazard-transition", method="POST", obj="hazard", data={},
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN)),
      note="an empty body: reached means a 400 about the body, not 403/404"),
    E("party-list", allow=EVERYONE),
    E("party-detail", obj="party", allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN)),
    E("hazard-evidence", obj="hazard",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN))),
    E("hazard-extensions", obj="hazard",
      allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN))),
    *[E(f"hazard-{action}", method="POST", obj="hazard", data={},
        allow=merge(OFFICIALS_IN_SCOPE, PARTY_OWN, roles(CITIZEN, rel=OWN)),
        note="an empty body: whoever sees the hazard is answered 400 about the body (who "
             "may take the action is the service's rule, hazards/tests); out of scope 404")
      for action in ("confirm", "dismiss", "submit-rectification", "verify-pass",
                     "verify-fail", "hand-over", "enforcement-result", "look-back-pass",
                     "look-back-fail", "void", "request-extension", "approve-extension",
                     "refuse-extension", "decide-major", "reject-major", "list-supervision",
                     "delist-supervision")],
    E("citizen-report-list", allow=EVERYONE, note="a list of what each one sees (maybe none)"),
    E("citizen-report-detail", obj="report", allow=roles(*AREA_OFFICIALS, rel=IN),
      note="triage is the territorial authority's: departments see no reports"),
    *[E(f"citizen-report-{action}", method="POST", obj="report", data={},
        allow=roles(*AREA_OFFICIALS, rel=IN),
        note="an empty body: reached is a 400 about the body")
      for action in ("accept", "dismiss", "duplicate")],
    E("campaign-list", allow=EVERYONE, note="a list of what each one sees (maybe none)"),
    E("campaign-detail", obj="campaign", allow=merge(OFFICIALS_IN_SCOPE, anywhere(GRID, DEPT)),
      note="as the campaign pages: a town's campaign is seen from any part of the town"),
    E("campaign-task-list", allow=EVERYONE, note="a list of what each one sees (maybe none)"),
    E("campaign-task-detail", obj="task", allow=merge(OFFICIALS_IN_SCOPE, anywhere(DEPT)),
      note="as the task page"),
    E("api-schema", allow=EVERYONE, anonymous=OPEN),
    E("api-docs", allow=EVERYONE, anonymous=OPEN),
    # -- Open311 GeoReport v2: public by design (a citizen's app files and follows reports)
    E("open311:discovery", kwargs=lambda _o: {"fmt": "json"}, allow=EVERYONE, anonymous=OPEN),
    E("open311:services", kwargs=lambda _o: {"fmt": "json"}, allow=EVERYONE, anonymous=OPEN),
    E("open311:service", kwargs=lambda _o: {"code": "fire-hazard", "fmt": "json"},
      allow=EVERYONE, anonymous=OPEN),
    E("open311:request", obj="report", allow=anywhere(*ROLES), anonymous=OPEN,
      kwargs=lambda r: {"request_id": r.ticket, "fmt": "json"},
      note="the ticket is the reporter's key to the report: knowing it is enough"),
    E("open311:requests", obj="report", allow=anywhere(*ROLES), anonymous=OPEN,
      kwargs=lambda _r: {"fmt": "json"}, query=lambda r: {"service_request_id": r.ticket},
      note="by ticket; a list needs an api_key and is limited to its user's scope "
           "(open311/tests)"),
    E("open311:requests", method="POST", allow=EVERYONE, anonymous=OPEN,
      kwargs=lambda _o: {"fmt": "json"},
      note="anyone files a report (an empty body: 400 about the body)"),
    # -- campaigns: officials only (parties, citizens, administrators: 404). A town's
    # campaign is seen by whoever sees any part of the town: a grid worker of a neighbouring
    # grid too (the campaign's area contains theirs), and a department inspector, whose
    # jurisdiction is city-wide by kind of place, on every sample.
    E("campaigns:list", allow=SIGNED_IN_OFFICIALS),
    E("campaigns:new", allow=roles(CMD, TOWN), note="command HQ and town officers"),
    *[E(f"campaigns:{name}", obj="campaign",
        allow=merge(OFFICIALS_IN_SCOPE, anywhere(GRID, DEPT)))
      for name in ("detail", "tasks", "responsibilities", "problems", "findings")],
    E("campaigns:detail", method="POST", obj="campaign", allow=roles(CMD, TOWN, rel=IN),
      note="setting a target: managers of the campaign's area (an empty form: 200)"),
    E("campaigns:task_new", obj="campaign", allow=roles(CMD, TOWN, rel=IN)),
    E("campaigns:responsibility_new", obj="campaign", allow=roles(CMD, TOWN, rel=IN)),
    E("campaigns:draw_new", obj="campaign", allow=roles(CMD, TOWN, rel=IN),
      kwargs=lambda c: {"pk": c.pk, "kind": "look_back"}),
    E("campaigns:task", obj="task", allow=merge(OFFICIALS_IN_SCOPE, anywhere(DEPT)),
      note="a task of the place's grid: another grid's is 404"),
    E("campaigns:task", method="POST", obj="task", allow=roles(*AREA_OFFICIALS, rel=IN),
      note="reporting progress: the task's area officials and managers (a department: its "
           "own tasks only); an empty form: 200"),
    E("campaigns:task_evidence", obj="task_evidence",
      allow=merge(OFFICIALS_IN_SCOPE, anywhere(DEPT))),
    E("campaigns:draw", obj="draw", allow=merge(OFFICIALS_IN_SCOPE, anywhere(DEPT))),
    E("campaigns:draw_perform", method="POST", obj="draw",
      allow=merge(OFFICIALS_IN_SCOPE, anywhere(DEPT)),
      note="whoever sees the draw is sent back to it; only a manager's request draws "
           "(campaigns/tests); out of scope 404"),
    E("campaigns:look_back", obj="look_back", allow=OFFICIALS_IN_SCOPE,
      note="the sample item is assigned to the role's persona; out of scope, to someone "
           "else: only the assignee reaches it"),
    E("campaigns:duty_check", obj="duty_check", allow=OFFICIALS_IN_SCOPE,
      note="the sample check's checker is the role's persona; out of scope, someone else"),
    # -- notifications: one's own inbox; the delivery log and webhooks: the system admin
    E("notifications:inbox", allow=EVERYONE),
    E("notifications:bell", allow=EVERYONE),
    E("notifications:preferences", allow=EVERYONE),
    E("notifications:read_all", method="POST", allow=EVERYONE),
    E("notifications:read", method="POST", obj="notification",
      allow=merge(roles(*OFFICIALS, rel=IN), roles(PARTY, CITIZEN, rel=OWN)),
      note="the sample notice is the persona's own (IN/OWN); out of scope: someone else's"),
    E("notifications:deliveries", allow=roles(SYS), note="others: 403"),
    E("notifications:retry", method="POST", allow=roles(SYS),
      kwargs=lambda _o: {"pk": _delivery().pk},
      note="configuration, not case data: others are refused (403) whatever the delivery"),
    E("notifications:webhooks", allow=roles(SYS)),
    E("notifications:webhook", allow=roles(SYS), kwargs=lambda _o: {"pk": _webhook().pk}),
    # -- tenants (rental houses): through the place's scope
    E("tenants:place", obj="place", kwargs=lambda p: {"place_pk": p.pk},
      allow=merge(roles(*AREA_OFFICIALS, rel=IN), PARTY_OWN),
      note="rental houses only: the department's sample (a market) is 404"),
    E("tenants:register", obj="place", kwargs=lambda p: {"place_pk": p.pk},
      allow=merge(roles(*AREA_OFFICIALS, rel=IN), PARTY_OWN)),
    E("tenants:register", method="POST", obj="place", kwargs=lambda p: {"place_pk": p.pk},
      allow=merge(roles(*AREA_OFFICIALS, rel=IN), PARTY_OWN),
      note="an empty form: 400 about the form"),
    E("tenants:move_out", method="POST", obj="tenant", data={"moved_out_on": "2026-09-14"},
      allow=merge(roles(*AREA_OFFICIALS, rel=IN), PARTY_OWN),
      note="the department sees the (sample) tenant of its market but may not record it: 403"),
    E("tenants:reveal", obj="tenant", allow={},
      note="BIHUAN_PERSONAL_DATA_ROLES is empty by default: in scope 403, else 404"),
    E("tenants:reveal", method="POST", obj="tenant", allow={}, data={"reason": "matrix"}),
    E("tenants:lookup", allow=EVERYONE),
    E("tenants:lookup", method="POST", allow=EVERYONE, note="an empty form: 400"),
    # -- the command dashboard: area roles, their own subtree (a department: 404)
    E("dashboard:home", allow=roles(*AREA_OFFICIALS),
      note="a redirect to the widest area the user holds a role in"),
    *[E(f"dashboard:{name}", obj="place", kwargs=lambda p: {"code": p.area.code},
        allow=roles(*AREA_OFFICIALS, rel=IN), note="the dashboard of the sample place's grid")
      for name in ("area", "map_json", "map_svg")],
    # -- imports: officials; a job is its uploader's alone (anyone else: 404)
    E("imports:list", allow=SIGNED_IN_OFFICIALS),
    E("imports:list", method="POST", allow=SIGNED_IN_OFFICIALS,
      note="an empty upload form: shown again with its errors"),
    E("imports:detail", obj="import_job", allow=OFFICIALS_IN_SCOPE,
      note="the sample job is the persona's own (IN); out of scope: someone else's"),
    E("imports:errors", obj="import_job", allow=OFFICIALS_IN_SCOPE),
    *[E(f"imports:{name}", method="POST", obj="import_job", allow=OFFICIALS_IN_SCOPE,
        data=data, note="the owner is sent back to the job (with a message if refused)")
      for name, data in (("mapping", {}), ("check", {}), ("commit", {}),
                         ("decide", {"row": "2", "decision": "skip"}))],
    # -- Django's admin: staff only; everyone else is sent to the admin login
    E("admin:*", allow={}, note="no persona is staff: every admin URL → admin login"),
]


def _checklist_pk(place: Any) -> int:
    from bihuan.checklists.models import Checklist

    for checklist in Checklist.objects.active().filter(domain="fire"):
        if place.kind in checklist.place_kinds:
            return int(checklist.pk)
    raise LookupError(place.kind)


def row_for(key: str, route: str) -> list[E]:
    """The rows naming a URL pattern (its name, or its route when it has none)."""
    found = []
    for row in TABLE:
        if row.name.endswith("*"):
            prefix = row.name[:-1]
            if key.startswith(prefix) or route.startswith(prefix.replace(":", "/")):
                found.append(row)
        elif row.name == key:
            found.append(row)
    return found
