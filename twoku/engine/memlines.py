"""Claim lines and knowledge tables as the in-memory evaluator reads them (engine/memory.py): typed as
DuckDB types them (a date a date, an empty table cell NULL), and a request's lines as one :class:`Batch`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twoku.model import claim

Line = dict[str, Any]
Row = tuple[Any, ...]


class LineProblem(ValueError):
    """A claim line's value that is not of its field's type: the field and what it should be."""

    def __init__(self, index: int, name: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.name = name
        self.message = message


# --- typed values ---------------------------------------------------------------------------


_KINDS = {
    "date": "日期（YYYY-MM-DD）",
    "integer": "整数",
    "number": "数字",
    "boolean": "true 或 false",
    "string": "文本",
}


def _text_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise TypeError


def _date_value(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        return dt.date.fromisoformat(value)
    raise TypeError


def _integer_value(value: Any) -> Any:
    if type(value) is int or (type(value) is float and value.is_integer()):
        return int(value)
    raise TypeError


def _number_value(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError


def _boolean_value(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("是", "否"):
        return value == "是"
    raise TypeError


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "string": _text_value,
    "date": _date_value,
    "integer": _integer_value,
    "number": _number_value,
    "boolean": _boolean_value,
}


def _typed(kind: str, value: Any) -> Any:
    return None if value is None else _CONVERT[kind](value)


def typed_line(raw: Mapping[str, Any], index: int = 0) -> Line:
    """A claim line as the evaluator reads it: every field of the claim model, typed (absent ones None);
    LineProblem names the first value that is not of its field's type."""
    line: Line = dict(_EMPTY)
    for name, value in raw.items():
        if value is None or name not in _EMPTY:
            continue
        convert = _CONVERTERS[name]
        if convert is _text_value and type(value) is str:  # the common case, without a call
            line[name] = value
            continue
        try:
            line[name] = convert(value)
        except (TypeError, ValueError):
            f = claim.FIELDS[name]
            raise LineProblem(index, name, f"{name}（{f.title}）应为{_KINDS[f.type]}") from None
    return line


_EMPTY: dict[str, Any] = {f.name: None for f in claim.CLAIM_FIELDS}
_CONVERTERS = {f.name: _CONVERT[f.type] for f in claim.CLAIM_FIELDS}


_TABLE_KINDS = {"integer": "integer", "number": "number", "date": "date"}  # the other column types are text
COLUMN_KINDS = {"integer": "number", "number": "number", "date": "date"}  # a column's family: else text


def typed_rows(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> list[Row]:
    """A knowledge table's rows (text cells, as read from its CSV) typed as DuckDB loads them: empty is NULL."""
    kinds = [_TABLE_KINDS.get(t, "string") for _, t in columns]
    out = []
    for row in rows:
        out.append(tuple(None if cell == "" else _cell(kind, cell) for kind, cell in zip(kinds, row, strict=True)))
    return out


def memory_table(
    columns: Sequence[tuple[str, str]],
    key: Sequence[str],
    rows: Iterable[Sequence[str]],
    code: str | None = None,
    name: str | None = None,
) -> MemoryTable:
    """A table of text cells (its CSV with the region's rows applied) typed for the evaluator."""
    kinds = tuple(COLUMN_KINDS.get(t, "text") for _, t in columns)
    return MemoryTable(tuple(n for n, _ in columns), tuple(key), tuple(typed_rows(columns, rows)), kinds, code, name)


def _cell(kind: str, cell: str) -> Any:
    if kind == "integer":
        return int(cell)
    if kind == "number":
        return float(cell)
    if kind == "date":
        return dt.date.fromisoformat(cell)
    return cell


def text(value: Any) -> str | None:
    """A value as DuckDB casts it to VARCHAR."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else repr(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class MemoryTable:
    """A knowledge table as the region has it, typed, with its joins indexed once."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    rows: tuple[Row, ...]
    kinds: tuple[str, ...]  # each column's family: text, number, date
    code: str | None = None  # the column a code set selects
    name: str | None = None  # the column a code set's names select by
    index: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def at(self, column: str) -> int:
        return self.columns.index(column)

    def kind(self, column: str) -> str:
        return self.kinds[self.at(column)]

    def rows_by(self, columns: tuple[str, ...]) -> dict[tuple[Any, ...], list[Row]]:
        """The rows by their values in ``columns`` (a row with a missing one is in none: ``=`` fails on NULL)."""
        if columns not in self.index:
            at = [self.at(c) for c in columns]
            found: dict[tuple[Any, ...], list[Row]] = {}
            for row in self.rows:
                values = tuple(row[i] for i in at)
                if None not in values:
                    found.setdefault(values, []).append(row)
            self.index[columns] = found
        return self.index[columns]  # type: ignore[no-any-return]


# --- a request's lines ----------------------------------------------------------------------


class Batch:
    """The lines judged together (a visit, with the patient's earlier lines); what the group measures
    computed over them, kept for every rule that asks again."""

    __slots__ = ("cache", "lines")

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = list(lines)
        self.cache: dict[Any, Any] = {}

    def groups(self, per: tuple[str, ...], distinct: bool) -> dict[tuple[Any, ...], list[int]]:
        """The indexes of the lines by their ``per`` values; with ``distinct`` missing values are equal
        (PARTITION BY), else a line with one is in no group (``=``)."""
        key = ("groups", per, distinct)
        found: dict[tuple[Any, ...], list[int]] | None = self.cache.get(key)
        if found is None:
            found = {}
            for i, line in enumerate(self.lines):
                values = tuple(line[f] for f in per)
                if distinct or None not in values:
                    found.setdefault(values, []).append(i)
            self.cache[key] = found
        return found
