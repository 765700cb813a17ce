"""The group measures of the in-memory evaluator (engine/memory.py), each computed once per batch for every
line: counts and sums over a group (missing keys equal, as PARTITION BY), days since the group's first or
previous line, the previous admission and the admissions a line falls in (missing keys meet nothing, as ``=``),
each as engine/sql.py computes it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from twoku.engine.memlines import Batch
from twoku.model import claim
from twoku.model.condition import Measure


def counts(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    out: list[Any] = [0] * len(b.lines)
    for members in b.groups(m.per, True).values():
        n = sum(1 for d in members if flags[d])
        for d in members:
            out[d] = n
    return out


def sums(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    name = str(m.field)
    out: list[Any] = [None] * len(b.lines)
    for members in b.groups(m.per, True).values():
        values = [b.lines[d][name] for d in members if flags[d] and b.lines[d][name] is not None]
        total = None
        if values:
            total = sum(values) if claim.FIELDS[name].type != "number" else math.fsum(values)
        for d in members:
            out[d] = total
    return out


def days_since_first(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    out: list[Any] = [None] * len(b.lines)
    for members in b.groups(m.per, True).values():
        days = [b.lines[d]["service_date"] for d in members if flags[d] and b.lines[d]["service_date"] is not None]
        first = min(days) if days else None
        for d in members:
            day = b.lines[d]["service_date"]
            if flags[d] and first is not None and day is not None:
                out[d] = (day - first).days
    return out


def days_since_previous(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    out: list[Any] = [None] * len(b.lines)
    for members in b.groups(m.per, True).values():
        flagged = [d for d in members if flags[d]]
        flagged.sort(key=lambda d: _nulls_last(b.lines[d]["service_date"]) + _nulls_last(b.lines[d]["line_id"]))
        previous = None
        for d in flagged:
            day = b.lines[d]["service_date"]
            if previous is not None and day is not None:
                out[d] = (day - previous).days
            previous = day
    return out


def _nulls_last(value: Any) -> tuple[Any, ...]:
    return (1, 0) if value is None else (0, value)


def _admissions(b: Batch, per: tuple[str, ...], discharged: bool) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The admissions of the batch: per the group's values and the visit, the first admission date, the
    last discharge date, the least diagnosis and discharge mode (as the SQL's MIN and MAX)."""
    keys = per if "visit_id" in per else (*per, "visit_id")
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in b.lines:
        if line["admission_date"] is None or line["visit_id"] is None:
            continue
        if discharged and line["discharge_date"] is None:
            continue
        key = tuple(line[k] for k in keys)
        adm = found.setdefault(key, {})
        for name, pick in (("admission_date", min), ("discharge_date", max), ("main_diagnosis", min)):
            _keep(adm, name, line[name], pick)
        _keep(adm, "discharge_mode", line["discharge_mode"], min)
        adm["group"] = tuple(line[f] for f in per)
        adm["visit_id"] = line["visit_id"]
    return found


def _keep(adm: dict[str, Any], name: str, value: Any, pick: Callable[[Any, Any], Any]) -> None:
    if value is not None:
        adm[name] = value if adm.get(name) is None else pick(adm[name], value)
    else:
        adm.setdefault(name, None)


def previous_admission(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    cached = ("admissions", m.per)
    by_line: list[tuple[Any, dict[str, Any]]] | None = b.cache.get(cached)
    if by_line is None:
        admissions = _admissions(b, m.per, False)
        previous: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
        groups: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
        for key, adm in admissions.items():
            groups.setdefault(adm["group"], []).append((key, adm))
        for members in groups.values():
            members.sort(key=lambda kv: (kv[1]["admission_date"], kv[1]["visit_id"]))
            before: dict[str, Any] = {}
            for key, adm in members:
                gap = None
                if before.get("discharge_date") is not None:
                    gap = (adm["admission_date"] - before["discharge_date"]).days
                previous[key] = (gap, before)
                before = adm
        keys = m.per if "visit_id" in m.per else (*m.per, "visit_id")
        by_line = []
        for line in b.lines:
            key = tuple(line[k] for k in keys)
            by_line.append((None, {}) if None in key else previous.get(key, (None, {})))
        b.cache[cached] = by_line
    if m.kind == "admission_gap":
        return [gap for gap, _ in by_line]
    name = str(m.field)
    return [before.get(name) for _, before in by_line]


def spanning(b: Batch, m: Measure, flags: list[bool], strict: bool) -> list[Any]:
    admissions = list(_admissions(b, m.per, True).values())
    out: list[Any] = [0] * len(b.lines)
    for d, line in enumerate(b.lines):
        group = tuple(line[f] for f in m.per)
        day = line["service_date"]
        if None in group or day is None or line["line_id"] is None:  # the SQL joins the count back by line_id
            continue
        n = 0
        for adm in admissions:
            if adm["group"] != group or adm["visit_id"] == line["visit_id"]:
                continue
            start, end = adm["admission_date"], adm["discharge_date"]
            if (start < day < end) if strict else (start <= day <= end):
                n += 1
        out[d] = n
    return out
