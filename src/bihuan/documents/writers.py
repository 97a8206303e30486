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
from bihuan.documents.rendering import image_url, render_pdf

BRIEFING_TEMPLATE = "documents/briefing.html"

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def _briefing_images(data: BriefingData) -> dict[str, tuple[bytes, str]]:
    """The charts drawn once in ``build_briefing``, handed to the PDF in memory (the DOCX
    embeds the same bytes)."""
    return {name: (content, "image/png")
            for name, content in (("trend", data.trend_png), ("ranking", data.ranking_png),
                                  ("map", data.map_png)) if content}


def briefing_context(data: BriefingData) -> dict[str, Any]:
    images = _briefing_images(data)
    return {
        "data": data,
        **{f"{name}_src": image_url(name) if name in images else ""
           for name in ("trend", "ranking", "map")},
    }


def briefing_pdf(data: BriefingData) -> bytes:
    return render_pdf(BRIEFING_TEMPLATE, briefing_context(data), _briefing_images(data))


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


# A cell as (text, right-aligned, bold).
_DocxCell = tuple[str, bool, bool]
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RIGHT = '<w:pPr><w:jc w:val="right"/></w:pPr>'


def _docx_run(text: str, bold: bool, size: int | None) -> str:
    """One ``w:r`` holding ``text`` (line breaks and tabs as Word's, as ``cell.text`` does)."""
    from xml.sax.saxutils import escape

    props = ("<w:b/>" if bold else "") + (f'<w:sz w:val="{size}"/>' if size else "")
    parts = []
    for i, line in enumerate(text.split("\n")):
        if i:
            parts.append("<w:br/>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{f'<w:rPr>{props}</w:rPr>' if props else ''}{''.join(parts)}</w:r>"


def _docx_rows(grid: Any, rows: list[list[_DocxCell]], size: int | None = None) -> None:
    """Appends rows to a python-docx table as XML, the markup ``add_row`` and ``cell.text``
    write: building them through python-docx's cell objects (each lookup walks the whole
    table) was most of the DOCX's time."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import parse_xml

    widths = [col.get(qn("w:w")) for col in grid._tbl.tblGrid.findall(qn("w:gridCol"))]
    tbl = grid._tbl
    for row in rows:
        cells = "".join(
            f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
            f"{_RIGHT if right else ''}"
            f"{_docx_run(text, bold, size)}</w:p></w:tc>"
            for (text, right, bold), width in zip(row, widths, strict=True))
        tbl.append(parse_xml(f'<w:tr xmlns:w="{_W_NS}">{cells}</w:tr>'))


def _heading(document: Any, text: str, level: int) -> Any:
    """``document.add_heading`` by style id: python-docx resolves a style's name by
    scanning every style of the document, per heading and per table."""
    paragraph = document.add_paragraph(text)
    paragraph._p.style = "Title" if level == 0 else f"Heading{level}"
    return paragraph


def _grid(document: Any, cols: int) -> Any:
    """An empty table in the "Table Grid" style (by its id, as in :func:`_heading`)."""
    grid = document.add_table(rows=0, cols=cols)
    grid._tbl.tblStyle_val = "TableGrid"
    return grid


def _docx_table(document: Any, table: Table) -> None:
    _heading(document, table.title, 2)
    if not table.rows:
        document.add_paragraph(_("None."))
        return
    grid = _grid(document, len(table.columns))
    numeric = [c.kind != "text" for c in table.columns]
    header: list[_DocxCell] = [(c.label, False, True) for c in table.columns]
    body: list[list[_DocxCell]] = [
        [(text, is_number, False) for text, is_number in zip(row, numeric, strict=True)]
        for row in table.formatted()]
    _docx_rows(grid, [header, *body], size=16)  # 8 pt


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

    heading = _heading(document, data.title, 0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = document.add_paragraph(_briefing_subtitle(data))
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(document, _("Headline figures"), 2)
    figures = _grid(document, 4)
    items = data.all_figures
    figure_rows: list[list[_DocxCell]] = []
    for i in range(0, len(items), 2):
        row: list[_DocxCell] = []
        for figure in items[i:i + 2]:
            row += [(figure.label, False, False), (figure.text, True, False)]
        figure_rows.append(row + [("", False, False)] * (4 - len(row)))
    _docx_rows(figures, figure_rows)

    if data.trend_png:
        _heading(document, _("Trend"), 2)
        document.add_picture(io.BytesIO(data.trend_png), width=Cm(22))
    _docx_table(document, data.ranking)
    if data.ranking_png:
        document.add_picture(io.BytesIO(data.ranking_png), width=Cm(18))
    _docx_table(document, data.overdue)
    _docx_table(document, data.major)
    if data.map_png:
        _heading(document, _("Map of open hazards"), 2)
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
