"""Deliberately messy ledgers, built the way officials' Excel files look."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import Workbook

TITLE = "东城街道出租房消防安全台账"
TOP = ["序号", "场所名称", "地址", "负责人信息", None, "场所类型", "所属村（社区）",
       "隐患描述", "整改期限"]
BOTTOM = [None, None, None, "姓名", "联系电话", None, None, None, None]
BROKEN_ROW = 9  # the Excel row number of the broken row


def messy_rows(*, broken: bool) -> list[list[Any] | None]:
    """Data rows from Excel row 4 on; None is a blank row."""
    bad = (["5", "坏行", "", "周先生", "12345", "出租房", "白塔村", "线路老化", "2026-13-45"]
           if broken else
           ["5", "好行", "白塔村20号", "周先生", "13500000015", "出租房", "白塔村", "线路老化",
            "2026-10-20"])
    return [
        # 4: full-width digits in the address, spaces in the phone, dotted date
        ["1", "白塔村出租房甲", "白塔村１２号", "楼先生", "138 0000 0011", "出租房", "白塔村",
         "疏散通道堵塞", "2026.9.30"],
        # 5: 年月日 date, spaces in the address
        ["2", "白塔五金店", "白塔村 15 号", "胡女士", "13900000012", "沿街店面", "白塔村",
         "灭火器过期", "2026年10月8日"],
        None,  # 6: blank
        # 7: slashed date, a full-width phone
        ["3", "五金城市场", "五金城社区8号", "永康五金城市场管理有限公司",
         "０５７９－８７１２３４５６", "专业市场", "五金城社区", "消防通道占用", "2026/10/15"],
        # 8: the same place as row 4 (half-width address, name typed slightly differently)
        ["4", "白塔村出租房(甲)", "白塔村12号", "楼先生", "13800000011", "出租房", "白塔村",
         "电动车楼道充电", "2026-10-09"],
        bad,  # 9
        # 10: an existing place of the persona world, deadline as an Excel serial date
        ["6", "baita_rental", "白塔村第一网格baita_rental号", "", "", "出租房", "白塔村",
         "私拉乱接电线", 46300],
    ]


def write_messy_xlsx(path: Path, *, broken: bool) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.merge_cells("A1:I1")
    sheet.append(TOP)
    sheet.append(BOTTOM)
    for column in "ABCFGHI":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("D2:E2")
    for row in messy_rows(broken=broken):
        sheet.append(row if row is not None else [])
    sheet.append(["合计", "6 家"])  # a total row below the data
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], *, encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(row)
    return path


def plain_rows(count: int, *, start: int = 0) -> list[list[Any]]:
    """A flat ledger: header then ``count`` distinct rental houses in 白塔村."""
    rows: list[list[Any]] = [["场所名称", "详细地址", "负责人", "手机", "类别", "村(社区)"]]
    for n in range(start, start + count):
        rows.append([f"出租房{n}", f"白塔村{n}号", f"房东{n}", f"138{n:08d}", "出租房", "白塔村"])
    return rows


def write_shared_strings_xlsx(path: Path, rows: list[list[Any]], *,
                              broken_tail: bool = False) -> Path:
    """A workbook as Excel saves it: texts in the shared-string table (openpyxl writes
    them inline in the cells). ``broken_tail``: the table ends in invalid XML after the
    strings of the rows given, as if more had been cut off."""
    import re
    import zipfile

    plain = path.with_suffix(".inline.xlsx")
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(plain)
    strings: list[str] = []
    index: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        text = match.group(2)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return f'<c r="{match.group(1)}" t="s"><v>{index[text]}</v></c>'

    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(r'<c r="([A-Z]+\d+)" t="inlineStr"><is><t>(.*?)</t></is></c>',
                              shared, data.decode()).encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>"))
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>'))
            target.writestr(item, data)
        table = "".join(f"<si><t>{text}</t></si>" for text in strings)
        tail = "<si><t>cut off" if broken_tail else "</sst>"
        target.writestr("xl/sharedStrings.xml", (
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{table}{tail}'))
    plain.unlink()
    return path
