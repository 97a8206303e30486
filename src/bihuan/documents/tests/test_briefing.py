"""The briefing: one assembly, three formats that agree, figures equal to the records."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from bihuan.core import clock
from bihuan.documents import fonts
from bihuan.documents.briefing import Period, build_briefing, format_cell
from bihuan.documents.tests.pdfcheck import needs_poppler, pdf_fonts, pdf_rows, pdf_text
from bihuan.hazards import services
from bihuan.hazards.choices import HazardState, Severity
from bihuan.hazards.models import Hazard
from bihuan.places.models import Place
from bihuan.testing import after_photo, before_photo, future

pytestmark = pytest.mark.django_db

DESCRIPTIONS = {
    "baita_rental": "楼道内电动车违规充电",
    "baita_shop": "灭火器压力不足",
    "wujin_market": "疏散通道被货物堵塞",
    "loutang_rental": "住人与仓储未有效分隔",
}


def _register(world, place, actor, description, **kwargs):
    checklist = world.checklist_for(world.places[place])
    item = next(i for i in checklist.items.all() if i.severity == "general")
    return services.register_hazard(actor=world.users[actor], place=world.places[place],
                                    item=item, description=description,
                                    evidence=[before_photo()], **kwargs)


@pytest.fixture
def city_week(world):
    """A week in the world: hazards found in both towns, one closed, two overdue, one
    candidate major; the clock ends five days after the first findings."""
    u = world.users
    hazards = {
        "baita_rental": _register(world, "baita_rental", "baita_grid_worker",
                                  DESCRIPTIONS["baita_rental"], deadline=future(2)),
        "baita_shop": _register(world, "baita_shop", "baita_grid_worker",
                                DESCRIPTIONS["baita_shop"], deadline=future(3)),
        "wujin_market": _register(world, "wujin_market", "east_officer",
                                  DESCRIPTIONS["wujin_market"], deadline=future(10)),
        "loutang_rental": _register(world, "loutang_rental", "west_officer",
                                    DESCRIPTIONS["loutang_rental"], deadline=future(2)),
    }
    closed = services.submit_rectification(hazards["baita_shop"], actor=u["shopkeeper"],
                                           evidence=[after_photo()])
    services.pass_verification(closed, actor=u["east_officer"])
    Hazard.objects.filter(pk=hazards["wujin_market"].pk).update(major_candidate=True)
    clock.freeze(clock.now() + dt.timedelta(days=5))
    return hazards


def _raw(area_path: str, day: dt.date) -> dict[str, int]:
    """The figures counted straight from the hazard and place tables."""
    hazards = Hazard.objects.filter(area__path__startswith=area_path)
    counted = hazards.exclude(state__in=[HazardState.DISMISSED, HazardState.VOIDED])
    return {
        "places": Place.objects.filter(area__path__startswith=area_path, active=True).count(),
        "hazards_found": counted.count(),
        "closed": hazards.filter(state=HazardState.CLOSED).count(),
        "open": hazards.open().count(),
        "open_overdue": hazards.overdue(day).count(),
        "major_open": hazards.open().filter(severity=Severity.MAJOR).count(),
    }


@needs_poppler
def test_the_command_writes_three_formats_that_agree_with_the_records(world, city_week,
                                                                      tmp_path):
    import docx
    import openpyxl

    day = clock.today()
    out = io.StringIO()
    tmp_path = tmp_path / "out"
    call_command("briefing", area=world.city.code, date=day.isoformat(), out=str(tmp_path),
                 stdout=out, stderr=io.StringIO())
    written = sorted(p.suffix for p in tmp_path.iterdir())
    assert written == [".docx", ".pdf", ".xlsx"]
    pdf = next(tmp_path.glob("*.pdf")).read_bytes()
    with translation.override("zh-hans"):
        data = build_briefing(user=world.users["commander"], area=world.city, day=day,
                              with_charts=False)

    # XLSX: the figures sheet holds numbers equal to the raw counts.
    book = openpyxl.load_workbook(next(tmp_path.glob("*.xlsx")))
    figures_sheet = book.worksheets[0]
    by_key = {row[2]: row[1] for row in figures_sheet.iter_rows(min_row=5, values_only=True)}
    raw = _raw(world.city.path, day)
    for key, expected in raw.items():
        assert by_key[key] == expected, key
        assert isinstance(by_key[key], int)
    assert raw["open_overdue"] == 2 and raw["closed"] == 1
    assert by_key["closure_rate"] == pytest.approx(raw["closed"] / raw["hazards_found"])

    # The same ranking table in XLSX, DOCX and PDF.
    ranking = data.ranking
    assert [r[1] for r in ranking.rows] and {r[1] for r in ranking.rows} == {"东城街道", "西城街道"}
    ranking_sheet = book.worksheets[1]
    sheet_rows = [list(r) for r in ranking_sheet.iter_rows(min_row=2, values_only=True)]
    assert [[format_cell(v, c.kind) for v, c in zip(row, ranking.columns, strict=True)]
            for row in sheet_rows] == ranking.formatted()
    assert [c.value for c in ranking_sheet[1]] == [c.label for c in ranking.columns]
    assert [ws.max_row - 1 for ws in book.worksheets[2:]] == [len(data.overdue.rows),
                                                              len(data.major.rows)]

    document = docx.Document(io.BytesIO(next(tmp_path.glob("*.docx")).read_bytes()))
    header = [c.label for c in ranking.columns]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    docx_ranking = next(t for t in tables if t[0] == header)
    assert docx_ranking[1:] == ranking.formatted()
    normal_fonts = document.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    ) == fonts.FONT_NAME

    text = pdf_text(pdf)
    printed_rows = pdf_rows(pdf)
    for row in ranking.formatted():
        assert row in printed_rows, row
    for place in ("baita_rental", "loutang_rental", "wujin_market"):
        assert place in text
    for key in ("baita_rental", "loutang_rental", "wujin_market"):
        assert DESCRIPTIONS[key] in text
    assert "东城街道" in text and "永康市" in text
    for figure in data.all_figures:
        assert "".join(figure.label.split()) + figure.text in text, figure
    used = pdf_fonts(pdf)
    assert used and all(f["emb"] == "yes" for f in used)
    assert any(fonts.CSS_FAMILY in f["name"] for f in used)


def test_the_weekly_briefing_counts_the_week(world, city_week):
    day = clock.today()
    data = build_briefing(user=world.users["commander"], area=world.city, day=day,
                          period=Period.WEEKLY, with_charts=False)
    assert data.start == day - dt.timedelta(days=6)
    found = {f.key: f.value for f in data.period_figures}
    assert found["found_in_period"] == 4
    assert found["closed_in_period"] == 1
    daily = build_briefing(user=world.users["commander"], area=world.city, day=day,
                           with_charts=False)
    assert {f.key: f.value for f in daily.period_figures}["found_in_period"] == 0


def test_a_town_officer_gets_the_xlsx_of_its_town_only(client, world, city_week):
    import openpyxl

    client.force_login(world.users["east_officer"])
    url = reverse("documents:briefing_download", args=["xlsx"])
    response = client.get(url, {"area": world.towns["east"].code,
                                "date": clock.today().isoformat(), "period": "daily"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    by_key = {r[2]: r[1] for r in book.worksheets[0].iter_rows(min_row=5, values_only=True)}
    assert by_key["hazards_found"] == _raw(world.towns["east"].path, clock.today())[
        "hazards_found"] == 3
    overdue_places = {r[1] for r in book.worksheets[2].iter_rows(min_row=2, values_only=True)}
    assert overdue_places == {"baita_rental"}
    # The west is not the east officer's: the same answer as an unknown code.
    response = client.get(url, {"area": world.towns["west"].code,
                                "date": clock.today().isoformat()},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "No area with code" in response.content.decode()


def test_bad_dates_and_areas_get_a_clear_error_and_no_file(client, world):
    client.force_login(world.users["commander"])
    url = reverse("documents:briefing_download", args=["pdf"])
    with translation.override("en"):
        future_msg = _("A briefing cannot be made for a future date.")
        format_msg = _("Enter the date as YYYY-MM-DD, e.g. 2026-09-14.")
    cases = [
        ({"area": world.city.code, "date": "2026-13-40"}, format_msg),
        ({"area": world.city.code, "date": future(1).isoformat()}, future_msg),
        ({"area": "999999", "date": clock.today().isoformat()}, "No area with code"),
    ]
    for params, message in cases:
        response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, params
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode(), params
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("briefing", area=world.city.code, date="14/09/2026", language="en")
    with pytest.raises(CommandError, match="999999"):
        call_command("briefing", area="999999", date=clock.today().isoformat(), language="en")


def test_only_area_roles_reach_the_briefing_page(client, world):
    url = reverse("documents:briefing")
    for persona in ("commander", "east_officer", "baita_cadre"):
        client.force_login(world.users[persona])
        assert client.get(url).status_code == 200, persona
    client.force_login(world.users["east_officer"])
    page = client.get(url).content.decode()
    assert world.towns["east"].code in page and world.towns["west"].code not in page
    chosen = client.get(url, {"area": world.towns["east"].code, "date": "2026-09-14",
                              "period": "weekly"}).content.decode()
    assert reverse("documents:briefing_download", args=["docx"]) + "?area=" in chosen
    # A download link without a choice leads to the page to choose on.
    bare = client.get(reverse("documents:briefing_download", args=["pdf"]))
    assert bare.status_code == 302 and bare["Location"] == url
    for persona in ("fire_inspector", "landlord", "citizen", "system_admin"):
        client.force_login(world.users[persona])
        assert client.get(url).status_code == 404, persona


def test_the_map_says_when_it_shows_fewer_than_every_open_hazard(world, city_week,
                                                                 monkeypatch):
    from bihuan.documents import briefing

    drawn = {}

    def hazard_map(points, labels, title, legend, subtitle=""):
        drawn.update(points=points, labels=labels, subtitle=subtitle)
        return b"png"

    monkeypatch.setattr(briefing.charts, "hazard_map", hazard_map)
    with translation.override("en"):
        data = build_briefing(user=world.users["commander"], area=world.city,
                              day=clock.today())
        located = len(drawn["points"])
        open_ = {f.key: f.value for f in data.figures}["open"]
        assert located and open_ == 3
        if located == open_:
            assert "open hazards shown" not in drawn["subtitle"]
        # At most MAP_POINTS dots, the most urgent (major first, then by deadline), and
        # the map says how many of how many it shows.
        monkeypatch.setattr(briefing, "MAP_POINTS", 1)
        build_briefing(user=world.users["commander"], area=world.city, day=clock.today())
    assert len(drawn["points"]) == 1
    assert "1 of 3 open hazards shown" in drawn["subtitle"]
    assert drawn["points"][0].severity in {"major", "general", "on_the_spot"}
