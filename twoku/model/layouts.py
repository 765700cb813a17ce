"""The layouts of NHSA's 知识点明细 workbooks and of code database exports, made into a table's rows: pure.

``build_points`` reads the points of a batch (one sheet with codes in a column; a points sheet plus a
"知识点对应药品代码" sheet joined by 对应知识点序号; pairs of 项目A/项目B) into rows keyed by code (pairs: by
both codes); ``build_codes`` reads a code database export into a code system's table.  The cells themselves
(text, codes, limits, headers) are understood by model/importing.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twoku.model.importing import (
    CODE_SHEET_HEADERS,
    ENUMS,
    HEADER_ROWS,
    POINT_HEADERS,
    TITLES,
    Built,
    Found,
    Restorer,
    Sheet,
    WorkbookProblem,
    codes_of,
    derived,
    fill_merged,
    find_header,
    header_text,
    one_code,
    text_of,
    where,
)
from twoku.model.tables import Column

# --- workbooks of knowledge points ---------------------------------------------------------------

_POINT_LEVEL = ("point", "name", "sex", "limit", "logic", "basis", "period", "note", "code_count")
MAX_SHOWN = 20  # problems listed one by one before the rest are counted


@dataclass
class _Point:
    where: str  # 文件：工作表 第 N 行
    cells: dict[str, Any]
    codes: list[tuple[str, bool]]


def build_points(sheets: Sequence[Sheet], systems: Mapping[str, str]) -> Built:
    """The table of knowledge points in ``sheets`` (every sheet of every workbook of one batch).

    ``systems``: coding knowledge item ID → its ``pattern``, for the codes' checks and restoration."""
    points: list[_Point] = []
    by_number: dict[tuple[str, str], _Point] = {}
    code_sheets: list[Found] = []
    seen_headers: list[str] = []
    for sheet in sheets:
        found = find_header(sheet, POINT_HEADERS | CODE_SHEET_HEADERS)
        if found is None:
            first = next((r for r in sheet.rows[:HEADER_ROWS] if any(text_of(v) for v in r)), None)
            if first is not None:
                seen_headers.append(f"{where(sheet)}：" + "、".join(t for v in first if (t := text_of(v))))
            continue
        header = {header_text(v) for v in sheet.rows[found.at]}
        if "对应知识点序号" in header:
            code_sheets.append(found)
            continue
        for point in _points(found):
            points.append(point)
            number = text_of(point.cells.get("point"))
            if number:
                by_number[(sheet.source, number)] = point
    if not points:
        raise WorkbookProblem(
            "没有找到知识点明细的表头" + ("：读到 " + "；".join(seen_headers) if seen_headers else "（工作表为空）"),
            hint="认识的表头："
            + "、".join(POINT_HEADERS)
            + "；另有“知识点对应药品代码”表："
            + "、".join(CODE_SHEET_HEADERS),
        )
    problems: list[str] = []
    for found in code_sheets:
        _join_codes(found, by_number, problems)
    pairs = any("a_code" in p.cells for p in points)
    restore = Restorer(systems)
    if pairs:
        restore.prepare("a_code", (c for p in points for c, _ in codes_of(p.cells.get("a_code"))))
        restore.prepare("b_code", (c for p in points for c, _ in codes_of(p.cells.get("b_code"))))
    else:
        restore.prepare("code", (c for p in points for c, _ in p.codes))
    built = _pair_rows(points, restore, problems) if pairs else _item_rows(points, restore, problems)
    if code_sheets:
        built.layout = "两表（知识点 + 对应代码）"
    built.restored = restore.restored
    _typed(built, restore, systems, problems)
    _refuse(problems)
    return built


def _points(found: Found) -> Iterable[_Point]:
    sheet = found.sheet
    rows = fill_merged(sheet)
    last: dict[str, Any] = {}
    for n in range(found.at + 1, len(rows)):
        row = rows[n]
        cells = {name: row[i] for i, name in found.columns.items() if i < len(row) and text_of(row[i])}
        if not cells:
            continue
        codes = codes_of(cells.pop("code", None))
        if codes and not any(k in cells for k in ("point", "name", "a_code")) and last:
            cells = {**last, **cells}  # a code under a point whose cells are blank: the point above (unmerged)
        if not codes and not any(k in cells for k in ("name", "a_code", "a_name")):
            continue  # a note or total under the table
        last = {k: v for k, v in cells.items() if k in _POINT_LEVEL}
        yield _Point(f"{where(sheet)}第 {n + 1} 行", cells, codes)


def _join_codes(found: Found, by_number: Mapping[tuple[str, str], _Point], problems: list[str]) -> None:
    """The codes of the 知识点对应药品代码 sheet added to their points, by 对应知识点序号."""
    sheet = found.sheet
    rows = fill_merged(sheet)
    for n in range(found.at + 1, len(rows)):
        row = rows[n]
        cells = {name: row[i] for i, name in found.columns.items() if i < len(row)}
        number, codes = text_of(cells.get("point")), codes_of(cells.get("code"))
        if not number and not codes:
            continue
        point = by_number.get((sheet.source, number))
        if point is None:
            problems.append(f"{where(sheet)}第 {n + 1} 行：对应知识点序号 {number or '（空）'} 在知识点表中不存在")
            continue
        point.codes.extend(codes)


def _item_rows(points: Sequence[_Point], restore: Restorer, problems: list[str]) -> Built:
    rows: dict[str, dict[str, str]] = {}
    first: dict[str, str] = {}
    for point in points:
        base = {k: text_of(v) for k, v in point.cells.items() if k in TITLES}
        base |= derived(base.get("sex", ""), base.get("limit", ""))
        if "sex" in base and base["sex"] not in ENUMS["sex"]:
            base.pop("sex")  # text the columns cannot hold stays in 限定条件 / 备注 as written
        if not point.codes:
            problems.append(f"{point.where}：知识点 {base.get('name', '')} 没有代码")
            continue
        expected = text_of(point.cells.get("code_count"))
        if expected.isdigit() and int(expected) != len(point.codes):
            problems.append(f"{point.where}：知识点代码数量写 {expected}，实际读到 {len(point.codes)} 个代码")
        for raw, _ in point.codes:
            code = restore(raw)
            row = {"code": code, **base}
            if code in rows and rows[code] != row:
                problems.append(f"{point.where}：代码 {code} 在 {first[code]} 已出现，取值不同（一个代码只能有一行）")
                continue
            rows[code] = row
            first.setdefault(code, point.where)
    return _built("单表", ("code",), rows.values())


def _pair_rows(points: Sequence[_Point], restore: Restorer, problems: list[str]) -> Built:
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for point in points:
        base = {k: text_of(v) for k, v in point.cells.items() if k in TITLES and k not in ("a_code", "b_code")}
        a_codes, b_codes = codes_of(point.cells.get("a_code")), codes_of(point.cells.get("b_code"))
        if not a_codes or not b_codes:
            problems.append(f"{point.where}：项目对缺少{'项目A代码' if not a_codes else '项目B代码'}")
            continue
        for a_raw, _ in a_codes:
            for b_raw, _ in b_codes:
                a, b = restore(a_raw), restore(b_raw)
                row = {"a_code": a, "b_code": b, **base}
                if (a, b) in rows and rows[(a, b)] != row:
                    problems.append(f"{point.where}：项目对 {a} × {b} 重复出现，取值不同")
                    continue
                rows[(a, b)] = row
    return _built("项目对", ("a_code", "b_code"), rows.values())


def _built(layout: str, key: tuple[str, ...], records: Iterable[dict[str, str]]) -> Built:
    found = list(records)
    present = {k for r in found for k, v in r.items() if v}
    names = [n for n in TITLES if n in key or n in present]
    columns = tuple(
        Column(n, TITLES[n], "enum" if n in ENUMS else "integer" if n == "max_days" else "text", ENUMS.get(n, ()))
        for n in names
    )
    rows = [tuple(r.get(n, "") for n in names) for r in found]
    return Built(layout, columns, key, rows)


def _typed(built: Built, restore: Restorer, systems: Mapping[str, str], problems: list[str]) -> None:
    """Code columns declared as codes of the one system all their codes belong to; a code no system's pattern
    takes is a problem (where the library has code systems at all)."""
    columns = list(built.columns)
    for i, column in enumerate(columns):
        if column.name not in built.key:
            continue
        matched = restore.seen.get(column.name, set())
        if systems:
            bad = restore.bad.get(column.name, [])
            for code in bad[:MAX_SHOWN]:
                problems.append(f"{column.title} {code} 不符合库中任何编码体系的编码规则")
            if len(bad) > MAX_SHOWN:
                problems.append(f"另有 {len(bad) - MAX_SHOWN} 个{column.title}不符合编码规则")
        if len(matched) == 1:
            columns[i] = Column(column.name, column.title, "code", system=next(iter(matched)), required=True)
        else:
            columns[i] = Column(column.name, column.title, "text", required=True)
            if len(matched) > 1:
                built.notes.append(f"{column.title}分属 {'、'.join(sorted(matched))}，按文本列声明")
    built.columns = tuple(columns)


def _refuse(problems: Sequence[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:MAX_SHOWN])
        more = f"\n  另有 {len(problems) - MAX_SHOWN} 处" if len(problems) > MAX_SHOWN else ""
        raise WorkbookProblem(
            f"工作簿有 {len(problems)} 处问题，未导入：\n  {shown}{more}",
            hint="改正工作簿（或向发布机关核实）后重新导入；库中没有写入任何文件",
        )


def widen(built: Built, earlier: Sequence[Column]) -> None:
    """Keep the columns the class's table already declares (a later batch without 备注 empties the column,
    it does not drop it: the declaration stays, the rows show as changed)."""
    have = {c.name for c in built.columns}
    extra = [c for c in earlier if c.name not in have]
    if not extra:
        return
    order = {name: n for n, name in enumerate(TITLES)}
    columns = sorted([*built.columns, *extra], key=lambda c: order.get(c.name, len(order)))
    at = {c.name: i for i, c in enumerate(built.columns)}
    built.rows = [tuple(row[at[c.name]] if c.name in at else "" for c in columns) for row in built.rows]
    built.columns = tuple(columns)


def keep_rows(built: Built, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Keep the rows of the table (``columns``, ``rows``) that the workbook does not list: a supplementary batch
    adds and changes rows, it removes none.  How many were kept."""
    names = [c.name for c in built.columns]
    at = [names.index(k) for k in built.key]
    listed = {tuple(r[i] for i in at) for r in built.rows}
    where = {n: i for i, n in enumerate(columns)}
    kept = 0
    for row in rows:
        mapped = tuple(row[where[n]] if n in where else "" for n in names)
        if tuple(mapped[i] for i in at) not in listed:
            built.rows.append(mapped)
            kept += 1
    return kept


# --- code database exports -------------------------------------------------------------------------


def build_codes(
    sheet: Sheet, columns: Sequence[Column], mapping: Mapping[str, str], systems: Mapping[str, str]
) -> Built:
    """A code database export (one sheet, or a CSV read as one) as the rows of a code system's table.

    ``mapping``: the table's column name → the export's header (default: the column's title, else its name)."""
    accepted = {
        c.name: {header_text(mapping[c.name])} if c.name in mapping else {header_text(c.title or c.name), c.name}
        for c in columns
    }
    # The codes and what the user mapped must be there; a column such as 备注 the export lacks stays empty.
    needed = [c.name for c in columns if c.name in mapping or c.type == "code" or c.required]
    for n, row in enumerate(sheet.rows[:HEADER_ROWS]):
        heads = [header_text(v) for v in row]
        found = {name: next((i for i, h in enumerate(heads) if h in ok), None) for name, ok in accepted.items()}
        if all(found[name] is not None for name in needed):
            at, index = n, found
            break
    else:
        first = next((r for r in sheet.rows[:HEADER_ROWS] if any(text_of(v) for v in r)), [])
        titles = {c.name: c.title or c.name for c in columns}
        shown = "、".join(mapping.get(name) or titles[name] for name in needed)
        raise WorkbookProblem(
            f"{where(sheet)}找不到表头：需要 {shown}；读到 "
            + ("、".join(t for v in first if (t := text_of(v))) or "（空）"),
            hint="用 --map 指明各列对应的表头，如 --map code=药品代码,name=注册名称",
        )
    restore = Restorer(systems)
    body = sheet.rows[at + 1 :]
    cells: list[list[str]] = []
    for column in columns:
        i = index[column.name]
        values = [row[i] if i < len(row) else None for row in body] if i is not None else [None] * len(body)
        if column.type == "code":
            texts = [one_code(v) for v in values]
            restore.prepare(column.name, (t for t in texts if t))
            cells.append([restore(t) for t in texts])
        else:
            cells.append([text_of(v) for v in values])
    rows = [row for row in zip(*cells, strict=True) if any(row)]
    built = Built("代码表", tuple(columns), tuple(), rows)
    built.restored = restore.restored
    return built
