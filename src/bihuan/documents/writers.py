"""The briefing in three formats, each laid out from the same ``BriefingData``.

PDF: the ``documents/briefing.html`` template through WeasyPrint. DOCX: python-docx,
with the shipped font named for Latin and East Asian text (``w:eastAsia``), so
Word shows Chinese in it where it is installed and the reader's CJK font
otherwise. XLSX: openpyxl, one sheet per table, numbers stored as numbers (rates
as fractions with a percent format), so officials can keep calculating.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from bihuan.documents import fonts
from bihuan.documents.briefing import BriefingData, Table
from bihuan.documents.rendering import data_uri, render_pdf

BRIEFING_TEMPLATE = "documents/briefing.html"

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def briefing_context(data: BriefingData) -> dict[str, Any]:
    return {
        "data": data,
        "trend_src": data_uri(data.trend_png, "image/png") if data.trend_png else "",
        "ranking_src": data_uri(data.ranking_png, "image/png") if data.ranking_png else "",
        "map_src": data_uri(data.map_png, "image/png") if data.map_png else "",
    }


def briefing_pdf(data: BriefingData) -> bytes:
    return render_pdf(BRIEFING_TEMPLATE, briefing_context(data))


# ---------------------------------------------------------------- DOCX


def _east_asian_font(run_or_style: Any) -> None:
    from docx.oxml.ns import qn

    run_or_style.font.name = fonts.FONT_NAME
    r_pr = run_or_style.element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        r_fonts.set(qn(attr), fonts.FONT_NAME)


def _docx_table(document: Any, table: Table) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document.add_heading(table.title, level=2)
    if not table.rows:
        document.add_paragraph(_("None."))
        return
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
        cell.text = column.label
        for run in cell.paragraphs[0].runs:
            run.bold = True
    numeric = [c.kind != "text" for c in table.columns]
    for row in table.formatted():
        cells = grid.add_row().cells
        for cell, text, is_number in zip(cells, row, numeric, strict=True):
            cell.text = text
            if is_number:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)


def briefing_docx(data: BriefingData) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.6))
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style = document.styles[style_name]
        _east_asian_font(style)
    document.styles["Normal"].font.size = Pt(10)
    core = document.core_properties
    core.title = f"{data.area.name} {data.title} {data.period_text}"
    core.author = data.area.name

    heading = document.add_heading(data.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = document.add_paragraph(_briefing_subtitle(data))
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading(_("Headline figures"), level=2)
    figures = document.add_table(rows=0, cols=4)
    figures.style = "Table Grid"
    items = data.all_figures
    for i in range(0, len(items), 2):
        cells = figures.add_row().cells
        for j, figure in enumerate(items[i:i + 2]):
            cells[2 * j].text = figure.label
            cells[2 * j + 1].text = figure.text
            cells[2 * j + 1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT

    if data.trend_png:
        document.add_heading(_("Trend"), level=2)
        document.add_picture(io.BytesIO(data.trend_png), width=Cm(22))
    _docx_table(document, data.ranking)
    if data.ranking_png:
        document.add_picture(io.BytesIO(data.ranking_png), width=Cm(18))
    _docx_table(document, data.overdue)
    _docx_table(document, data.major)
    if data.map_png:
        document.add_heading(_("Map of open hazards"), level=2)
        document.add_picture(io.BytesIO(data.map_png), width=Cm(14))
    document.add_paragraph(_generated_line(data))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- XLSX

_NUMBER_FORMATS = {"int": "0", "rate": "0.0%", "score": "0.000", "decimal": "0.0",
                   "date": "yyyy-mm-dd"}


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\ .
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def _write_table(sheet: Any, table: Table) -> None:
    from openpyxl.styles import Font

    sheet.append([c.label for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    for index, column in enumerate(table.columns, start=1):
        fmt = _NUMBER_FORMATS.get(column.kind)
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
        width = 40 if column.key in ("description", "place") else 14
        sheet.column_dimensions[cell_letter(index)].width = width
    sheet.freeze_panes = "A2"


def cell_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def briefing_xlsx(data: BriefingData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(_("Figures"))
    sheet.append([data.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_briefing_subtitle(data)])
    sheet.append([])
    sheet.append([_("Figure"), _("Value"), _("Key")])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for figure in data.all_figures:
        sheet.append([figure.label, figure.value, figure.key])
        fmt = _NUMBER_FORMATS.get(figure.kind)
        if fmt:
            sheet.cell(row=sheet.max_row, column=2).number_format = fmt
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 24
    for table in data.tables:
        _write_table(workbook.create_sheet(_sheet_title(table.title)), table)
    workbook.properties.title = f"{data.area.name} {data.title} {data.period_text}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- shared words


def _briefing_subtitle(data: BriefingData) -> str:
    parts = [data.area.name, data.period_text]
    if data.campaign is not None:
        parts.append(data.campaign.name)
    return " · ".join(parts)


def _generated_line(data: BriefingData) -> str:
    return _("Generated %(at)s from the records in Bihuan.") % {
        "at": timezone.localtime(data.generated_at).strftime("%Y-%m-%d %H:%M")}


def render(data: BriefingData, fmt: str) -> bytes:
    if fmt == "pdf":
        return briefing_pdf(data)
    if fmt == "docx":
        return briefing_docx(data)
    if fmt == "xlsx":
        return briefing_xlsx(data)
    raise ValueError(fmt)
