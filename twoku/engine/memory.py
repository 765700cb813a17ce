"""Conditions judged in memory: a visit's lines checked in microseconds, with the SQL engine's meaning.

``twoku serve`` answers a doctor's order or a settlement while it happens (事前提醒, 支付审核): a
DuckDB connection per request would cost more than the judgement.  Each rule's condition is
compiled once into Python closures over typed claim lines; a request is a :class:`Batch` (its
lines, with the patient's earlier lines for measures over time), and group measures are
computed once per batch and shared by the rules that use them.

The meaning is that of ``engine/sql.py``, construct by construct: a missing value fails every
comparison but ``is_null`` (SQL's ``COALESCE(…, FALSE)``); ``not_in`` against a list holding a
NULL is false; a group (``per``) of a window or an aggregate treats missing keys as equal
(``PARTITION BY``, ``IS NOT DISTINCT FROM``), while ``other_lines`` and the admission joins
compare them with ``=`` (a missing key meets nothing); ``chars`` cuts the value as text;
``matches`` searches with RE2 as DuckDB does.  tests/engine/test_memory.py proves the hits
and the evidence equal to DuckDB's on every shipped rule's examples and on generated claims.

What cannot be judged with the same meaning is refused when the rule is compiled
(:class:`Unsupported`, in Chinese): a comparison whose two sides are of different types
(DuckDB would cast one of them by its own rules), a parameter holding a list where one
value is compared.  The caller lists such rules; it never judges them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twoku.engine import memgroups
from twoku.engine.memlines import (
    Batch,
    Line,
    LineProblem,
    MemoryTable,
    Row,
    memory_table,
    text,
    typed_line,
    typed_rows,
)
from twoku.engine.sql import RuleSpec, necessary
from twoku.model import claim
from twoku.model.condition import (
    AllOf,
    AnyOf,
    CodeSet,
    Comparison,
    Condition,
    FieldRef,
    LineRef,
    Match,
    Measure,
    Not,
    Param,
    PatternOf,
    RowRef,
    measures,
)

__all__ = [
    "Batch",
    "Hit",
    "Line",
    "LineProblem",
    "MemoryRule",
    "MemoryTable",
    "Row",
    "Unsupported",
    "check",
    "compile_rule",
    "memory_table",
    "text",
    "typed_line",
    "typed_rows",
]

# A compiled part: (batch, index of the line, the matched table row or None, index of the judged line or -1)
Test = Callable[[Batch, int, "Row | None", int], bool]
Value = Callable[[Batch, int, "Row | None", int], Any]


class Unsupported(ValueError):
    """A condition the in-memory evaluator cannot judge with the SQL engine's meaning; the message says why."""


@dataclass(frozen=True)
class Hit:
    rule_id: str
    level: str
    line: int  # index in the batch
    line_id: str | None
    patient_id: str | None
    visit_id: str | None
    evidence: str
    rows: dict[str, Row | None] = field(default_factory=dict)  # knowledge ID → the first row each match found


@dataclass(frozen=True)
class MemoryRule:
    """A rule compiled for memory: its test of a line, its evidence, the tables it matches."""

    rule_id: str
    level: str
    test: Test
    evidence: Callable[[Batch, int], tuple[str, dict[str, Row | None]]]
    effective: dt.date | None
    expires: dt.date | None
    gate: frozenset[Any] | None = None  # the item codes a hit can have (None: any)

    def hits(self, batch: Batch, judged: Iterable[int]) -> list[Hit]:
        out = []
        gate = self.gate
        for i in judged:
            line = batch.lines[i]
            if gate is not None and line["item_code"] not in gate:
                continue
            day = line["service_date"]
            if self.effective is not None and (day is None or day < self.effective):
                continue
            if self.expires is not None and (day is None or day > self.expires):
                continue
            if self.test(batch, i, None, -1):
                evidence, rows = self.evidence(batch, i)
                out.append(
                    Hit(
                        self.rule_id,
                        self.level,
                        i,
                        line["line_id"],
                        line["patient_id"],
                        line["visit_id"],
                        evidence,
                        rows,
                    )
                )
        return out


def check(rules: Iterable[MemoryRule], lines: Sequence[Line], judged: Iterable[int] | None = None) -> list[Hit]:
    """Every rule's hits among the ``judged`` lines (all when None); the others are context only."""
    batch = Batch(lines)
    wanted = list(range(len(batch.lines)) if judged is None else judged)
    out: list[Hit] = []
    for rule in rules:
        out += rule.hits(batch, wanted)
    return out


# --- compiling ------------------------------------------------------------------------------


def compile_rule(spec: RuleSpec, tables: Mapping[str, MemoryTable]) -> MemoryRule:
    """The rule ready to judge lines in memory; Unsupported says what it uses that memory cannot judge alike."""
    c = _Compiler(spec, tables)
    test = c.condition(spec.condition)
    evidence = c.evidence(spec.condition)
    gate = c.gate(necessary(spec.condition))
    return MemoryRule(spec.rule_id, spec.level, test, evidence, _date(spec.effective), _date(spec.expires), gate)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
_NUMBER = (int, float)


def _kind_of(value: Any) -> str:
    """The SQL family of a Python value: text, number, date, boolean."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBER):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "text"


_FIELD_KINDS = {"string": "text", "integer": "number", "number": "number", "date": "date", "boolean": "boolean"}


class _Compiler:
    def __init__(self, spec: RuleSpec, tables: Mapping[str, MemoryTable]) -> None:
        self.spec = spec
        self.tables = tables
        self.match: Match | None = None  # inside a match's where: the match whose row {row: …} reads

    def table(self, knowledge_id: str) -> MemoryTable:
        found = self.tables.get(knowledge_id)
        if found is None:
            raise Unsupported(f"表格 {knowledge_id} 未载入")
        return found

    def param(self, name: str) -> Any:
        got = self.spec.params.get(name)
        return tuple(got) if isinstance(got, list) else got

    # --- conditions ---------------------------------------------------------------------

    def condition(self, cond: Condition) -> Test:
        if isinstance(cond, (AllOf, AnyOf)):
            return _joined([self.condition(p) for p in cond.parts], isinstance(cond, AllOf))
        if isinstance(cond, Not):
            part = self.condition(cond.part)
            return lambda b, i, r, o: not part(b, i, r, o)
        if isinstance(cond, Match):
            found = self.matched(cond)
            return lambda b, i, r, o: next(found(b, i, o), None) is not None
        return self.comparison(cond)

    def matched(self, m: Match) -> Callable[[Batch, int, int], Iterator[Row]]:
        """The rows of the match's table that meet line i and satisfy its where (``o``: the judged line)."""
        table = self.table(m.table)
        for on in m.on:
            mine = "text" if on.prefix else _FIELD_KINDS[claim.FIELDS[on.field].type]
            if table.kind(on.column) != mine:
                raise Unsupported(f"match 以 {on.field} 连接类型不同的列 {on.column}，内存求值不能保证与 SQL 同义")
        exact = tuple(on for on in m.on if not on.prefix)
        prefixes = [(on.field, table.at(on.column)) for on in m.on if on.prefix]
        before, self.match = self.match, m
        try:
            where = self.condition(m.where) if m.where is not None else None
        finally:
            self.match = before
        by = table.rows_by(tuple(on.column for on in exact)) if exact else None
        fields = tuple(on.field for on in exact)

        def rows(b: Batch, i: int, o: int) -> Iterator[Row]:
            line = b.lines[i]
            if by is not None:
                values = tuple(line[f] for f in fields)
                if None in values:
                    return
                candidates: Iterable[Row] = by.get(values, ())
            else:
                candidates = table.rows
            for row in candidates:
                if prefixes and not all(_prefixed(line[f], row[c]) for f, c in prefixes):
                    continue
                if where is None or where(b, i, row, o):
                    yield row

        return rows

    def comparison(self, comp: Comparison) -> Test:
        lhs = self.measure(comp.measure)
        chars = comp.chars
        if chars is not None:
            whole = lhs

            def lhs(b: Batch, i: int, r: Row | None, o: int) -> Any:
                got = text(whole(b, i, r, o))
                return None if got is None else got[:chars]

        op = comp.op
        if op == "is_null":
            return lambda b, i, r, o: lhs(b, i, r, o) is None
        if op == "not_null":
            return lambda b, i, r, o: lhs(b, i, r, o) is not None
        value = self.param(comp.value.name) if isinstance(comp.value, Param) else comp.value
        if op in ("matches", "not_matches"):
            return self.pattern(comp, lhs, value)
        if isinstance(value, CodeSet):
            table = self.table(value.knowledge)
            if op != "starts_with" and table.code is not None:
                self.same_kind(comp, table.kind(table.code))  # IN (SELECT code …) casts one side where they differ
            return self.code_set(op, lhs, value)
        if op in ("in", "not_in") and isinstance(value, RowRef):
            at = self.row_column(value)
            hit = op == "in"

            def listed(b: Batch, i: int, r: Row | None, o: int) -> bool:
                cell = r[at] if r is not None else None
                got = lhs(b, i, r, o)
                if cell is None or got is None:
                    return False
                return (text(got) in str(cell).split(";")) is hit

            self.same_kind(comp, "text")
            return listed
        if op == "starts_with" and isinstance(value, (RowRef, LineRef, FieldRef)):
            prefix = self.rhs(value, None)
            return lambda b, i, r, o: _prefixed(lhs(b, i, r, o), prefix(b, i, r, o))
        if op in ("in", "not_in") and isinstance(value, (FieldRef, LineRef)):
            op = "eq" if op == "in" else "ne"  # IN (x) is = x; NOT IN (x) is <> x, NULL on either side false
        date = self.is_date(comp)
        if op in ("in", "not_in", "starts_with"):
            items = value if isinstance(value, tuple) else (value,)
            if op == "starts_with":
                words = [str(p) for p in items]
                return lambda b, i, r, o: any(_prefixed(lhs(b, i, r, o), p) for p in words)
            consts = [self.const(v, date, chars, comp) for v in items]
            if not consts:
                return (lambda b, i, r, o: False) if op == "in" else (lambda b, i, r, o: lhs(b, i, r, o) is not None)
            has_null = None in consts
            pool = frozenset(c for c in consts if c is not None)
            if op == "in":
                return lambda b, i, r, o: lhs(b, i, r, o) in pool
            if has_null:
                return lambda b, i, r, o: False

            def not_in(b: Batch, i: int, r: Row | None, o: int) -> bool:
                got = lhs(b, i, r, o)
                return got is not None and got not in pool

            return not_in
        if isinstance(value, tuple):
            raise Unsupported(f"{op} 比较的是一个值，参数却是列表 {list(value)}")
        compare = _CMP[op]
        if isinstance(value, (FieldRef, RowRef, LineRef)):
            rhs = self.rhs(value, chars)
            self.same_kind(comp, self.ref_kind(value, chars))

            def against(b: Batch, i: int, r: Row | None, o: int) -> bool:
                a = lhs(b, i, r, o)
                if a is None:
                    return False
                c = rhs(b, i, r, o)
                return c is not None and compare(a, c)

            return against
        const = self.const(value, date, chars, comp)
        if const is None:
            return lambda b, i, r, o: False

        def fixed(b: Batch, i: int, r: Row | None, o: int) -> bool:
            a = lhs(b, i, r, o)
            return a is not None and compare(a, const)

        return fixed

    # --- values -------------------------------------------------------------------------

    def is_date(self, comp: Comparison) -> bool:
        m = comp.measure
        return m.kind in ("field", "previous_admission") and m.field in claim.DATE_FIELDS and comp.chars is None

    def lhs_kind(self, comp: Comparison) -> str | None:
        """The family of the measure's values (None: a parameter's, told by its value)."""
        if comp.chars is not None:
            return "text"
        m = comp.measure
        if m.kind in ("field", "sum", "previous_admission"):
            return _FIELD_KINDS[claim.FIELDS[str(m.field)].type]
        if m.kind == "param":
            got = self.param(str(m.param))
            return None if got is None else _kind_of(got)
        return "number"  # counts and days

    def same_kind(self, comp: Comparison, other: str | None) -> None:
        mine = self.lhs_kind(comp)
        if mine is not None and other is not None and mine != other:
            raise Unsupported(
                f"{comp.measure.label} 与{'、'.join({mine, other})}类型不同的值比较，内存求值不能保证与 SQL 同义"
            )

    def ref_kind(self, value: FieldRef | RowRef | LineRef, chars: int | None) -> str | None:
        if isinstance(value, FieldRef):
            return "text" if value.chars is not None else _FIELD_KINDS[claim.FIELDS[value.name].type]
        if chars is not None:
            return "text"
        if isinstance(value, LineRef):
            return _FIELD_KINDS[claim.FIELDS[value.name].type]
        if self.match is None:
            raise Unsupported("{row: …} 只能用在 match 的 where 中")
        return self.table(self.match.table).kind(value.column)

    def const(self, value: Any, date: bool, chars: int | None, comp: Comparison) -> Any:
        """A literal as the SQL compares it: cut to ``chars`` as text, a date where the field is one."""
        if value is None:
            return None
        if chars is not None:
            return str(value)[:chars]
        if date:
            try:
                return _date(value)
            except ValueError:
                raise Unsupported(f"{comp.measure.label} 是日期，{value!r} 不是日期") from None
        self.same_kind(comp, _kind_of(value))
        return value

    def row_column(self, ref: RowRef) -> int:
        if self.match is None:
            raise Unsupported("{row: …} 只能用在 match 的 where 中")
        return self.table(self.match.table).at(ref.column)

    def rhs(self, value: FieldRef | RowRef | LineRef, chars: int | None) -> Value:
        if isinstance(value, FieldRef):
            name, cut = value.name, value.chars
        elif isinstance(value, LineRef):
            name, cut = value.name, chars
            if cut is None:
                return lambda b, i, r, o: b.lines[o][name] if o >= 0 else None
            return lambda b, i, r, o: _cut(b.lines[o][name], cut) if o >= 0 else None
        else:
            at = self.row_column(value)
            if chars is None:
                return lambda b, i, r, o: r[at] if r is not None else None
            return lambda b, i, r, o: _cut(r[at], chars) if r is not None else None
        if cut is None:
            return lambda b, i, r, o: b.lines[i][name]
        return lambda b, i, r, o: _cut(b.lines[i][name], cut)

    def pattern(self, comp: Comparison, lhs: Value, value: Any) -> Test:
        from twoku.model.regex import compile_linear

        source = self.spec.patterns.get(value.knowledge, "") if isinstance(value, PatternOf) else str(value)
        search = compile_linear(source).search
        hit = comp.op == "matches"

        def test(b: Batch, i: int, r: Row | None, o: int) -> bool:
            got = text(lhs(b, i, r, o))
            return got is not None and (search(got) is not None) is hit

        return test

    def code_set(self, op: str, lhs: Value, value: CodeSet) -> Test:
        table = self.table(value.knowledge)
        if table.code is None:
            raise Unsupported(f"表格 {value.knowledge} 没有代码列")
        code = table.at(table.code)
        rows = table.rows
        if value.names and table.name:
            at, names = table.at(table.name), set(value.names)
            rows = tuple(row for row in rows if row[at] in names)
        codes = [row[code] for row in rows]
        if op == "starts_with":
            prefixes = sorted({str(c) for c in codes if c is not None})
            return lambda b, i, r, o: any(_prefixed(lhs(b, i, r, o), p) for p in prefixes)
        pool = frozenset(c for c in codes if c is not None)
        if op == "in":
            return lambda b, i, r, o: lhs(b, i, r, o) in pool
        if None in codes:
            return lambda b, i, r, o: False

        def not_in(b: Batch, i: int, r: Row | None, o: int) -> bool:
            got = lhs(b, i, r, o)
            return got is not None and got not in pool

        return not_in

    # --- measures -----------------------------------------------------------------------

    def measure(self, m: Measure) -> Value:
        if m.kind == "field":
            name = str(m.field)
            return lambda b, i, r, o: b.lines[i][name]
        if m.kind == "param":
            got = self.param(str(m.param))
            if isinstance(got, tuple):
                raise Unsupported(f"参数 {m.param} 是列表，不能作为一个值比较")
            return lambda b, i, r, o: got
        if m.kind == "other_lines":
            return self.other_lines(m)
        per_line = self.per_line(m)
        return lambda b, i, r, o: per_line(b)[i]

    def other_lines(self, m: Measure) -> Value:
        per = m.per
        where = self.condition(m.where) if m.where is not None else None

        def count(b: Batch, i: int, r: Row | None, o: int) -> int:
            line = b.lines[i]
            own = line["line_id"]
            if own is None:
                return 0
            values = tuple(line[f] for f in per)
            if None in values:
                return 0
            n = 0
            for d in b.groups(per, False).get(values, ()):
                other = b.lines[d]["line_id"]
                if other is not None and other != own and (where is None or where(b, d, r, i)):
                    n += 1
            return n

        return count

    def per_line(self, m: Measure) -> Callable[[Batch], list[Any]]:
        """The measure's value for every line of a batch, computed once per batch."""
        flag = self.condition(m.where) if m.where is not None else None
        compute = {
            "count": memgroups.counts,
            "sum": memgroups.sums,
            "days_since_first": memgroups.days_since_first,
            "days_since_previous": memgroups.days_since_previous,
            "previous_admission": memgroups.previous_admission,
            "admission_gap": memgroups.previous_admission,
            "admissions_spanning": memgroups.spanning,
        }[m.kind]
        strict = m.strict
        if isinstance(strict, Param):
            strict = bool(self.spec.params.get(strict.name))
        key = (m, strict)

        def values(b: Batch) -> list[Any]:
            got: list[Any] | None = b.cache.get(key)
            if got is None:
                flags = [True] * len(b.lines) if flag is None else [flag(b, i, None, -1) for i in range(len(b.lines))]
                got = b.cache[key] = compute(b, m, flags, bool(strict))
            return got

        return values

    # --- which lines can hit --------------------------------------------------------------

    def gate(self, cond: Condition | None) -> frozenset[Any] | None:
        """The item codes a line satisfying ``cond`` (the condition's part on the line itself) can have; None
        when it may have any.  A rule is tried only on the lines of those codes: most rules name a few drugs
        or services, so a visit's line meets two or three rules, not all of them."""
        if cond is None or isinstance(cond, Not):
            return None
        if isinstance(cond, AllOf):
            gates = [g for g in (self.gate(p) for p in cond.parts) if g is not None]
            return min(gates, key=len) if gates else None
        if isinstance(cond, AnyOf):
            each = [self.gate(p) for p in cond.parts]
            if any(g is None for g in each):
                return None
            return frozenset().union(*(g for g in each if g is not None))
        if isinstance(cond, Match):
            exact = [on for on in cond.on if on.field == "item_code" and not on.prefix]
            if not exact:
                return None
            table = self.table(cond.table)
            at = table.at(exact[0].column)
            return frozenset(row[at] for row in table.rows if row[at] is not None)
        if cond.measure.kind != "field" or cond.measure.field != "item_code" or cond.chars is not None:
            return None
        value = self.param(cond.value.name) if isinstance(cond.value, Param) else cond.value
        if cond.op == "eq" and isinstance(value, str):
            return frozenset({value})
        if cond.op == "in" and isinstance(value, tuple):
            return frozenset(v for v in value if isinstance(v, str))
        if cond.op == "in" and isinstance(value, CodeSet):
            table = self.table(value.knowledge)
            if table.code is None:
                return None
            code = table.at(table.code)
            rows = table.rows
            if value.names and table.name:
                at, names = table.at(table.name), set(value.names)
                rows = tuple(row for row in rows if row[at] in names)
            return frozenset(row[code] for row in rows if row[code] is not None)
        return None

    # --- evidence -----------------------------------------------------------------------

    def evidence(self, condition: Condition) -> Callable[[Batch, int], tuple[str, dict[str, Row | None]]]:
        """``label=value; …; K=key`` as the SQL writes it, and the first row each outer match found."""
        parts: list[tuple[str, Value]] = []
        for m in measures(condition):
            if m.kind != "other_lines":
                parts.append((m.label + "=", self.measure(m)))
        found = []
        for match in _outer_matches(condition):
            table = self.table(match.table)
            keys = [table.at(k) for k in table.key]
            found.append((match.table, self.matched(match), keys))

        def evidence(b: Batch, i: int) -> tuple[str, dict[str, Row | None]]:
            said = []
            for label, value in parts:
                got = text(value(b, i, None, -1))
                said.append(label + ("∅" if got is None else got))
            rows: dict[str, Row | None] = {}
            for knowledge_id, rows_of, keys in found:
                best: tuple[str, Row] | None = None
                for row in rows_of(b, i, -1):
                    cells = [text(row[k]) for k in keys]
                    if None in cells:
                        continue
                    name = "/".join(str(c) for c in cells) if keys else "?"
                    if best is None or name < best[0]:
                        best = (name, row)
                rows[knowledge_id] = best[1] if best else None
                said.append(f"{knowledge_id}={best[0] if best else '∅'}")
            return "; ".join(said), rows

        return evidence


def _joined(parts: list[Test], every: bool) -> Test:
    """``all`` or ``any`` of the parts: the common short lists as plain ``and``/``or`` (no generator per line)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        p0, p1 = parts
        if every:
            return lambda b, i, r, o: p0(b, i, r, o) and p1(b, i, r, o)
        return lambda b, i, r, o: p0(b, i, r, o) or p1(b, i, r, o)
    if len(parts) == 3:
        q0, q1, q2 = parts
        if every:
            return lambda b, i, r, o: q0(b, i, r, o) and q1(b, i, r, o) and q2(b, i, r, o)
        return lambda b, i, r, o: q0(b, i, r, o) or q1(b, i, r, o) or q2(b, i, r, o)
    head, rest = parts[0], _joined(parts[1:], every)
    if every:
        return lambda b, i, r, o: head(b, i, r, o) and rest(b, i, r, o)
    return lambda b, i, r, o: head(b, i, r, o) or rest(b, i, r, o)


def _outer_matches(cond: Condition) -> Iterable[Match]:
    if isinstance(cond, Match):
        yield cond
    elif isinstance(cond, (AllOf, AnyOf)):
        for part in cond.parts:
            yield from _outer_matches(part)


def _cut(value: Any, chars: int) -> str | None:
    got = text(value)
    return None if got is None else got[:chars]


def _prefixed(value: Any, prefix: Any) -> bool:
    """SUBSTR(value, 1, LENGTH(prefix)) = prefix, a missing side false."""
    if value is None or prefix is None:
        return False
    return (text(value) or "").startswith(text(prefix) or "")
