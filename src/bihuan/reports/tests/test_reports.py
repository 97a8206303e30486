"""Citizen reports: filed without an account, followed by ticket, triaged in scope."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from bihuan.areas.models import Area
from bihuan.audit.models import AuditEntry
from bihuan.core import clock, images
from bihuan.core.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import EvidenceKind, HazardSource, HazardState
from bihuan.hazards.models import Hazard
from bihuan.reports import services
from bihuan.reports.choices import ReportStatus
from bihuan.reports.geo import haversine_m
from bihuan.reports.models import CitizenReport
from bihuan.testing import future, tiny_jpeg

pytestmark = pytest.mark.django_db

# Centres far enough apart that "nearest" means something (WGS-84).
CENTRES = {
    "east": (Decimal("28.900000"), Decimal("120.060000")),
    "west": (Decimal("28.880000"), Decimal("119.990000")),
    "baita": (Decimal("28.905000"), Decimal("120.075000")),
    "wujin": (Decimal("28.915000"), Decimal("120.050000")),
    "loutang": (Decimal("28.870000"), Decimal("119.980000")),
}
NEAR_BAITA = (Decimal("28.905300"), Decimal("120.075200"))  # ~40 m from 白塔村's centre


@pytest.fixture
def located(world):  # type: ignore[no-untyped-def]
    areas = {**world.towns, **world.villages}
    for key, (lat, lon) in CENTRES.items():
        Area.objects.filter(pk=areas[key].pk).update(latitude=lat, longitude=lon)
    # Grids have no centre of their own.
    Area.objects.filter(level="grid").update(latitude=None, longitude=None)
    Area.objects.filter(pk=world.city.pk).update(latitude=None, longitude=None)
    return world


def jpeg_with_gps(lat: float = 28.9, lon: float = 120.05) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (float(int(lat)), (lat % 1) * 60, 0.0),
                    3: "E", 4: (float(int(lon)), (lon % 1) * 60, 0.0)}
    exif[0x0132] = "2026:09:14 09:30:00"
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 40, 40)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _file(world, *, ip="198.51.100.7", at=NEAR_BAITA, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("description", "楼道里有电动车在充电")
    lat, lon = at if at is not None else (None, None)
    return services.file_report(latitude=lat, longitude=lon, client_ip=ip, **kwargs)


def _media_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- filing


def test_a_citizen_files_a_report_without_logging_in_and_gets_a_ticket(located, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("reports:new"), {
        "description": "安全出口被锁住了",
        "photo": SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg"),
        "town": located.towns["east"].pk,
        "place_description": "白塔村18号后门",
        "contact": "13812345678",
    })
    assert response.status_code == 302
    report = CitizenReport.objects.get()
    assert re.fullmatch(r"YK-[A-Z2-7]{8}", report.ticket)
    assert response["Location"] == reverse("reports:status", args=[report.ticket]) + "?filed=1"
    assert report.status == ReportStatus.NEW
    assert report.area == located.towns["east"]
    assert report.photo and report.photo_latitude == Decimal("28.900000")
    assert report.reporter_ip_hash and "127.0.0.1" not in report.reporter_ip_hash
    entry = AuditEntry.objects.get(action="report.file")
    assert "13812345678" not in str(entry.data)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert report.ticket in html
    assert "13812345678" not in html
    assert "白塔村18号后门" not in html
    assert page["Referrer-Policy"] == "same-origin"


def test_the_phone_location_picks_the_nearest_village(located):
    report = _file(located)
    assert report.area == located.villages["baita"]
    assert report.latitude == NEAR_BAITA[0]


def test_a_chosen_town_wins_over_a_location_in_another_town(located):
    report = _file(located, town=located.towns["west"])
    assert report.area == located.towns["west"]


def test_a_report_without_location_or_town_is_refused(located):
    with pytest.raises(ValidationFailed) as error:
        _file(located, at=None)
    assert error.value.field == "town"
    assert not CitizenReport.objects.exists()


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(located, settings):
    with pytest.raises(ValidationFailed) as error:
        _file(located, photo=b"GIF89a not a photo")
    assert error.value.field == "photo"
    assert not CitizenReport.objects.exists()
    assert _media_files(settings) == []


def test_the_rate_limit_per_hour_gives_a_clear_error_and_writes_nothing(located, client,
                                                                        settings):
    settings.BIHUAN_REPORTS_PER_HOUR = 2
    settings.BIHUAN_REPORTS_PER_DAY = 10
    for _ in range(2):
        _file(located, ip="127.0.0.1")
    files_before = _media_files(settings)
    audit_before = AuditEntry.objects.count()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("reports:new"), {
        "description": "第三次", "town": located.towns["east"].pk,
        "photo": SimpleUploadedFile("p.jpg", tiny_jpeg(3), content_type="image/jpeg"),
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "You have already sent 2 reports in the last hour" in response.content.decode()
    assert CitizenReport.objects.count() == 2
    assert AuditEntry.objects.count() == audit_before
    assert _media_files(settings) == files_before
    # Another address is not held back; the first one may report again an hour later.
    _file(located, ip="203.0.113.9")
    clock.advance(dt.timedelta(minutes=61))
    _file(located, ip="127.0.0.1")
    assert CitizenReport.objects.count() == 4


def test_the_rate_limit_per_day_counts_across_hours(located, settings):
    settings.BIHUAN_REPORTS_PER_HOUR = 5
    settings.BIHUAN_REPORTS_PER_DAY = 3
    for _ in range(3):
        _file(located)
        clock.advance(dt.timedelta(hours=2))
    with pytest.raises(ValidationFailed, match="today"):
        _file(located)
    clock.advance(dt.timedelta(hours=20))
    _file(located)


def test_an_unknown_ticket_is_404(client, located):
    assert client.get(reverse("reports:status", args=["YK-AAAAAAAA"])).status_code == 404
    response = client.get(reverse("reports:follow"), {"ticket": "YK-AAAAAAAA"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_the_follow_form_finds_a_ticket_in_lower_case(client, located):
    report = _file(located)
    response = client.get(reverse("reports:follow"), {"ticket": report.ticket.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:status", args=[report.ticket])


def test_the_public_photo_is_a_copy_without_exif(client, located):
    report = _file(located, photo=jpeg_with_gps())
    response = client.get(reverse("reports:photo", args=[report.ticket]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    info = images.validate_image(response.content)
    assert info.latitude is None and info.taken_at is None


# ---------------------------------------------------------------- triage


def test_triage_accept_creates_a_reported_hazard_from_a_citizen_report(located, client):
    report = _file(located, photo=jpeg_with_gps(), contact="13812345678",
                   place_description="白塔村出租房")
    officer = located.users["east_officer"]
    place = located.places["baita_rental"]
    hazard = services.triage_accept(actor=officer, report=report, place=place)
    assert hazard.state == HazardState.REPORTED
    assert hazard.source == HazardSource.CITIZEN_REPORT
    assert hazard.place == place
    assert hazard.description == report.description
    before = hazard.evidence.get()
    assert before.kind == EvidenceKind.BEFORE and before.sha256 == report.photo_sha256
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert report.hazard == hazard and report.triaged_by == officer
    assert AuditEntry.objects.filter(action="report.accept").count() == 1

    status_url = reverse("reports:status", args=[report.ticket])
    html = client.get(status_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待核实" in html
    assert hazard.number in html
    assert "白塔村" in html and located.grids["baita-1"].name not in html
    # Never the private address, the place's name, nor the reporter's own details.
    for secret in (place.address, place.name, "13812345678", "白塔村出租房"):
        assert secret not in html
    # The official confirms it on site through the normal loop; the reporter sees it.
    hazard_services.confirm_report(hazard, actor=officer, requirement="禁止楼道充电",
                                   deadline=future(3))
    html = client.get(status_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "整改中" in html


def test_triage_accept_through_the_page(located, client):
    report = _file(located)
    client.force_login(located.users["east_officer"])
    url = reverse("reports:detail", args=[report.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "baita_rental" in page.content.decode()
    response = client.post(url, {"action": "accept", "place": located.places["baita_rental"].pk,
                                 "item_code": "", "description": "楼道充电"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.hazard is not None and report.hazard.description == "楼道充电"


def test_an_unknown_hazard_code_is_a_form_error_and_writes_nothing(located, client):
    report = _file(located)
    client.force_login(located.users["east_officer"])
    response = client.post(reverse("reports:detail", args=[report.pk]), {
        "action": "accept", "place": located.places["baita_rental"].pk, "item_code": "ZZ-99",
    })
    assert response.status_code == 200
    assert "ZZ-99" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW
    assert report.hazard is None
    assert not Hazard.objects.exists()


def test_officials_of_another_town_get_404_on_the_report(located, client):
    report = _file(located)
    west = located.users["west_officer"]
    client.force_login(west)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
    response = client.post(reverse("reports:detail", args=[report.pk]),
                           {"action": "dismiss", "reason": "不是我们的"})
    assert response.status_code == 404
    assert client.get(reverse("reports:triage_photo", args=[report.pk])).status_code == 404
    with pytest.raises(NotFound):
        services.triage_accept(actor=west, report=report,
                               place=located.places["loutang_rental"])
    with pytest.raises(NotFound):
        services.triage_dismiss(actor=west, report=report, reason="x")
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW
    listing = client.get(reverse("reports:triage")).content.decode()
    assert report.ticket not in listing


def test_department_inspectors_see_no_reports(located, client):
    report = _file(located)
    inspector = located.users["fire_inspector"]
    assert not CitizenReport.objects.visible_to(inspector).exists()
    client.force_login(inspector)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
    assert client.get(reverse("reports:triage")).status_code == 200


def test_who_sees_which_report(located):
    baita_report = _file(located)
    west_report = _file(located, at=CENTRES["loutang"], ip="203.0.113.1")
    seen = {name: set(CitizenReport.objects.visible_to(located.users[name])
                      .values_list("pk", flat=True))
            for name in ("commander", "east_officer", "west_officer", "baita_cadre",
                         "baita_grid_worker", "landlord", "citizen", "system_admin")}
    assert seen["commander"] == {baita_report.pk, west_report.pk}
    assert seen["east_officer"] == {baita_report.pk}
    assert seen["baita_cadre"] == {baita_report.pk}
    assert seen["west_officer"] == {west_report.pk}
    for name in ("baita_grid_worker", "landlord", "citizen", "system_admin"):
        assert seen[name] == set(), name


def test_the_triage_list_shows_reports_in_scope_newest_first(located, client):
    first = _file(located)
    clock.advance(dt.timedelta(minutes=5))
    second = _file(located, ip="203.0.113.2")
    client.force_login(located.users["east_officer"])
    html = client.get(reverse("reports:triage")).content.decode()
    assert html.index(second.ticket) < html.index(first.ticket)
    filtered = client.get(reverse("reports:triage"), {"status": "accepted"}).content.decode()
    assert first.ticket not in filtered


def test_parties_and_citizens_get_404_on_triage(located, client):
    client.force_login(located.users["landlord"])
    assert client.get(reverse("reports:triage")).status_code == 404
    client.force_login(located.users["citizen"])
    assert client.get(reverse("reports:triage")).status_code == 404


def test_dismissal_needs_a_reason_and_the_reporter_reads_it(located, client):
    report = _file(located)
    cadre = located.users["baita_cadre"]
    with pytest.raises(ValidationFailed):
        services.triage_dismiss(actor=cadre, report=report, reason=" ")
    services.triage_dismiss(actor=cadre, report=report, reason="现场核查无此情况")
    with pytest.raises(TransitionNotAllowed):
        services.triage_dismiss(actor=cadre, report=report, reason="again")
    html = client.get(reverse("reports:status", args=[report.ticket])).content.decode()
    assert "现场核查无此情况" in html


def test_a_grid_worker_may_not_dismiss(located):
    report = _file(located)
    # Reports fall in a village; give the grid worker that village to see it.
    from bihuan.accounts.choices import Role
    from bihuan.accounts.models import Membership

    worker = located.users["baita_grid_worker"]
    Membership.objects.create(user=worker, role=Role.GRID_WORKER,
                              area=located.villages["baita"])
    from bihuan.accounts.models import User

    worker = User.objects.get(pk=worker.pk)
    with pytest.raises(PermissionDenied):
        services.triage_dismiss(actor=worker, report=report, reason="无")


# ---------------------------------------------------------------- de-duplication


def test_nearby_open_reports_are_listed_as_duplicate_candidates(located, client):
    first = _file(located, ip="203.0.113.1")
    near = (NEAR_BAITA[0] + Decimal("0.0003"), NEAR_BAITA[1])  # ~33 m north
    far = (NEAR_BAITA[0] + Decimal("0.0050"), NEAR_BAITA[1])  # ~550 m north
    second = _file(located, at=near, ip="203.0.113.2")
    third = _file(located, at=far, ip="203.0.113.3")
    no_location = _file(located, at=None, town=located.towns["east"], ip="203.0.113.4")
    dismissed = _file(located, ip="203.0.113.5")
    officer = located.users["east_officer"]
    services.triage_dismiss(actor=officer, report=dismissed, reason="重复")
    assert 30 < haversine_m(*NEAR_BAITA, *near) < 40

    candidates = services.nearby_open_reports(second, officer)
    assert [(r.pk, round(d)) for r, d in candidates] == [(first.pk, 33)]
    assert services.nearby_open_reports(third, officer) == []
    assert services.nearby_open_reports(no_location, officer) == []

    client.force_login(officer)
    html = client.get(reverse("reports:detail", args=[second.pk])).content.decode()
    assert first.ticket in html
    assert third.ticket not in html and dismissed.ticket not in html

    # An accepted report whose hazard is still open stays a candidate.
    services.triage_accept(actor=officer, report=first, place=located.places["baita_rental"])
    assert [r.pk for r, _d in services.nearby_open_reports(second, officer)] == [first.pk]

    response = client.post(reverse("reports:detail", args=[second.pk]),
                           {"action": "duplicate", "of": first.pk})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == ReportStatus.DUPLICATE and second.duplicate_of == first
    # The duplicate's reporter follows the original's outcome.
    html = client.get(reverse("reports:status", args=[second.ticket]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待核实" in html


def test_a_duplicate_points_at_the_first_report_of_the_chain(located):
    officer = located.users["east_officer"]
    a = _file(located, ip="203.0.113.1")
    b = _file(located, ip="203.0.113.2")
    c = _file(located, ip="203.0.113.3")
    services.mark_duplicate(actor=officer, report=b, of=a)
    services.mark_duplicate(actor=officer, report=c, of=b)
    c.refresh_from_db()
    assert c.duplicate_of == a
    d = _file(located, ip="203.0.113.4")
    with pytest.raises(ValidationFailed):
        services.mark_duplicate(actor=officer, report=d, of=d)
    with pytest.raises(TransitionNotAllowed):
        services.mark_duplicate(actor=officer, report=b, of=d)


def test_a_report_waiting_past_the_check_time_is_flagged(located, client, settings):
    settings.BIHUAN_REPORT_CHECK_HOURS = 24
    report = _file(located)
    client.force_login(located.users["east_officer"])
    page = client.get(reverse("reports:triage"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting too long" not in page
    clock.advance(dt.timedelta(hours=25))
    page = client.get(reverse("reports:triage"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting too long" in page
    services.triage_dismiss(actor=located.users["east_officer"], report=report, reason="无")
    page = client.get(reverse("reports:triage"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting too long" not in page


def test_a_duplicate_by_ticket_must_be_a_report_the_official_sees(located, client):
    west_report = _file(located, at=CENTRES["loutang"], ip="203.0.113.1")
    report = _file(located, ip="203.0.113.2")
    client.force_login(located.users["east_officer"])
    response = client.post(reverse("reports:detail", args=[report.pk]),
                           {"action": "duplicate", "of_ticket": west_report.ticket})
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW
