"""Knowledge tables (知识点明细): the typed CSV table a knowledge item declares, read and checked.

A knowledge item declares its table under ``table``::

    table:
      file: CN-K-0050.csv            # beside the item
      key: [code]                    # the columns that identify a row
      columns:
        - {name: code, title: 药品代码, type: code, system: CN-K-0030}
        - {name: name, title: 药品通用名, type: text}
        - {name: sex, title: 限定性别, type: enum, values: [男, 女]}
      lower: {add: true, remove: true}   # lower layers may add / remove rows (default: no)
      rows: 3                            # sealed by ``twoku table seal``
      digest: sha256:…                   #   the canonical rows' digest (below)

The older shorthand ``table: CN-K-0030.csv`` still reads: a code table with the columns
``code, name, note`` keyed by ``code``; its rows are outside change control until sealed.

The file is UTF-8 CSV (no BOM) with a header of the columns' names (or their Chinese
titles), one row per line, sorted by key.  The **rows digest** is ``sha256:`` + the hex
SHA-256 of, joined by U+001E, the column names joined by U+001F, then every row's cells
(NFC) joined by U+001F, rows in key order.  Quoting, line endings, the header's language and
the order of the rows never change it; any cell does.  The item carries the digest it was
sealed with, so the item's own content digest (model/digest.py) covers its rows: editing a
table is a change like any other: diff shows it, sign-offs go stale, overrides review.

Checks are made column by column over the joined text of a column with one compiled regular
expression each (C speed, no Python step per cell); see :func:`problems`.  A file as ``twoku table seal``
writes it is kept as its bytes and, where nothing is wrong with it, checked and digested from them without
its rows ever being made (see :class:`Table`, :func:`_source_clean`, :func:`_source_order`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import operator
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from twoku.model.regex import UnsafePattern, compile_bytes, compile_linear

COLUMN_TYPES: dict[str, str] = {
    "text": "文本",
    "integer": "整数",
    "number": "数值",
    "date": "日期",
    "enum": "枚举",
    "code": "代码",
    "code_prefix": "代码前缀",
    "codes": "代码列表",
}
LIST_SEPARATOR = ";"  # the cell of a ``codes`` column: codes joined by ;
# A bigger file is a finding, not read (a 1,000,000-row table is some 60 MB); TWOKU_MAX_TABLE_MB sets another.
MAX_TABLE_BYTES = int(float(os.environ.get("TWOKU_MAX_TABLE_MB") or 256) * 1024 * 1024)
LEGACY_COLUMNS = (("code", "代码"), ("name", "名称"), ("note", "备注"))  # as the shorthand's tables are written

_TYPE_PATTERNS = {
    "integer": r"-?\d+",
    "number": r"-?\d+(?:\.\d+)?",
    "date": r"\d{4}-\d{2}-\d{2}",
    "code_prefix": r"[0-9A-Za-z][0-9A-Za-z.+\-]*",
}
_US, _RS = "\x1f", "\x1e"


@dataclass(frozen=True)
class Column:
    name: str
    title: str = ""
    type: str = "text"
    values: tuple[str, ...] = ()  # enum
    system: str | None = None  # code, code_prefix, codes: the coding knowledge item whose pattern applies
    required: bool = False
    disclosure: str | None = None  # society / institutions / internal (None: as the item)

    @property
    def label(self) -> str:
        return f"{self.name}（{self.title}）" if self.title and self.title != self.name else self.name


@dataclass(frozen=True)
class TableSpec:
    """What a knowledge item declares of its table."""

    file: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    add: bool = False
    remove: bool = False
    rows: int | None = None
    digest: str | None = None
    legacy: bool = False  # the ``table: X.csv`` shorthand

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def spec_of(data: Mapping[str, Any]) -> TableSpec | None:
    """The table an item's data declares, or None (no table, or a shape the schema refuses)."""
    table = data.get("table")
    if isinstance(table, str):
        system = data.get("id") if isinstance(data.get("pattern"), str) else None
        known = isinstance(system, str)  # a code table of a system is checked against its pattern; else as text
        code = Column("code", "代码", "code" if known else "text", system=system if known else None, required=True)
        rest = tuple(Column(n, t) for n, t in LEGACY_COLUMNS[1:])
        return TableSpec(table, (code, *rest), ("code",), legacy=True)
    if not isinstance(table, Mapping) or not isinstance(table.get("file"), str):
        return None
    columns = []
    for raw in table.get("columns") or ():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            return None
        values = raw.get("values")
        columns.append(
            Column(
                raw["name"],
                str(raw.get("title") or ""),
                str(raw.get("type") or "text"),
                tuple(str(v) for v in values) if isinstance(values, list) else (),
                raw["system"] if isinstance(raw.get("system"), str) else None,
                bool(raw.get("required", False)),
                raw["disclosure"] if isinstance(raw.get("disclosure"), str) else None,
            )
        )
    key = table.get("key")
    keys = tuple(str(k) for k in key) if isinstance(key, list) else (str(key),) if isinstance(key, str) else ()
    lower = table.get("lower")
    lower = lower if isinstance(lower, Mapping) else {}
    rows = table.get("rows")
    digest = table.get("digest")
    return TableSpec(
        table["file"],
        tuple(columns),
        keys,
        bool(lower.get("add", False)),
        bool(lower.get("remove", False)),
        rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
        digest if isinstance(digest, str) else None,
    )


def table_path(item_path: str, spec: TableSpec) -> str:
    """The store path of the table's file: beside the item."""
    folder = item_path.rpartition("/")[0]
    return f"{folder}/{spec.file}" if folder else spec.file


@dataclass(frozen=True)
class Problem:
    """Something wrong in a table's file, where it is: line and column are 1-based (column: the cell's
    character position in its line), 0 where it concerns the whole file."""

    kind: str  # encoding, header, shape, cell, pattern, duplicate, conflict, order, size
    message: str
    line: int = 0
    column: int = 0
    hint: str | None = None


class Table:
    """A table's file read against its declaration: the rows (cells as text) and the line of each.

    A file as ``twoku table seal`` writes it (UTF-8, no BOM, no quotes, no CR, each line its cells) is kept as
    its bytes (``source``): its rows, their lines and the text lines are made from them when first asked for.
    Validate asks for none of them where the file is right: :func:`problems` and :func:`rows_digest` read the
    bytes (see :func:`_source_clean`, :func:`_source_order`), and a million rows are never a million tuples."""

    def __init__(
        self,
        spec: TableSpec,
        path: str,
        rows: list[tuple[str, ...]] | None = None,
        lines: list[int] | None = None,
        problems: list[Problem] | None = None,
        readable: bool = True,
        text_lines: list[str] | None = None,
    ) -> None:
        self.spec = spec
        self.path = path
        self._rows: list[tuple[str, ...]] | None = rows if rows is not None else []
        self._lines: list[int] | None = lines if lines is not None else []  # the file line of each row
        self._problems: list[Problem] = problems if problems is not None else []  # of reading it
        self.readable = readable  # False: nothing could be read (its cells are not checked)
        self._text_lines: list[str] | None = text_lines if text_lines is not None else []  # for cell positions
        # What is made once of the rows (their columns, whether they are in key order, whether the text lines are
        # the rows as written: plain), for the rows it was made of (see _memo).
        self._memo: dict[str, Any] = {}
        self.source: bytes | None = None  # the file's bytes, where rows are made from them when asked for
        self.normalized = False  # source: its text is NFC (its bytes are those its digest hashes)
        self.count = 0  # source: its rows (its lines, until it is known that each has its cells)
        self.shaped: bool | None = True  # source: whether each line has its cells (None: not yet known)
        self.facts: dict[Any, bool] = {}  # source: what _source_clean and _source_order found, by what they read

    def __repr__(self) -> str:
        return f"Table({self.path!r}, {self.row_count} rows, {len(self.problems)} problems)"

    @property
    def problems(self) -> list[Problem]:
        """What is wrong in the file's encoding, header or shape."""
        self._settle()
        return self._problems

    @problems.setter
    def problems(self, problems: list[Problem]) -> None:
        self._problems = problems

    @property
    def rows(self) -> list[tuple[str, ...]]:
        if self._rows is None:
            self._materialize()
        assert self._rows is not None
        return self._rows

    @rows.setter
    def rows(self, rows: list[tuple[str, ...]]) -> None:
        if self._rows is None:
            self._materialize()  # the text lines and the memo as they were (and the source no longer stands)
        self._rows = rows
        self.source = None

    @property
    def lines(self) -> list[int]:
        if self._lines is None:
            self._materialize()
        assert self._lines is not None
        return self._lines

    @lines.setter
    def lines(self, lines: list[int]) -> None:
        if self._rows is None:
            self._materialize()
        self._lines = lines

    @property
    def text_lines(self) -> list[str]:
        if self._text_lines is None:
            self._materialize()
        assert self._text_lines is not None
        return self._text_lines

    @text_lines.setter
    def text_lines(self, lines: list[str]) -> None:
        self._text_lines = lines

    @property
    def memo(self) -> dict[str, Any]:
        """What is made once of the rows (see _memo): of the rows, so they are made from the source first."""
        if self._rows is None:
            self._materialize()
        return self._memo

    @property
    def row_count(self) -> int:
        """len(rows), without making them from the source."""
        self._settle()
        return self.count if self._rows is None else len(self._rows)

    @property
    def from_source(self) -> bool:
        """Whether the rows are still only the source's bytes (nothing has asked for them), each line its cells."""
        self._settle()
        return self._rows is None

    def _settle(self) -> None:
        """Where it is not yet known whether each line of the source has its cells: one RE2 match tells, and
        where one has not, the file is read line by line as parse reads such a file (its shape problems)."""
        if self._rows is None and self.shaped is None:
            assert self.source is not None
            if _shaped(self.source, len(self.spec.columns)):
                self.shaped = True
            else:
                self._materialize()

    def _materialize(self) -> None:
        """The rows, their lines and the text lines, made from the source as parse makes them: column-wise
        where each line has its cells, else line by line (with the problems of the lines that have not)."""
        assert self.source is not None
        lines = self.source.decode("utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self._text_lines, self._rows, self._lines = lines, [], []
        width = len(self.spec.columns)
        if not _plain(self, lines, width):
            _read_lines(self, lines, width)
        self.source, self.shaped = None, True

    @property
    def key_columns(self) -> list[int]:
        names = self.spec.names
        return [names.index(k) for k in self.spec.key if k in names]

    def key_of(self, row: Sequence[str]) -> tuple[str, ...]:
        return tuple(row[i] for i in self.key_columns)

    def position(self, n: int, column: int) -> int:
        """The character position (1-based) of cell ``column`` of row ``n`` in its line."""
        line = self.text_lines[self.lines[n] - 1] if self.text_lines else ""
        if '"' in line:
            return 1  # quoted cells: the line is named, the cell by its column's name
        return sum(len(cell) + 1 for cell in line.split(",")[:column]) + 1


def parse(raw: bytes, spec: TableSpec, path: str) -> Table:
    """The table in ``raw`` (the file's bytes), with what is wrong in its encoding, header or shape."""
    if len(raw) > MAX_TABLE_BYTES:
        return oversized(spec, path, len(raw))
    table = Table(spec, path)
    problems = table.problems
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(
            Problem("encoding", "文件以 BOM 开头", 1, 1, "另存为“CSV UTF-8”后去掉 BOM，或运行 twoku table seal")
        )
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        where = raw[: err.start].count(b"\n") + 1
        hint = "在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”，或用 iconv -f GB18030 -t UTF-8 转换"
        problems.append(Problem("encoding", "文件不是 UTF-8 编码（疑为 GBK/GB18030）", where, 1, hint))
        table.readable = False
        return table
    width = len(spec.columns)
    if width > 1 and not spec.legacy and b'"' not in raw and "\r" not in text:
        header = _cells(text[: text.find("\n")])
        if header is not None and _header_fits(header, spec) and "\n" in text[:-1]:
            # The rows are made from the bytes when asked for (validate asks only where it finds a problem), as
            # _plain makes them; whether each line has its cells is told when first asked (Table._settle), or
            # by the match of whole rows that checks them (_source_clean).
            table.source, table.count = raw, raw.count(b"\n") - raw.endswith(b"\n")
            table.normalized = unicodedata.is_normalized("NFC", text)
            table._rows = table._lines = table._text_lines = None
            table.shaped = None
            return table
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    table.text_lines = lines
    if not lines:
        problems.append(Problem("header", "表格为空：没有表头", 1, 1, "首行写表头：" + ",".join(spec.names)))
        table.readable = False
        return table
    header = _cells(lines[0])
    if spec.legacy and header:
        # The shorthand names no columns: the first is the code, the others are as the header calls them.
        known_titles = dict(LEGACY_COLUMNS)
        rest = tuple(
            Column(name, known_titles.get(name, cell.strip()))
            for n, cell in enumerate(header[1:], 1)
            if (name := _name(cell, n))
        )
        spec = table.spec = replace(spec, columns=(spec.columns[0], *rest))
    if header is None or not _header_fits(header, spec):
        found = ",".join(header or [lines[0]])
        expected = ",".join(spec.names)
        titles = ",".join(c.title or c.name for c in spec.columns)
        looks_like_data = header is not None and len(header) == len(spec.names) and not (set(header) & set(spec.names))
        hint = f"首行应为表头：{expected}（或中文：{titles}）"
        if looks_like_data:
            hint += "；首行像是数据，缺少表头时第一行数据会被当作表头"
        problems.append(Problem("header", f"表头不符：读到 {found}", 1, 1, hint))
        table.readable = False
        return table
    width = len(spec.columns)
    if width > 1 and '"' not in text and _plain(table, lines, width):
        return table
    _read_lines(table, lines, width)
    return table


def _read_lines(table: Table, lines: list[str], width: int) -> None:
    """The rows of the lines after the header, each line's own way, with what is wrong in their shape."""
    rows, at, problems = table.rows, table.lines, table._problems
    for n, line in enumerate(lines):
        if n == 0:
            continue
        if not line:
            problems.append(Problem("shape", "空行", n + 1, 1, "删除空行"))
            continue
        cells = line.split(",") if '"' not in line else _cells(line)
        if cells is None:
            problems.append(Problem("shape", "引号不成对，或单元格内换行", n + 1, 1, "每行一条，单元格内不要换行"))
            continue
        if len(cells) != width:
            problems.append(
                Problem("shape", f"本行有 {len(cells)} 列，表头有 {width} 列", n + 1, 1, "检查多余或缺少的逗号")
            )
            continue
        rows.append(tuple(cells))
        at.append(n + 1)


def _shaped(raw: bytes, width: int) -> bool:
    """Whether every line after the header of ``raw`` (UTF-8 without BOM or quotes) has ``width`` cells, and
    none a CR: one RE2 match over the bytes (an empty line has one cell)."""
    if b"\r" in raw:
        return False
    at = raw.find(b"\n") + 1
    if at == 0 or at >= len(raw):
        return False  # no rows: nothing to gain
    return _lines_of(width).fullmatch(raw, at) is not None


@lru_cache(maxsize=64)
def _lines_of(width: int) -> Any:
    line = "[^,\n]*" + "(?:,[^,\n]*)" * (width - 1)
    return compile_bytes(f"{line}(?:\n{line})*\n?")


def _plain(table: Table, lines: list[str], width: int) -> bool:
    """Read a file without quotes whose every line has its ``width`` cells (as a sealed table is) column by
    column: one split of the whole body, each column a slice of it (no Python step per line or cell).
    False, leaving the table as it was, where some line is not so: the caller reads it line by line."""
    body = lines[1:]
    commas = width - 1
    if not body:
        return True
    if list(map(str.count, body, itertools.repeat(","))).count(commas) != len(body):
        return False  # some line has another number of cells (an empty line has none)
    cells = ",".join(body).split(",")
    columns = [cells[i::width] for i in range(width)]
    table.rows = list(zip(*columns, strict=True))
    table.lines = list(range(2, len(body) + 2))
    table.memo.update(rows=table.rows, n=len(table.rows), columns=columns, plain=True)
    return True


def _memo(table: Table) -> dict[str, Any]:
    """The table's memo while it is of the rows it was made of (else a fresh one)."""
    memo = table.memo
    if memo.get("rows") is not table.rows or memo.get("n") != len(table.rows):
        memo.clear()
        memo.update(rows=table.rows, n=len(table.rows))
    return memo


def _columns(table: Table) -> list[Sequence[str]]:
    memo = _memo(table)
    if "columns" not in memo:
        memo["columns"] = list(zip(*table.rows, strict=True))
    columns: list[Sequence[str]] = memo["columns"]
    return columns


def oversized(spec: TableSpec, path: str, size: int) -> Table:
    """A table whose file is too big to read: its one problem says so."""
    message = f"表格文件 {size // 1048576} MB，超过上限 {MAX_TABLE_BYTES // 1048576} MB，未读取"
    hint = "把表格拆分为多个知识条目，或只保留本规则需要的行"
    return Table(spec, path, problems=[Problem("size", message, hint=hint)], readable=False)


def _cells(line: str) -> list[str] | None:
    """The cells of one CSV line, or None where it does not end (an open quote: a cell went on to the next)."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    return rows[0] if rows else []


def _name(cell: str, n: int) -> str:
    name = cell.strip()
    return name if re.fullmatch(r"[a-z][a-z0-9_]*", name) else f"column_{n + 1}"


def _header_fits(header: list[str], spec: TableSpec) -> bool:
    if len(header) != len(spec.columns):
        return False
    if spec.legacy:
        return True  # its first cell is checked against the code system (a missing header loses a code)
    return all(cell.strip() in (c.name, c.title) for cell, c in zip(header, spec.columns, strict=True))


def problems(table: Table, patterns: Mapping[str, str | None], keys: bool = True) -> Iterator[Problem]:
    """Every cell checked against its column, then (``keys``: where the key is declared) duplicate and
    conflicting keys and the order of the rows.

    ``patterns``: the ``pattern`` of each coding knowledge item a column names as its system.
    """
    if not table.readable:
        return
    keys = keys and len(table.key_columns) == len(table.spec.key)
    if table._rows is None and table.count and _source_clean(table, patterns) and (not keys or _source_order(table)):
        return  # every cell as its column wants it and the keys strictly increasing: nothing to say
    if not table.rows:  # (made from the source where it was not so, as parse would have made them)
        return
    columns = _columns(table)
    for i, column in enumerate(table.spec.columns):
        yield from _column_problems(table, i, column, columns[i], patterns)
    if keys:
        yield from _key_problems(table)


# A table as twoku table seal writes it, checked in its bytes: the common case, a table with nothing wrong, is
# told by one RE2 match over the whole file and a few passes over its lines made in C, where the cells (and the
# Python objects they would be) are never made.  Only what finds nothing is answered so: where anything may be
# wrong, the rows are made and checked cell by cell, and the findings name line and column.


def _source_clean(table: Table, patterns: Mapping[str, str | None]) -> bool:
    """Whether every cell of the source's rows passes the checks of :func:`_column_problems` (required cells not
    empty, each cell of its type, a code of its system's pattern, a date a real one): true where one RE2
    expression of the whole row, made of each column's, matches every line.  False where it does not, or where
    a column's check cannot be put so."""
    spec = table.spec
    systems = tuple(sorted({(c.system, patterns.get(c.system)) for c in spec.columns if c.system}))
    fact = ("clean", systems)
    if fact not in table.facts:
        whole = _row_regex(spec.columns, spec.key, systems)
        source = table.source
        assert source is not None
        table.facts[fact] = whole is not None and whole.fullmatch(source, source.find(b"\n") + 1) is not None
        if table.facts[fact]:
            table.shaped = True  # (each line matched whole cells, none of which holds a comma or a newline)
    return table.facts[fact]


@lru_cache(maxsize=256)
def _row_regex(columns: tuple[Column, ...], key: tuple[str, ...], systems: tuple[tuple[str, str | None], ...]) -> Any:
    """RE2, compiled: lines of cells joined by commas, each cell matching whole what _column_problems asks of
    its column (``(?:body)?`` where it may be empty); None where a column's body might match a newline or a
    comma (then the cells would not be told apart) or an empty cell where one is not allowed."""
    patterns = dict(systems)
    cells = []
    for column in columns:
        required = column.required or column.name in key
        body = _body(column, patterns)
        if body is None:
            cells.append("[^,\n]+" if required else "[^,\n]*")
            continue
        regex, _, pattern = body
        if column.type == "date":
            regex = _REAL_DATE  # the dates _real_date takes, of those \d{4}-\d{2}-\d{2} takes
        elif (pattern is not None or column.type == "enum") and not _one_line(regex):
            return None
        try:
            if required and compile_bytes(regex).fullmatch(b"") is not None:
                return None
        except UnsafePattern:
            return None
        cells.append(f"(?:{regex})" if required else f"(?:{regex})?")
    line = ",".join(cells)
    try:
        return compile_bytes(f"{line}(?:\n{line})*\n?")
    except UnsafePattern:
        return None


# The dates dt.date.fromisoformat takes among \d{4}-\d{2}-\d{2}: year 0001 on, each month's days, 29 February
# in leap years (by 4, centuries by 400).
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_REAL_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP}-02-29)"
)
_NOT_IN_CELL = (10, 13, 44)  # a newline, a CR, a comma


def _one_line(regex: str) -> bool:
    r"""Whether ``regex`` surely matches no newline, CR or comma: every literal and class in it, as Python's
    parser reads it, is checked.  False where that parser reads it otherwise than RE2 might (it refuses it, or
    warns), or where something in it could match one (., \s, \D, a negated class, a range across one)."""
    import warnings

    if "[:" in regex or "\\p" in regex or "\\P" in regex or "{," in regex:
        return False  # POSIX and Unicode classes: RE2's, not Python's; x{,3}: a repeat to Python, text to RE2
    try:
        import re._parser as parser  # type: ignore[import-not-found]  # (the module sre_parse became)

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = parser.parse(regex)
    except Exception:  # (re.error, a warning made an error, anything else: not told)
        return False
    return _only_cell_characters(tree, parser)


def _only_cell_characters(items: Any, parser: Any) -> bool:
    c = parser  # (its constants: LITERAL, IN, …)
    for op, av in items:
        if op is c.LITERAL:
            if av in _NOT_IN_CELL:
                return False
        elif op is c.IN:
            for kind, value in av:
                if kind is c.LITERAL:
                    if value in _NOT_IN_CELL:
                        return False
                elif kind is c.RANGE:
                    if any(value[0] <= bad <= value[1] for bad in _NOT_IN_CELL):
                        return False
                elif kind is c.CATEGORY:
                    if value not in (c.CATEGORY_DIGIT, c.CATEGORY_WORD):
                        return False
                else:
                    return False  # NEGATE and whatever else
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            if not _only_cell_characters(av[2], parser):
                return False
        elif op is c.SUBPATTERN:
            if not _only_cell_characters(av[3], parser):
                return False
        elif op is c.BRANCH:
            if not all(_only_cell_characters(branch, parser) for branch in av[1]):
                return False
        elif op is c.CATEGORY:
            if av not in (c.CATEGORY_DIGIT, c.CATEGORY_WORD):
                return False
        elif op is not c.AT:
            return False  # ., a back reference, a look-around, …
    return True


def prepare(table: Table) -> None:
    """Find now what the checks of a table kept as its bytes will ask of it whatever its columns' code systems
    are: whether its lines are in key order.  Validate asks it as each table is read, while other processes
    still parse the store's files.  (Of a source whose lines turn out not to have their cells, it is never asked.)"""
    if table._rows is None:
        _source_order(table)


def _source_order(table: Table) -> bool:
    """Whether the source's rows are strictly in key order (no key twice), told from its lines alone: where the
    key is the leading columns, each line up to the end of its key is the key in bytes, which order as the key
    does where no key cell holds a character before the comma (a cell that begins another then orders first,
    as in a tuple of cells) and the only integer key column, the first, holds plain numbers (0, or no leading
    zero): with as many digits they order as text, and a longer one is larger.  False where it is not so, or
    cannot be told so (the rows are then made and ordered)."""
    if "order" not in table.facts:
        table.facts["order"] = _lines_ordered(table)
    return table.facts["order"]


def _lines_ordered(table: Table) -> bool:
    spec = table.spec
    width, k = len(spec.columns), len(spec.key)
    if not k or spec.names[:k] != spec.key:
        return False
    numbered = spec.columns[0].type == "integer"
    if any(c.type == "integer" for c in spec.columns[1:k]):
        return False
    source = table.source
    assert source is not None
    lines = source.split(b"\n")
    del lines[0]  # the header
    if lines[-1] == b"":
        lines.pop()
    ends: list[int] = []
    firsts: list[int] = []
    for n in range(k):  # where each line's n-th cell ends
        if n == width - 1:
            ends = list(map(len, lines))
        else:
            starts = map(operator.add, ends, itertools.repeat(1)) if n else itertools.repeat(0)
            ends = list(map(bytes.find, lines, itertools.repeat(b","), starts))
        if n == 0:
            firsts = ends
    keys = list(map(bytes.__getitem__, lines, map(slice, itertools.repeat(None), ends)))
    if _key_cells(k, numbered).fullmatch(b"\n".join(keys)) is None:
        return False
    if not numbered:
        return all(map(operator.lt, keys, itertools.islice(keys, 1, None)))
    if not all(map(operator.le, firsts, itertools.islice(firsts, 1, None))):
        return False  # a number with fewer digits after one with more
    # Each run of numbers of as many digits (its first line found in C), its keys compared as bytes.
    bounds = [*sorted(map(firsts.index, set(firsts))), len(keys)]
    return all(
        all(map(operator.lt, itertools.islice(keys, a, b), itertools.islice(keys, a + 1, b)))
        for a, b in itertools.pairwise(bounds)
    )


@lru_cache(maxsize=16)
def _key_cells(k: int, numbered: bool) -> Any:
    """Lines of ``k`` cells none of which holds a character before the comma; the first a plain number where
    ``numbered``."""
    cell = "[^\\x00-\\x2c]*"
    line = ("(?:0|[1-9][0-9]*)" if numbered else cell) + f"(?:,{cell})" * (k - 1)
    return compile_bytes(f"{line}(?:\n{line})*")


_REPORTED = 20  # bad cells reported one by one per column; the rest are counted


def _column_problems(
    table: Table, i: int, column: Column, values: Sequence[str], patterns: Mapping[str, str | None]
) -> Iterator[Problem]:
    required = column.required or column.name in table.spec.key
    if required and "" in values:  # compared in C: most required columns have no empty cell to look for
        for n in _lines_matching(values, r""):  # empty cells
            yield Problem("cell", f"{column.label} 不能为空", table.lines[n], table.position(n, i))
    body = _body(column, patterns)
    if body is None:
        return
    regex, what, pattern = body
    bad = _bad_codes(values, regex, pattern) if pattern else _lines_not_matching(values, regex)
    if column.type == "integer" and values is _memo(table).get("columns", [None] * (i + 1))[i]:
        _memo(table).setdefault("integers", {})[i] = not bad and "" not in values  # the key's order reads it
    for k, n in enumerate(bad):
        value = values[n]
        if not value:
            continue
        if k == _REPORTED:
            yield Problem("cell", f"{column.label} 另有 {len(bad) - k} 个值不是{what}", table.lines[n], 1)
            return
        kind = "pattern" if pattern else "cell"
        yield Problem(
            kind,
            f"{column.label} 的值 {value!r} 不是{what}",
            table.lines[n],
            table.position(n, i),
            _hint(column, value, pattern),
        )
    if column.type == "date":
        wrong = set(bad)
        unreal = {v for v in set(values) if v and not _real_date(v)}  # each distinct date tried once
        for n, value in enumerate(values) if unreal else ():
            if value in unreal and n not in wrong:
                yield Problem(
                    "cell", f"{column.label} 的值 {value!r} 不是有效日期", table.lines[n], table.position(n, i)
                )


def _body(column: Column, patterns: Mapping[str, str | None]) -> tuple[str, str, str | None] | None:
    """(regular expression a non-empty cell must match whole, what it means, the system's pattern if any)."""
    kind = column.type
    if kind in ("integer", "number", "date"):
        return _TYPE_PATTERNS[kind], COLUMN_TYPES[kind] + ("（YYYY-MM-DD）" if kind == "date" else ""), None
    if kind == "enum":
        return "|".join(re.escape(v) for v in column.values), "以下之一：" + "、".join(column.values), None
    if kind in ("code", "codes", "code_prefix"):
        pattern = patterns.get(column.system) if column.system else None
        if pattern == "":
            return None  # a pattern RE2 cannot run (TK408 says so): its codes are not tried
        if kind == "code_prefix" or pattern is None:
            return _TYPE_PATTERNS["code_prefix"], "代码（字母、数字）", None
        inner = _unanchored(pattern)
        if kind == "codes":
            return f"(?:{inner})(?:{re.escape(LIST_SEPARATOR)}(?:{inner}))*", f"以 {LIST_SEPARATOR} 分隔的代码", pattern
        return inner, f"符合编码规则 {pattern} 的代码", pattern
    return None


def _unanchored(pattern: str) -> str:
    inner = pattern[1:] if pattern.startswith("^") else pattern
    return inner[:-1] if inner.endswith("$") and not inner.endswith("\\$") else inner


def _hint(column: Column, value: str, pattern: str | None) -> str | None:
    if pattern and value.isdigit():
        regex = compile_linear(pattern)
        for width in range(len(value) + 1, len(value) + 8):
            if regex.fullmatch(value.zfill(width)):
                return (
                    f"疑为表格软件去掉了前导零，应为 {value.zfill(width)}：在 Excel 中把该列设为“文本”后重新录入，"
                    "或用 twoku import 导入"
                )
    if value != value.strip():
        return "去掉首尾空格"
    if column.type == "enum":
        return "取值应为：" + "、".join(column.values)
    return None


def _real_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# A value can only hold a line break if the line was quoted: the joined column is split back exactly.
_CROSSES = re.compile(r"\\[sSDWn]|\[\^|\(\?s|\\[0-9]")


def _bad_codes(values: Sequence[str], body: str, pattern: str) -> list[int]:
    """The indexes of the non-empty values a code system's pattern (run by RE2, in linear time: it comes from
    store data) does not match whole.  One match over the joined column says whether all do; only then one by
    one."""
    if not _CROSSES.search(body):
        whole = compile_bytes(f"(?:{body})?(?:\n(?:{body})?)*")
        if whole.fullmatch("\n".join(values).encode("utf-8")):
            return []
    regex = compile_linear(f"(?:{body})")
    return [n for n, v in enumerate(values) if v and not regex.fullmatch(v)]


def _lines_not_matching(values: Sequence[str], body: str) -> list[int]:
    """The indexes of the non-empty values that do not match ``body`` whole: one search over the joined column
    (an empty cell is the required check's)."""
    if _CROSSES.search(body) or any("\n" in v for v in values[:1]):
        regex = re.compile(body, re.ASCII)
        return [n for n, v in enumerate(values) if v and not regex.fullmatch(v)]
    text = "\n".join(values)
    if _all_match(text, body):
        return []
    found = re.finditer(rf"(?m)^(?!(?:{body})$|$)", text, re.ASCII)
    return _indexes(text, (m.start() for m in found))


def _all_match(text: str, body: str) -> bool:
    """Whether every line of ``text`` is empty or matches ``body`` whole: one RE2 match over the whole text (a
    scan of every position by ``re`` costs a Python-level step per bad line only, but its search is slow where
    nothing is bad, which is nearly always). False where RE2 cannot run ``body``: the caller then searches."""
    try:
        whole = compile_bytes(f"(?:{body})?(?:\n(?:{body})?)*")
    except UnsafePattern:
        return False
    return whole.fullmatch(text.encode("utf-8")) is not None


def _lines_matching(values: Sequence[str], body: str) -> list[int]:
    text = "\n".join(values)
    return _indexes(text, (m.start() for m in re.finditer(rf"(?m)^(?:{body})$", text)))


def _indexes(text: str, starts: Iterator[int]) -> list[int]:
    out, line, at = [], 0, 0
    for start in starts:
        line += text.count("\n", at, start)
        at = start
        out.append(line)
    return out


def _key_problems(table: Table) -> Iterator[Problem]:
    if _in_order(table) and _memo(table).get("strict"):
        return  # keys strictly increasing: none repeats, and the order is right
    keys = _keys(table)
    if len(set(keys)) != len(keys):
        counts = Counter(keys)
        first: dict[tuple[str, ...], int] = {}
        for n, key in enumerate(keys):
            if counts[key] == 1:
                continue
            if key not in first:
                first[key] = n
                continue
            was = table.rows[first[key]]
            now = table.rows[n]
            shown = "、".join(key)
            if was == now:
                yield Problem(
                    "duplicate", f"与第 {table.lines[first[key]]} 行重复：{shown}", table.lines[n], 1, "删除重复行"
                )
                continue
            differ = [
                f"{c.label} {a!r} / {b!r}" for c, a, b in zip(table.spec.columns, was, now, strict=True) if a != b
            ]
            yield Problem(
                "conflict",
                f"同一键 {shown} 在第 {table.lines[first[key]]} 行取值不同：{'；'.join(differ)}",
                table.lines[n],
                1,
                "一个键只保留一行；确有多个取值时把区分的列加入 key",
            )
    if not _in_order(table):
        order = _order_keys(table)
        for n in range(1, len(order)):
            if order[n] < order[n - 1]:
                yield Problem("order", "行未按键排序", table.lines[n], 1, "运行 twoku table seal 排序")
                break


def _keys(table: Table) -> list[tuple[str, ...]]:
    """Each row's key, made column-wise (zip of the key columns: no Python step per row)."""
    if not table.rows or not table.key_columns:
        return [()] * len(table.rows)
    columns = _columns(table)
    return list(zip(*(columns[i] for i in table.key_columns), strict=True))


def _order_keys(table: Table) -> list[Any]:
    """Keys that order as :func:`sort_key` orders them: where every cell of an integer key column is an
    integer, that column as numbers (the tags of sort_key are then all alike and drop out); else sort_key."""
    at = table.key_columns
    if not at or not table.rows:
        return _keys(table)
    columns = _columns(table)
    key_columns: list[Sequence[Any]] = []
    for i in at:
        column = columns[i]
        if table.spec.columns[i].type != "integer":
            key_columns.append(column)
        elif not (known if (known := _memo(table).get("integers", {}).get(i)) is not None else _all_integers(column)):
            return [sort_key(table, key) for key in _keys(table)]
        else:
            key_columns.append(list(map(int, column)))
    return list(zip(*key_columns, strict=True))


def _all_integers(column: Sequence[str]) -> bool:
    return "" not in column and not _lines_not_matching(column, _TYPE_PATTERNS["integer"])


def _in_order(table: Table) -> bool:
    """Whether the rows are in canonical order: by key, ties by the whole row (compared in C)."""
    memo = _memo(table)
    if "ordered" not in memo:
        order = _order_keys(table)
        memo["strict"] = all(map(operator.lt, order, itertools.islice(order, 1, None)))  # no key twice
        memo["ordered"] = memo["strict"] or (
            all(map(operator.le, order, itertools.islice(order, 1, None)))
            and all(map(operator.le, table.rows, itertools.islice(table.rows, 1, None)))
        )
    ordered: bool = memo["ordered"]
    return ordered


def sort_key(table: Table, key: tuple[str, ...]) -> tuple[tuple[int, int | str], ...]:
    """How rows are ordered: by key, integer key columns as numbers."""
    return key_order([table.spec.columns[i].type for i in table.key_columns], key)


def key_order(types: Sequence[str], key: Sequence[str]) -> tuple[tuple[int, int | str], ...]:
    """A key's place in a table's order (its key columns' ``types``): integer columns as numbers."""
    return tuple((0, int(v)) if t == "integer" and _is_int(v) else (1, v) for t, v in zip(types, key, strict=True))


def present(table: Table, column: int, values: Iterable[str]) -> set[str]:
    """Those of ``values`` that some row holds in column ``column`` (a rule's ``names:``): of a table kept as its
    bytes, one RE2 search of them each (the ``column``-th cell of a line, whole), its rows never made."""
    wanted = set(values)
    if table.from_source and all(v and not any(c in v for c in ",\n\r") and "\\E" not in v for v in wanted):
        source = table.source
        assert source is not None
        at = source.find(b"\n") + 1
        before = "[^,\n]*," * column
        return {v for v in wanted if compile_bytes(f"(?m)^{before}\\Q{v}\\E(?:,|$)").search(source, at) is not None}
    return wanted & {row[column] for row in table.rows}


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def sorted_rows(table: Table) -> list[tuple[str, ...]]:
    """The rows in key order (ties by the whole row); the rows themselves where they are in it already, as a
    sealed table's are (checked in C over the keys, no Python step per row)."""
    if _in_order(table):
        return table.rows
    return [row for _, row in sorted(zip(_order_keys(table), table.rows, strict=True))]


_DIGEST_CHUNK = 65536  # rows hashed at a time: the joined text of a million rows is never held whole
_DIGEST_BYTES = 1 << 22  # … bytes of a source
_SEPARATORS = bytes.maketrans(b"\n,", (_RS + _US).encode())


def rows_digest(table: Table) -> str:
    """``sha256:`` + the digest of the canonical rows (see the module's docstring)."""
    # U+001E is a starter that never composes: the NFC of the whole is the NFC of chunks split before it.
    digest = hashlib.sha256(_nfc(_US.join(table.spec.names)).encode("utf-8"))
    if table.from_source and table.normalized and _source_order(table):
        # The lines in canonical order, NFC: their bytes, each line after an RS and its commas USs, are hashed.
        source = table.source
        assert source is not None
        at, end = source.find(b"\n") + 1, len(source) - source.endswith(b"\n")
        digest.update(_RS.encode())
        for start in range(at, end, _DIGEST_BYTES):
            digest.update(source[start : min(start + _DIGEST_BYTES, end)].translate(_SEPARATORS))
        return "sha256:" + digest.hexdigest()
    rows = sorted_rows(table)
    # A file read column-wise (no quotes, one row per line) in canonical order: its lines are the rows as
    # written, their commas the cell separators.
    plain = rows is table.rows and _memo(table).get("plain") and len(table.text_lines) == len(rows) + 1
    for start in range(0, len(rows), _DIGEST_CHUNK):
        if plain:
            lines = table.text_lines[start + 1 : start + 1 + _DIGEST_CHUNK]
            chunk = (_RS + _RS.join(lines)).replace(",", _US)
        else:
            chunk = _RS + _RS.join(map(_US.join, itertools.islice(rows, start, start + _DIGEST_CHUNK)))
        digest.update(_nfc(chunk).encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def canonical_text(table: Table) -> str:
    """The file as ``twoku table seal`` writes it: header of names, rows in key order, LF, minimal quoting."""
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.spec.names)
    writer.writerows(sorted_rows(table))
    return out.getvalue()


# Diffs of two versions of a table, by key.


@dataclass(frozen=True)
class RowChange:
    key: tuple[str, ...]
    cells: tuple[tuple[str, str, str], ...]  # (column, old, new)


@dataclass(frozen=True)
class TableDiff:
    path: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    added: tuple[tuple[str, ...], ...]
    removed: tuple[tuple[str, ...], ...]
    changed: tuple[RowChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "columns": list(self.columns),
            "key": list(self.key),
            "added": [dict(zip(self.columns, row, strict=True)) for row in self.added],
            "removed": [dict(zip(self.columns, row, strict=True)) for row in self.removed],
            "changed": [
                {"key": list(c.key), "cells": [{"column": n, "old": a, "new": b} for n, a, b in c.cells]}
                for c in self.changed
            ],
        }


def diff(old: Table | None, new: Table | None) -> TableDiff | None:
    """Rows added, removed and changed (by key) from ``old`` to ``new``; None when neither was readable."""
    base = new if new is not None and new.readable else old
    if base is None or not base.readable:
        return None
    spec = base.spec
    before = _by_key(old) if old is not None and old.readable else {}
    after = _by_key(new) if new is not None and new.readable else {}
    names = spec.names
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    changed = []
    for k in sorted(_changed_keys(old, new, before, after)):
        a, b = before[k], after[k]
        if a != b:
            cells = tuple(
                (names[i] if i < len(names) else str(i), x, y)
                for i, (x, y) in enumerate(zip(a, b, strict=False))
                if x != y
            )
            changed.append(RowChange(k, cells))
    return TableDiff(base.path, names, spec.key, added, removed, tuple(changed))


def _by_key(table: Table) -> dict[tuple[str, ...], tuple[str, ...]]:
    return dict(zip(_keys(table), table.rows, strict=True))  # the last row of a key, as a dict keeps it


def _changed_keys(
    old: Table | None,
    new: Table | None,
    before: Mapping[tuple[str, ...], tuple[str, ...]],
    after: Mapping[tuple[str, ...], tuple[str, ...]],
) -> Iterable[tuple[str, ...]]:
    """The keys of both versions whose rows may differ: where each key has one row, those of the rows found in
    only one version (set differences, in C);
    else every key of both."""
    if old is None or new is None or old.spec.names != new.spec.names or old.spec.key != new.spec.key:
        return before.keys() & after.keys()
    if len(before) != len(old.rows) or len(after) != len(new.rows):
        return before.keys() & after.keys()
    at = old.key_columns
    if _memo(old).get("plain") and _memo(new).get("plain"):  # the lines are the rows as written: hash those
        lines = set(old.text_lines[1:]).symmetric_difference(new.text_lines[1:])
        moved: Iterable[Sequence[str]] = (line.split(",") for line in lines)
    else:
        moved = set(new.rows).symmetric_difference(old.rows)
    return {k for row in moved if (k := tuple(row[i] for i in at)) in before and k in after}


# What twoku table shows and seals (ops/table.py makes them, render/table.py shows them).


@dataclass(frozen=True)
class Sealed:
    item: str
    path: str  # the item's file
    table: str  # the table's file
    rows: int
    old_digest: str | None
    digest: str
    rewritten: bool  # the CSV was rewritten (sorted, re-encoded)
    declared: bool  # the legacy shorthand became the full declaration

    @property
    def unchanged(self) -> bool:
        return self.old_digest == self.digest and not self.rewritten and not self.declared


@dataclass(frozen=True)
class TableView:
    """A table as a region sees it: its rows, each with the layer it came from."""

    item: str
    title: str
    path: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rows: list[tuple[str, ...]]
    layers: list[str]  # the layer of each row
    region: str | None
    sealed: bool  # the file's rows are those sealed in the item


# A region's table: the upper rows, less the rows its overrides remove, plus the rows they add (DESIGN.md).


@dataclass(frozen=True)
class Layered:
    """A region's effective table: each row with the layer it came from (and the override, where one added it)."""

    rows: list[tuple[str, ...]]
    layers: list[str]
    sources: list[str]  # the override that added the row ("" for the table's own rows)


def row_of(spec: TableSpec, entry: Mapping[str, Any]) -> tuple[str, ...]:
    """A row written in an override (column → value) as the table's cells: text, missing as empty."""
    return tuple("" if entry.get(c.name) is None else str(entry.get(c.name)) for c in spec.columns)


def entries_table(spec: TableSpec, entries: Sequence[Mapping[str, Any]], path: str) -> Table:
    """Rows written in a YAML file (column → value: an override's added rows, an example's rows) as a table
    whose ``lines`` are the 1-based positions of the entries, for :func:`problems` to name."""
    return Table(spec, path, [row_of(spec, e) for e in entries], list(range(1, len(entries) + 1)))


def key_of_entry(spec: TableSpec, entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple("" if entry.get(k) is None else str(entry.get(k)) for k in spec.key)


def layered(table: Table, own_layer: str, overrides: Sequence[tuple[str, str, Mapping[str, Any]]]) -> Layered:
    """``table`` as a region has it: ``overrides`` are (layer, override ID, its ``rows``), top layer first; each
    removes rows by key and adds rows (an added row with an upper row's key takes its place)."""
    spec = table.spec
    index = {table.key_of(row): n for n, row in enumerate(table.rows)}
    current: dict[tuple[str, ...], tuple[tuple[str, ...], str, str]] = {
        key: (table.rows[n], own_layer, "") for key, n in index.items()
    }
    for layer, override_id, rows in overrides:
        for entry in rows.get("remove") or ():
            if isinstance(entry, Mapping):
                current.pop(key_of_entry(spec, entry), None)
        for entry in rows.get("add") or ():
            if isinstance(entry, Mapping):
                row = row_of(spec, entry)
                current[table.key_of(row)] = (row, layer, override_id)
    ordered = sorted(current.values(), key=lambda v: (sort_key(table, table.key_of(v[0])), v[0]))
    return Layered([r for r, _, _ in ordered], [lay for _, lay, _ in ordered], [src for _, _, src in ordered])


def diff_raw(old: bytes | None, new: bytes | None, spec: TableSpec, path: str) -> TableDiff | None:
    """What :func:`diff` says of the two versions of a file, found from their lines where both are plain (UTF-8,
    LF, no quoting, the same header, as ``twoku table seal`` writes them), and only the lines in one version
    are split into cells.  Those lines are found by walking both versions in key order, skipping the stretches
    where their bytes are equal (:func:`_merged`: a 1,000,000-row table with a few thousand changes in a
    fraction of a second), or, where the versions are not in key order or changed throughout, by one set
    operation over their lines.  None where a version is not plain (the caller parses both then).  A table
    with a key twice is an error (TK424, TK425); its diff here pairs rows by key as the changed lines say, not
    as the last row of a key would."""
    if spec.legacy:
        return None  # the shorthand's columns come from its header: parse it
    header = ",".join(spec.names).encode("utf-8") + b"\n"
    bodies: list[bytes] = []  # each version whole, its rows from len(header) on (not copied: 60 MB at 1M rows)
    for raw in (old, new):
        if raw is None:
            bodies.append(header)
            continue
        if raw.startswith(b"\xef\xbb\xbf") or b'"' in raw or b"\r" in raw:
            return None
        if not raw.endswith(b"\n"):
            raw += b"\n"
        if not raw.startswith(header):
            return None
        bodies.append(raw)
    at = [spec.names.index(k) for k in spec.key if k in spec.names]
    if len(at) != len(spec.key):
        return None
    types = [spec.columns[i].type for i in at]
    commas, last = len(spec.names) - 1, max(at, default=0)

    def order(line: bytes) -> tuple[tuple[int, int | str], ...] | None:
        """The line's key as the file is sorted (:func:`sort_key`), or None for a line that is not a row."""
        if line.count(b",") != commas:
            return None
        cells = line.split(b",", last + 1)
        return key_order(types, [cells[i].decode("utf-8", "replace") for i in at])

    found = _merged(bodies[0], bodies[1], order, len(header))
    if found is not None:
        before_lines, moved = found
    else:
        before_lines = set(bodies[0][len(header) : -1].split(b"\n")) if len(bodies[0]) > len(header) else set()
        moved = before_lines.symmetric_difference(
            bodies[1][len(header) : -1].split(b"\n") if len(bodies[1]) > len(header) else ()
        )
    width = len(spec.names)
    before: dict[tuple[str, ...], tuple[str, ...]] = {}
    after: dict[tuple[str, ...], tuple[str, ...]] = {}
    for line in moved:
        try:
            row = tuple(line.decode("utf-8").split(","))
        except UnicodeDecodeError:
            return None
        if len(row) != width or not line:
            return None
        side = before if line in before_lines else after
        key = tuple(row[i] for i in at)
        if key in side:
            return None  # a key twice among the changes: parse both
        side[key] = row
    names = spec.names
    changed = []
    for k in sorted(before.keys() & after.keys()):
        cells = tuple((names[i], x, y) for i, (x, y) in enumerate(zip(before[k], after[k], strict=True)) if x != y)
        changed.append(RowChange(k, cells))
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    return TableDiff(path, names, spec.key, added, removed, tuple(changed))


_MANY = 100_000  # lines in one version only, past which one set operation over every line is as quick


def _merged(
    old: bytes, new: bytes, order: Callable[[bytes], tuple[tuple[int, int | str], ...] | None], start: int = 0
) -> tuple[set[bytes], set[bytes]] | None:
    """(the lines of ``old`` in it only, the lines in one version only) of two bodies (lines ending in a newline)
    in key order (``order``: a line's key as the file is sorted), or None where that cannot be told so.

    Both are walked from the start: the stretch where their bytes are equal is skipped at memcmp speed
    (:func:`_equal_prefix`), and at the line where they differ the keys say which version holds a line the other
    does not (the smaller key), or that the row changed (the same key).  Each line so read must follow the line
    before it in key order, and a version out of key order elsewhere shows as one line on both sides: then None,
    as for a line that is not a row or too many changes (one set operation over the lines answers then)."""
    only_old: set[bytes] = set()
    only_new: set[bytes] = set()
    first = i = j = start  # both bodies begin there (after the same header)
    while i < len(old) and j < len(new):
        k = _equal_prefix(old, i, new, j)
        line_start = max(old.rfind(b"\n", i, i + k) + 1, i)  # the differing line's start, the same in both
        j += line_start - i
        i = line_start
        if i >= len(old) or j >= len(new):
            break
        end_old, end_new = old.index(b"\n", i), new.index(b"\n", j)
        line_old, line_new = old[i:end_old], new[j:end_new]
        key_old, key_new = order(line_old), order(line_new)
        if key_old is None or key_new is None:
            return None
        for body, at, key in ((old, i, key_old), (new, j, key_new)):  # each after its line before, in key order
            if at > first:
                previous = order(body[max(body.rfind(b"\n", first, at - 1) + 1, first) : at - 1])
                if previous is None or not previous < key:
                    return None
        if key_old <= key_new:
            only_old.add(line_old)
            i = end_old + 1
        if key_new <= key_old:
            only_new.add(line_new)
            j = end_new + 1
        if len(only_old) + len(only_new) > _MANY:
            return None
    only_old.update(old[i:-1].split(b"\n") if i < len(old) else ())
    only_new.update(new[j:-1].split(b"\n") if j < len(new) else ())
    if only_old & only_new:
        return None  # a line in both, met out of key order
    return only_old, only_old | only_new


def _equal_prefix(a: bytes, i: int, b: bytes, j: int) -> int:
    """How many bytes ``a`` from ``i`` and ``b`` from ``j`` have in common at their start: a stretch doubled
    while it is equal, then halved (slices compared by memcmp)."""
    n = min(len(a) - i, len(b) - j)
    lo, step = 0, 256
    while lo < n:
        m = min(step, n - lo)
        if a[i + lo : i + lo + m] != b[j + lo : j + lo + m]:
            hi = lo + m
            break
        lo += m
        step *= 2
    else:
        return n
    while hi - lo > 32:
        mid = (lo + hi) // 2
        if a[i + lo : i + mid] == b[j + lo : j + mid]:
            lo = mid
        else:
            hi = mid
    while lo < hi and a[i + lo] == b[j + lo]:
        lo += 1
    return lo
