"""Recognising a ledger's header: the usual Chinese column names and their variants.

A ledger often starts with a title row (``东城街道出租房消防安全台账``), may have
a two-row header with merged cells (``负责人信息`` over ``姓名`` and ``电话``),
and names one column in many ways (``场所名称`` / ``单位名称`` / ``名称``). The
header is the row (or pair of rows) among the first ones that names the most
known fields; the user can correct the mapping before anything is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from bihuan.imports.choices import ImportKind
from bihuan.imports.normalize import compact

# How far down a header may start (title rows, notes, a blank row or two).
HEADER_SCAN_ROWS = 20

# field → (label, synonyms). Synonyms are compared without spaces and brackets.
FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "name": (_("Place name"), ("场所名称", "单位名称", "名称", "场所", "店名", "店铺名称",
                              "企业名称", "单位", "门店名称", "出租房名称", "户名")),
    "address": (_("Address"), ("地址", "详细地址", "场所地址", "住址", "经营地址", "门牌地址",
                               "房屋地址", "门牌号")),
    "party_name": (_("Responsible party"), ("负责人", "法人", "联系人", "责任人", "主体责任人",
                                            "法定代表人", "房东", "业主", "负责人姓名",
                                            "经营者", "姓名")),
    "phone": (_("Phone"), ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式",
                           "负责人电话", "联系人电话")),
    "kind": (_("Kind of place"), ("场所类型", "类别", "类型", "场所类别", "场所性质")),
    "town": (_("Town / subdistrict"), ("所属镇街", "乡镇街道", "镇街", "镇街道", "街道",
                                       "乡镇", "所属乡镇", "所属街道")),
    "village": (_("Village / community"), ("村社区", "村居", "所属村", "村", "社区",
                                           "所属村社区", "行政村")),
    "grid": (_("Grid"), ("网格", "所属网格", "网格名称")),
    "longitude": (_("Longitude"), ("经度",)),
    "latitude": (_("Latitude"), ("纬度",)),
    "description": (_("Hazard description"), ("隐患描述", "存在问题", "隐患内容", "问题描述",
                                              "主要问题", "隐患情况", "存在隐患")),
    "requirement": (_("Rectification requirement"), ("整改要求", "整改措施", "整改意见")),
    "deadline": (_("Rectification deadline"), ("整改期限", "限改日期", "整改时限", "限期",
                                               "整改期限日期", "限期整改日期")),
    "found_on": (_("Date found"), ("发现日期", "检查日期", "检查时间", "发现时间")),
    "code": (_("Hazard code"), ("隐患编码", "隐患代码", "隐患编号")),
    "tenant_name": (_("Tenant's name"), ("姓名", "租客姓名", "承租人", "住户姓名", "租户姓名",
                                         "承租人姓名", "流动人口姓名")),
    "id_number": (_("ID number"), ("身份证号", "身份证号码", "公民身份号码", "证件号码",
                                   "身份证")),
    "room": (_("Room"), ("房间号", "房号", "房间", "居住房间")),
    "moved_in_on": (_("Moved in on"), ("入住日期", "入住时间", "登记日期", "居住起始日期")),
}

KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.PLACES: ("name", "address", "party_name", "phone", "kind", "town", "village",
                        "grid", "longitude", "latitude"),
    ImportKind.HAZARDS: ("name", "address", "party_name", "phone", "kind", "town", "village",
                         "grid", "longitude", "latitude", "description", "requirement",
                         "deadline", "found_on", "code"),
    ImportKind.TENANTS: ("name", "address", "tenant_name", "id_number", "phone", "room",
                         "moved_in_on"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.PLACES: ("name", "address"),
    ImportKind.HAZARDS: ("name", "address", "description"),
    ImportKind.TENANTS: ("address", "tenant_name", "id_number", "room", "moved_in_on"),
}

_BRACKETS = re.compile(r"[()（）\[\]【】<>《》:：*＊、/\\.。]")


def header_key(value: Any) -> str:
    return _BRACKETS.sub("", compact(value))


# A word may name different fields in different ledgers (姓名: the party's in a place
# ledger, the tenant's in a tenant register): the first field the import allows wins.
_SYNONYMS: dict[str, list[str]] = {}
for _field, (_label, _words) in FIELDS.items():
    for _word in _words:
        _SYNONYMS.setdefault(header_key(_word), []).append(_field)
# Longest first: "联系人电话" is a phone before it is a "联系人".
_BY_LENGTH = sorted(_SYNONYMS.items(), key=lambda item: -len(item[0]))


def _pick(names: list[str], allowed: tuple[str, ...] | None) -> str:
    for name in names:
        if allowed is None or name in allowed:
            return name
    return ""


def recognise(label: Any, allowed: tuple[str, ...] | None = None) -> str:
    """The field a header label names, or ``""``."""
    key = header_key(label)
    if not key:
        return ""
    found = _pick(_SYNONYMS.get(key, []), allowed)
    if not found:
        for word, names in _BY_LENGTH:
            if len(word) >= 2 and word in key:
                found = _pick(names, allowed)
                if found:
                    break
    return found


@dataclass
class Header:
    """Where the header is and what each column means."""

    first_row: int  # Excel row number of the (first) header row
    last_row: int  # the last header row; data starts below it
    labels: list[str] = field(default_factory=list)  # one per column, as the sheet says
    mapping: dict[int, str] = field(default_factory=dict)  # column index → field

    def as_json(self) -> dict[str, Any]:
        return {"first_row": self.first_row, "last_row": self.last_row, "labels": self.labels,
                "mapping": {str(k): v for k, v in self.mapping.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Header:
        return cls(first_row=data["first_row"], last_row=data["last_row"],
                   labels=list(data["labels"]),
                   mapping={int(k): v for k, v in data["mapping"].items() if v})


def _map(labels: list[str], allowed: tuple[str, ...]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, label in enumerate(labels):
        name = recognise(label, allowed)
        # The first column naming a field wins (a second 电话 column is left unmapped).
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def _combine(top: list[Any], below: list[Any], allowed: tuple[str, ...]) -> list[str] | None:
    """Labels of a two-row header: a merged group title above, sub-titles below.

    None when the rows do not look like one header: a title row has a single
    cell, and the row below must name a field the row above does not (a data
    row under a complete header names none).
    """
    width = max(len(top), len(below))
    top = [*top, *[None] * (width - len(top))]
    below = [*below, *[None] * (width - len(below))]
    if sum(1 for value in top if compact(value)) < 2:
        return None
    if not any(recognise(lower, allowed) and not recognise(upper, allowed)
               for upper, lower in zip(top, below, strict=True)):
        return None
    labels: list[str] = []
    group = ""
    for upper, lower in zip(top, below, strict=True):
        # A horizontally merged title has its text in the first cell only: carry it on.
        if compact(upper):
            group = compact(upper)
        elif compact(lower) == "":
            group = ""
        sub = compact(lower)
        if sub and recognise(sub, allowed):
            labels.append(sub)
        elif sub:
            labels.append(group + sub)
        else:
            # Merged vertically (the title spans both rows): the upper cell names it.
            labels.append(compact(upper))
    return labels


def detect(rows: list[tuple[int, list[Any]]], kind: str) -> Header | None:
    """Find the header among the first rows (numbered as in Excel); None if none names
    the required fields."""
    allowed = KIND_FIELDS[kind]
    best: Header | None = None
    best_score = 0
    for position, (number, values) in enumerate(rows[:HEADER_SCAN_ROWS]):
        labels = [compact(v) for v in values]
        mapping = _map(labels, allowed)
        score = len(mapping)
        candidate = Header(number, number, labels, mapping)
        if position + 1 < len(rows):
            next_number, next_values = rows[position + 1]
            combined = _combine(values, next_values, allowed)
            combined_mapping = _map(combined, allowed) if combined is not None else {}
            # The row below belongs to the header when it names more fields together.
            if combined is not None and len(combined_mapping) > score \
                    and next_number == number + 1:
                candidate = Header(number, next_number, combined, combined_mapping)
                score = len(combined_mapping)
        if score > best_score:
            best, best_score = candidate, score
    if best is None:
        return None
    if not all(name in best.mapping.values() for name in REQUIRED_FIELDS[kind]):
        return best if best_score >= 2 else None
    return best


def missing_required(header: Header, kind: str) -> list[str]:
    mapped = set(header.mapping.values())
    return [name for name in REQUIRED_FIELDS[kind] if name not in mapped]


def field_label(name: str) -> Any:
    return FIELDS[name][0] if name in FIELDS else name
