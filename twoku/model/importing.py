"""Understanding the cells of NHSA's 知识点明细 workbooks and code database exports: pure.

A workbook is read (store/workbook.py) into sheets of cell values; here (and in model/layouts.py, which
turns the sheets of a layout into a table's rows) they are understood:

- the header row is found by its names, past title rows and merged cells (never by position), and a
  header this module does not know stops the import, naming the headers found and those expected;
- the layouts of ``domain/knowledge-points.md``: one sheet of points with codes in a column (several
  codes in one cell, or one per row under vertically merged point cells), a points sheet plus a
  "知识点对应药品代码" sheet joined by 对应知识点序号, and pairs (项目A…/项目B…);
- codes stay text: a code a spreadsheet stored as a number lost its leading zeros, and is restored to
  the width its code system's pattern asks for (and counted, so the summary says so); full-width
  letters and digits and stray spaces are normalised;
- limit text is mapped to columns where it is regular (限定性别, 支付不超过 N 天, 限二级及以上,
  限工伤/生育保险), the text always kept beside them;
- rows are keyed by code (pairs: by both codes), so importing the same workbook twice changes
  nothing and a later batch shows as rows added, removed and changed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twoku.model.regex import UnsafePattern, compile_linear
from twoku.model.tables import _CROSSES, Column, _unanchored

# The headers the published workbooks use (knowledge-points.md), to the column each fills.
POINT_HEADERS: dict[str, str] = {
    "序号": "point",
    "药品通用名": "name",
    "项目名称": "name",
    "中药饮片名称": "name",
    "限定性别": "sex",
    "限定条件": "limit",
    "检出逻辑": "logic",
    "政策依据": "basis",
    "文件依据": "basis",
    "逻辑依据": "basis",
    "药品代码": "code",
    "医保编码": "code",
    "项目代码": "code",
    "中药饮片代码": "code",
    "知识点对应药品代码数量": "code_count",
    "时间区间": "period",
    "备注": "note",
    "项目A名称": "a_name",
    "项目A代码": "a_code",
    "项目B名称": "b_name",
    "项目B代码": "b_code",
}
CODE_SHEET_HEADERS: dict[str, str] = {"对应知识点序号": "point", "药品通用名": "name", "药品代码": "code"}
HEADER_ROWS = 30  # title rows above the header: the header is looked for among the first rows only

# The table's columns, in order; a column is declared when the workbook has it or a value was derived.
TITLES: dict[str, str] = {
    "code": "代码",
    "a_code": "项目A代码",
    "b_code": "项目B代码",
    "name": "名称",
    "a_name": "项目A名称",
    "b_name": "项目B名称",
    "sex": "限定性别",
    "max_days": "支付天数上限",
    "min_level": "医疗机构级别下限",
    "insurance": "限定险种",
    "limit": "限定条件",
    "logic": "检出逻辑",
    "basis": "政策依据",
    "period": "时间区间",
    "note": "备注",
}
ENUMS: dict[str, tuple[str, ...]] = {
    "sex": ("男", "女"),
    "min_level": ("二级", "三级"),
    "insurance": ("工伤保险", "生育保险"),
}
SAMPLES = 5  # rows shown of each kind of change, codes restored …


class WorkbookProblem(ValueError):
    """What stops an import: the workbook is not one this module understands (nothing is written)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Sheet:
    """One sheet as read: its name, its cells row by row, its merged ranges ((row, col), (row, col)), 0-based."""

    name: str
    rows: Sequence[Sequence[Any]]
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = ()
    source: str = ""  # the file it came from


@dataclass
class Built:
    """The table made of a workbook, and what was done to its cells on the way."""

    layout: str  # 单表, 两表（知识点 + 对应代码）, 项目对
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rows: list[tuple[str, ...]]
    restored: list[tuple[str, str]] = field(default_factory=list)  # (as read, restored)
    normalised: int = 0  # cells changed by the full-width / space normalisation
    notes: list[str] = field(default_factory=list)


# --- cells ------------------------------------------------------------------------------------

_FULL_ALNUM = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_DECIMAL = re.compile(r"\d+\.\d+")
_ODD = re.compile(r"[\s\u3000\u00a0\uff01-\uff5e]")


def text_of(value: Any) -> str:
    """A cell as text: full-width letters and digits made ASCII, spaces (full-width too) collapsed, line breaks
    (which a CSV row cannot hold) made spaces, ends trimmed; a whole number without its ``.0``."""
    if value is None:
        return ""
    if type(value) is str and not _ODD.search(value):
        return value  # the common cell: nothing to normalise
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _SPACES.sub(" ", str(value).translate(_FULL_ALNUM)).strip()


def header_text(value: Any) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text_of(value)))


_CODE_SPLIT = re.compile(r"[、,，;；/\s]+")


def one_code(value: Any) -> str:
    found = codes_of(value)
    return found[0][0] if len(found) == 1 else text_of(value)


def codes_of(value: Any) -> list[tuple[str, bool]]:
    """The codes in a cell: (code, stored as a number).  Several codes may share a cell, separated by
    、，；/ or line breaks."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [(str(int(value)), True)] if float(value).is_integer() else [(str(value), True)]
    text = unicodedata.normalize("NFKC", text_of(value)).upper()
    return [(c, False) for c in _CODE_SPLIT.split(text) if c]


class Restorer:
    """Codes checked against the code systems' patterns, a column at a time; a code that lost its leading zeros
    made whole.  Codes are grouped by first character and length, and each group is tried with one match of the
    joined codes per system (RE2, in linear time: patterns are store data), so 500,000 codes take a few matches,
    not 500,000; only a group no system takes whole is tried code by code."""

    def __init__(self, systems: Mapping[str, str]) -> None:
        self.systems: dict[str, str] = {}
        for key, pattern in systems.items():
            try:
                compile_linear(pattern)
            except UnsafePattern:
                continue  # TK408 says so; its codes are not tried
            self.systems[key] = pattern
        self.restored: list[tuple[str, str]] = []  # (as read, restored)
        self.seen: dict[str, set[str]] = {}  # column → the systems its codes matched
        self.bad: dict[str, list[str]] = {}  # column → the codes no system takes
        self._done: dict[str, str] = {}

    def prepare(self, column: str, codes: Iterable[str]) -> None:
        seen, bad = self.seen.setdefault(column, set()), self.bad.setdefault(column, [])
        values = list(dict.fromkeys(codes))
        if not self.systems:
            self._done.update(zip(values, values, strict=True))
            return
        groups: dict[tuple[str, int], list[str]] = defaultdict(list)
        for value in values:
            groups[(value[:1], len(value))].append(value)
        for (_, width), group in groups.items():
            hit = self._whole(group)
            if hit is not None:
                seen.add(hit)
                self._done.update(zip(group, group, strict=True))
                continue
            if all(v.isdigit() for v in group) and self._zeros(group, width, seen):
                continue
            for value in group:
                self._one(value, seen, bad)

    def _zeros(self, group: list[str], width: int, seen: set[str]) -> bool:
        for wide in range(width + 1, width + 8):
            filled = [v.zfill(wide) for v in group]
            hit = self._whole(filled)
            if hit is not None:
                seen.add(hit)
                self.restored.extend(zip(group, filled, strict=True))
                self._done.update(zip(group, filled, strict=True))
                return True
        return False

    def _whole(self, group: Sequence[str]) -> str | None:
        return next((k for k, p in self.systems.items() if _all_match(group, p)), None)

    def _one(self, code: str, seen: set[str], bad: list[str]) -> None:
        widths = range(len(code) + 1, len(code) + 8) if code.isdigit() else range(0)
        # 36.07 was 36.0700 (ICD-9-CM-3) before a spreadsheet made a number of it: its trailing zeros
        tails = range(1, 5) if _DECIMAL.fullmatch(code) else range(0)
        for candidate in (code, *(code.zfill(w) for w in widths), *(code + "0" * n for n in tails)):
            hit = next((k for k, p in self.systems.items() if compile_linear(p).fullmatch(candidate)), None)
            if hit is not None:
                seen.add(hit)
                self._done[code] = candidate
                if candidate != code:
                    self.restored.append((code, candidate))
                return
        bad.append(code)
        self._done[code] = code

    def __call__(self, code: str) -> str:
        return self._done.get(code, code)


def _all_match(values: Sequence[str], pattern: str) -> bool:
    """Whether the pattern matches every value whole: one match over the values joined by line breaks, unless
    the pattern could match across one."""
    body = _unanchored(pattern)
    if _CROSSES.search(body):
        regex = compile_linear(f"(?:{body})")
        return all(regex.fullmatch(v) for v in values)
    return bool(compile_linear(f"(?:{body})(?:\n(?:{body}))*").fullmatch("\n".join(values)))


# --- limit text → columns --------------------------------------------------------------------

_SEX = re.compile(r"^(?:仅|限)?(男|女)(?:性)?(?:患者)?(?:使用)?$")
_SEX_IN_TEXT = re.compile(r"限(?:于)?(男|女)性")
_DAYS = re.compile(r"支付不超过\s*(\d+)\s*天")
_LEVEL = re.compile(r"限?(二级|三级)(?:及以上|以上)")
_INSURANCE = re.compile(r"限(工伤保险|生育保险)")


def derived(sex_cell: str, limit: str) -> dict[str, str]:
    """The columns read from a point's 限定性别 and 限定条件 where their text is regular."""
    out: dict[str, str] = {}
    found = _SEX.match(sex_cell) if sex_cell else None
    found = found or _SEX_IN_TEXT.search(limit)
    if found:
        out["sex"] = found[1]
    for name, regex in (("max_days", _DAYS), ("min_level", _LEVEL), ("insurance", _INSURANCE)):
        hit = regex.search(limit)
        if hit:
            out[name] = hit[1]
    return out


_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")}


def batch_number(text: str | None) -> int | None:
    """The number of a batch as NHSA names it: 第十七批 → 17, 第3批 → 3; None where there is none."""
    text = text or ""
    numerals = "[零一二三四五六七八九十百]+"
    for pattern in (r"第\s*(\d+)\s*批", f"第({numerals})批", r"(\d+)", f"({numerals})"):
        found = re.search(pattern, text)
        if found:
            return int(found[1]) if found[1].isdigit() else _chinese(found[1])
    return None


def _chinese(numeral: str) -> int:
    total, digit = 0, 0
    for char in numeral:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (digit or 1) * (10 if char == "十" else 100)
            digit = 0
    return total + digit


# --- header rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    sheet: Sheet
    at: int  # the header's row
    columns: dict[int, str]  # cell index → column name


def find_header(sheet: Sheet, known: Mapping[str, str]) -> Found | None:
    """The first row (among the first HEADER_ROWS) whose cells are at least two known headers; None when no
    row is.  A row that has two known headers and others this module does not know is refused: never a guess."""
    for n, row in enumerate(sheet.rows[:HEADER_ROWS]):
        cells = {i: header_text(v) for i, v in enumerate(row)}
        cells = {i: c for i, c in cells.items() if c}
        hits = {i: known[c] for i, c in cells.items() if c in known}
        if len(hits) < 2:
            continue
        unknown = [text_of(row[i]) for i in cells if i not in hits]
        if unknown:
            found = "、".join(text_of(row[i]) for i in cells)
            raise WorkbookProblem(
                f"{where(sheet)}第 {n + 1} 行的表头有不认识的列：{'、'.join(unknown)}（读到的表头：{found}）",
                hint="认识的表头：" + "、".join(known) + "。表头与国家医保局发布的格式不同时，先核对文件，不要猜测",
            )
        return Found(sheet, n, hits)
    return None


def where(sheet: Sheet) -> str:
    return f"{sheet.source}：工作表“{sheet.name}”" if sheet.source else f"工作表“{sheet.name}”"


def fill_merged(sheet: Sheet) -> list[list[Any]]:
    """The sheet's rows with a merged range's value in every cell of it (a point's name over its codes)."""
    rows = [list(r) for r in sheet.rows]
    for (r0, c0), (r1, c1) in sheet.merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, c1 + 1):
                if c < len(rows[r]):
                    rows[r][c] = value
    return rows


# --- what an import did ------------------------------------------------------------------------------


@dataclass
class Imported:
    """One import's result: where the table went, how its rows changed, what was done to the cells."""

    what: str  # the rule class, or the code system's title
    code: str | None  # the class's framework code
    layer: str
    item: str
    item_path: str
    table_path: str
    files: list[str]
    layout: str
    rows: int
    columns: list[str]
    added: int
    removed: int
    changed: int
    samples: dict[str, list[dict[str, Any]]]  # added / removed / changed: a few rows of each
    restored: int
    restored_samples: list[tuple[str, str]]
    notes: list[str]
    batch_id: str | None = None
    dry_run: bool = False
    unchanged: bool = False
    commit: str | None = None
    adjustment: str | None = None
    deadline: str | None = None

    def message(self, batch: str | None) -> str:
        """The commit message: what was imported and how the table changed, with a few rows as samples."""
        head = f"导入{self.what}{'知识点明细' if self.code is not None or self.batch_id else '代码表'}"
        head += (
            f"{batch or ''}（{self.item}）：{self.rows} 行，新增 {self.added}、删除 {self.removed}、修改 {self.changed}"
        )
        body = [f"来源：{'、'.join(self.files)}；格式：{self.layout}"]
        if self.restored:
            body.append(f"恢复了 {self.restored} 个被表格软件去掉前导零的代码")
        for label, kind in (("新增", "added"), ("删除", "removed"), ("修改", "changed")):
            for row in self.samples[kind]:
                body.append(f"{label}：" + "，".join(f"{k}={v}" for k, v in row.items()))
        return head + "\n\n" + "\n".join(body) + "\n"

    def as_json(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["restored_samples"] = [{"read": a, "restored": b} for a, b in self.restored_samples]
        return out


def summary_of(
    what: str,
    code: str | None,
    layer: str,
    item: str,
    item_path: str,
    table_path: str,
    built: Built,
    change: Any,
    files: Sequence[str],
) -> Imported:
    """The result of an import from what was built and the table's diff (model/tables.TableDiff)."""
    columns = list(change.columns)

    def rows(found: Sequence[tuple[str, ...]]) -> list[dict[str, Any]]:
        return [dict(zip(columns, r, strict=False)) for r in found[:SAMPLES]]

    changed = [{"key": "、".join(c.key), **{n: f"{a} → {b}" for n, a, b in c.cells}} for c in change.changed[:SAMPLES]]
    return Imported(
        what,
        code,
        layer,
        item,
        item_path,
        table_path,
        list(files),
        built.layout,
        len(built.rows),
        columns,
        len(change.added),
        len(change.removed),
        len(change.changed),
        {"added": rows(change.added), "removed": rows(change.removed), "changed": changed},
        len(built.restored),
        built.restored[:SAMPLES],
        list(built.notes),
    )
