"""Compile a rule's condition to SQL over the relation ``claims`` (one row per claim line).

The SQL is written in DuckDB's dialect, the embedded engine, and transpiled with sqlglot
for a distributed one (Spark, Trino): window functions and ``LEFT JOIN`` only, no
engine-specific extensions.  Every comparison is wrapped in ``COALESCE(…, FALSE)`` so
that a missing value fails the comparison and ``not`` stays two-valued.

Each rule yields ``rule_id, level, line_id, patient_id, visit_id, evidence`` per hit;
``evidence`` names the values that triggered it (``sex=女; item_code=…``).

Data from the store reaches the SQL in two places only: string literals (:func:`literal`: quotes doubled,
non-finite numbers cast from text; sqlglot re-escapes them for each dialect), and the single-line comment
heading each rule (:func:`comment`: one line, no comment delimiters).  A rule named
``x\nSELECT 1; DROP TABLE claims; --`` stays inside its comment.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    comparisons,
    matches,
    measures,
)
from twoku.model.controls import visible

DIALECTS = ("duckdb", "spark", "trino")
FLAT = frozenset({"spark"})  # dialects whose subqueries read the relations one level up only (compile_rule)
HIT_COLUMNS = ("rule_id", "level", "line_id", "patient_id", "visit_id", "evidence")
_SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_TYPES = {"string": "VARCHAR", "date": "DATE", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}


def sql_type(name: str) -> str:
    """The SQL type of a claim field."""
    return _TYPES[claim.FIELDS[name].type]


@dataclass(frozen=True)
class TableRef:
    """Where a knowledge item's table (as the region has it) is, for the SQL: a relation the engine loaded."""

    relation: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    code: str | None = None  # the column a code set {codes: …} selects: the first of type code
    name: str | None = None  # the column {codes: …, names: […]} selects rows by


def relation_name(knowledge_id: str) -> str:
    """The SQL name of a knowledge item's table: ``kt_CN_K_0030`` (identifiers of ASCII letters, digits, _)."""
    return "kt_" + "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in knowledge_id)


@dataclass(frozen=True)
class RuleSpec:
    """A rule ready to compile: its condition with the parameters and the tables it resolves to."""

    rule_id: str
    level: str
    condition: Condition
    params: Mapping[str, Any]
    tables: Mapping[str, TableRef] = field(default_factory=dict)  # knowledge ID → its loaded table
    effective: str | None = None  # ISO dates: the rule applies to lines of service_date in [effective, expires]
    expires: str | None = None
    patterns: Mapping[str, str] = field(default_factory=dict)  # knowledge ID → its ``pattern`` (pattern_of)


def literal(value: Any, date: bool = False) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):  # repr of nan and inf would be identifiers
        return repr(value) if math.isfinite(value) else f"CAST('{value!r}' AS DOUBLE)"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    quoted = "'" + text.replace("'", "''") + "'"
    return f"DATE {quoted}" if date else quoted


class _Compiler:
    def __init__(self, spec: RuleSpec, table: str = "claims", flat: bool = False) -> None:
        self.spec = spec
        self.table = table
        self.flat = flat  # no subquery reads a relation two levels up (Spark's limit): see match_sql
        self.columns: dict[Measure, str] = {}  # window measures → inner column name
        self.joins: dict[tuple[str, ...], str] = {}  # admission grouping → join alias
        self.spans: dict[Measure, str] = {}  # admissions_spanning → join alias
        self.row: str | None = None  # inside a match's where: the alias of the matched table row
        self.outer: str | None = None  # inside other_lines' where: the alias of the line being judged
        self.aliases = 0
        self.negated = 0  # how many nots the condition being compiled is under

    # --- values -------------------------------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Param):
            got = self.spec.params.get(value.name)
            return tuple(got) if isinstance(got, list) else got
        return value

    def _rhs(self, value: Any, date: bool, chars: int | None, row: str) -> str:
        if isinstance(value, FieldRef):
            return _chars(f"{row}.{value.name}", value.chars)
        if isinstance(value, RowRef):
            return _chars(f"{self.row}.{value.column}", chars)
        if isinstance(value, LineRef):
            return _chars(f"{self.outer}.{value.name}", chars)
        return literal(value, date) if chars is None else literal(str(value)[:chars])

    def _alias(self, letter: str) -> str:
        self.aliases += 1
        return f"{letter}{self.aliases}"

    def table_ref(self, knowledge_id: str) -> TableRef:
        ref = self.spec.tables.get(knowledge_id)
        if ref is None:
            raise KeyError(f"{self.spec.rule_id}: table {knowledge_id} was not loaded")
        return ref

    def code_set_sql(self, code_set: CodeSet) -> str:
        """The codes of a code set, as a subquery of its table: never a list pasted into the SQL."""
        ref = self.table_ref(code_set.knowledge)
        where = ""
        if code_set.names and ref.name:
            where = f" WHERE {ref.name} IN ({', '.join(literal(n) for n in code_set.names)})"
        return f"SELECT {ref.code} FROM {ref.relation}{where}"

    def match_sql(self, m: Match, row: str, select: str = "1") -> str:
        """The matched rows of ``m`` for the line ``row``: the body of an EXISTS (or, with ``select``, of the
        subquery that names the first matched row in a hit's evidence)."""
        ref = self.table_ref(m.table)
        alias = self._alias("r")
        source, ons = f"{ref.relation} AS {alias}", []
        if self.flat and _counts_lines(m):
            # other_lines in the where reads the line and the row: a subquery two levels below the line, which
            # Spark cannot resolve (it resolves outer references one level up).  The line is joined in again
            # beside the row (line_id names one line), so both are one level up.
            line = self._alias("x")
            source, ons = f"{self.table} AS {line}, {source}", [f"{line}.line_id = {row}.line_id"]
            row = line
        ons += [
            f"SUBSTR({row}.{on.field}, 1, LENGTH({alias}.{on.column})) = {alias}.{on.column}"
            if on.prefix
            else f"{alias}.{on.column} = {row}.{on.field}"
            for on in m.on
        ]
        if m.where is not None:
            ons.append(self._within("row", alias, m.where, row))
        return f"SELECT {select.format(r=alias)} FROM {source} WHERE {' AND '.join(ons)}"

    def other_lines_sql(self, m: Measure, row: str) -> str:
        """How many other lines of the line's group satisfy the where (which may name the line, and a row)."""
        alias = self._alias("d")
        on = [f"{alias}.{f} = {row}.{f}" for f in m.per]
        if not self.flat:
            on.append(f"{alias}.line_id <> {row}.line_id")
        if m.where is not None:
            on.append(self._within("outer", row, m.where, alias))
        count = f"(SELECT COUNT(*) FROM {self.table} AS {alias} WHERE {' AND '.join(on)})"
        if not self.flat:
            return count
        # Spark joins a subquery's outer references as keys when they are equalities: the group's lines that
        # qualify, less the line itself when it is in its group (no NULL key) and qualifies, counts the others
        # without the unequal ``line_id <>``, which would pair every line with every line
        own = [f"{row}.{f} IS NOT NULL" for f in m.per]
        if m.where is not None:
            own.append(self._within("outer", row, m.where, row))
        return f"({count} - CASE WHEN {' AND '.join(own) or 'TRUE'} THEN 1 ELSE 0 END)"

    def _within(self, name: str, alias: str, cond: Condition, row: str) -> str:
        """``cond`` as SQL for ``row`` while ``{row: …}`` (name "row") or ``{line: …}`` ("outer") read ``alias``."""
        before = getattr(self, name)
        setattr(self, name, alias)
        try:
            return self.condition_sql(cond, row)
        finally:
            setattr(self, name, before)

    # --- measures -----------------------------------------------------------------------

    def measure_sql(self, m: Measure, row: str) -> str:
        """The measure's value, in the outer query (``row`` = t) or a where clause (``row`` = c)."""
        if m.kind == "field":
            return f"{row}.{m.field}"
        if m.kind == "param":
            return literal(self.spec.params.get(str(m.param)))
        if m.kind == "other_lines":
            return self.other_lines_sql(m, row)
        if m.kind == "admissions_spanning":
            if m not in self.spans:
                self.spans[m] = f"s{len(self.spans) + 1}"
            return f"{row}.{self.spans[m]}_n"
        if m.kind in ("previous_admission", "admission_gap"):
            alias = self._join(m.per)  # joined in the inner query, read by the outer one
            return f"{row}.{alias}_gap" if m.kind == "admission_gap" else f"{row}.{alias}_prev_{m.field}"
        if m not in self.columns:
            self.columns[m] = f"m{len(self.columns) + 1}"
        return f"{row}.{self.columns[m]}"

    def window_sql(self, m: Measure) -> str:
        part = ", ".join(f"c.{f}" for f in m.per)
        flag = self.condition_sql(m.where, "c") if m.where is not None else "TRUE"
        if m.kind == "count":
            return f"SUM(CASE WHEN {flag} THEN 1 ELSE 0 END) OVER (PARTITION BY {part})"
        if m.kind == "sum":
            return f"SUM(CASE WHEN {flag} THEN c.{m.field} END) OVER (PARTITION BY {part})"
        if m.kind == "days_since_first":
            first = f"MIN(CASE WHEN {flag} THEN c.service_date END) OVER (PARTITION BY {part})"
            return f"CASE WHEN {flag} THEN DATE_DIFF('day', {first}, c.service_date) END"
        # days_since_previous: the previous line of the group that also satisfies where
        window = f"PARTITION BY {part}, CASE WHEN {flag} THEN 1 ELSE 0 END ORDER BY c.service_date, c.line_id"
        return f"CASE WHEN {flag} THEN DATE_DIFF('day', LAG(c.service_date) OVER ({window}), c.service_date) END"

    def group_sql(
        self, per: tuple[str, ...], measures: list[tuple[Measure, str]], alias: str, scope: Condition | None
    ) -> str:
        """Counts and sums over the line's group: one aggregate of the lines that count, joined back.

        Only lines satisfying a measure's ``where`` (and ``scope``, what every line of a
        candidate's group satisfies) are read; a group with none has count 0 and sum NULL,
        as over a window.
        """
        keys = ", ".join(per)
        values = []
        for m, name in measures:
            flag = self.condition_sql(m.where, "c")
            values.append(
                f"SUM(CASE WHEN {flag} THEN 1 ELSE 0 END) AS {name}"
                if m.kind == "count"
                else f"SUM(CASE WHEN {flag} THEN c.{m.field} END) AS {name}"
            )
        filters = ["(" + " OR ".join(self.condition_sql(m.where, "c") for m, _ in measures) + ")"]
        if scope is not None:
            filters.append(self.condition_sql(scope, "c"))
        on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM {alias}.{k}" for k in per)
        return (
            f"LEFT JOIN (SELECT {keys}, {', '.join(values)} FROM {self.table} AS c WHERE {' AND '.join(filters)} "
            f"GROUP BY {keys}) AS {alias} ON {on}"
        )

    def _join(self, per: tuple[str, ...]) -> str:
        if per not in self.joins:
            self.joins[per] = f"a{len(self.joins) + 1}"
        return self.joins[per]

    def join_sql(self, per: tuple[str, ...], alias: str, scope: Condition | None = None) -> str:
        keys = [*per, "visit_id"] if "visit_id" not in per else list(per)
        cols = ", ".join(keys)
        order = "admission_date, visit_id"
        window = f"OVER (PARTITION BY {', '.join(per)} ORDER BY {order})"
        prev = ", ".join(f"LAG({f}) {window} AS prev_{f}" for f in claim.ADMISSION_FIELDS)
        admissions = (
            f"SELECT {cols}, MIN(admission_date) AS admission_date, MAX(discharge_date) AS discharge_date, "
            f"{', '.join(f'MIN({f}) AS {f}' for f in claim.ADMISSION_FIELDS[2:])} "
            f"FROM {self.table} AS c WHERE c.admission_date IS NOT NULL AND c.visit_id IS NOT NULL"
            f"{' AND ' + self.condition_sql(scope, 'c') if scope is not None else ''} GROUP BY {cols}"
        )
        on = " AND ".join(f"c.{k} = {alias}.{k}" for k in keys)
        return (
            f"LEFT JOIN (SELECT {cols}, DATE_DIFF('day', LAG(discharge_date) {window}, admission_date) AS gap, "
            f"{prev} FROM ({admissions}) AS adm) AS {alias} ON {on}"
        )

    def span_sql(self, m: Measure, alias: str, candidates: str, scope: Condition | None) -> str:
        """How many admissions of the line's group (another visit) its service_date falls in, joined back by line."""
        keys = ", ".join(m.per)
        strict = m.strict
        if isinstance(strict, Param):
            strict = bool(self.spec.params.get(strict.name))
        lt = "<" if strict else "<="
        admissions = (
            f"SELECT {keys}, visit_id, MIN(admission_date) AS admission_date, MAX(discharge_date) AS discharge_date "
            f"FROM {self.table} AS c WHERE c.admission_date IS NOT NULL AND c.discharge_date IS NOT NULL "
            f"AND c.visit_id IS NOT NULL{' AND ' + self.condition_sql(scope, 'c') if scope is not None else ''} "
            f"GROUP BY {keys}, visit_id"
        )
        on = " AND ".join(f"c.{k} = adm.{k}" for k in m.per)
        on += f" AND c.visit_id IS DISTINCT FROM adm.visit_id AND adm.admission_date {lt} c.service_date"
        on += f" AND c.service_date {lt} adm.discharge_date"
        return (
            f"LEFT JOIN (SELECT c.line_id, COUNT(*) AS n FROM {candidates} AS c JOIN ({admissions}) AS adm ON {on} "
            f"GROUP BY c.line_id) AS {alias} ON c.line_id = {alias}.line_id"
        )

    # --- conditions ---------------------------------------------------------------------

    def condition_sql(self, cond: Condition | None, row: str) -> str:
        if cond is None:
            return "TRUE"
        if isinstance(cond, AllOf):
            return "(" + " AND ".join(self.condition_sql(p, row) for p in cond.parts) + ")"
        if isinstance(cond, AnyOf):
            return "(" + " OR ".join(self.condition_sql(p, row) for p in cond.parts) + ")"
        if isinstance(cond, Not):
            self.negated += 1
            try:
                return f"(NOT {self.condition_sql(cond.part, row)})"
            finally:
                self.negated -= 1
        if isinstance(cond, Match):
            return f"EXISTS ({self.match_sql(cond, row)})"
        return self.comparison_sql(cond, row)

    def comparison_sql(self, comp: Comparison, row: str) -> str:
        lhs = _chars(self.measure_sql(comp.measure, row), comp.chars)
        if comp.op == "is_null":
            return f"({lhs} IS NULL)"
        if comp.op == "not_null":
            return f"({lhs} IS NOT NULL)"
        date = comp.measure.kind in ("field", "previous_admission") and (
            comp.measure.field in claim.DATE_FIELDS and comp.chars is None
        )
        value = self._resolve(comp.value)
        if comp.op in ("matches", "not_matches"):
            pattern = self.spec.patterns.get(value.knowledge, "") if isinstance(value, PatternOf) else str(value)
            text = (
                lhs
                if comp.measure.kind == "field" and sql_type(str(comp.measure.field)) == "VARCHAR"
                else (f"CAST({lhs} AS VARCHAR)")
            )
            test = f"REGEXP_MATCHES({text}, {literal(pattern)})"
            return f"COALESCE({test if comp.op == 'matches' else f'NOT {test}'}, FALSE)"
        if isinstance(value, CodeSet):
            test = f"{lhs} {'IN' if comp.op == 'in' else 'NOT IN'} ({self.code_set_sql(value)})"
            if comp.op == "starts_with":
                ref = self.table_ref(value.knowledge)
                prefixes = f"({self.code_set_sql(value)}) AS p"
                test = f"EXISTS (SELECT 1 FROM {prefixes} WHERE SUBSTR({lhs}, 1, LENGTH(p.{ref.code})) = p.{ref.code})"
            return f"COALESCE({test}, FALSE)"
        if comp.op in ("in", "not_in") and isinstance(value, RowRef):
            # a ``codes`` column: the row's codes joined by ;
            listed = f"STRING_SPLIT({self._rhs(value, False, None, row)}, ';')"
            test = f"LIST_CONTAINS({listed}, {lhs})"
            return f"COALESCE({test if comp.op == 'in' else f'NOT {test}'}, FALSE)"
        if comp.op == "starts_with" and isinstance(value, (RowRef, LineRef, FieldRef)):
            prefix = self._rhs(value, False, None, row)
            return f"COALESCE(SUBSTR({lhs}, 1, LENGTH({prefix})) = {prefix}, FALSE)"
        if comp.op in ("in", "not_in", "starts_with"):
            items = value if isinstance(value, tuple) else (value,)
            if comp.op == "starts_with":
                tests = [f"SUBSTR({lhs}, 1, {len(str(p))}) = {literal(str(p))}" for p in items]
                body = " OR ".join(tests) or "FALSE"
            elif not items:
                body = "FALSE" if comp.op == "in" else f"{lhs} IS NOT NULL"
            else:
                listed = ", ".join(self._rhs(v, date, comp.chars, row) for v in items)
                body = f"{lhs} {'IN' if comp.op == 'in' else 'NOT IN'} ({listed})"
            return f"COALESCE({body}, FALSE)"
        rhs = self._rhs(value, date, comp.chars, row)
        if self.flat and comp.op == "eq" and not self.negated and isinstance(value, (RowRef, LineRef, FieldRef)):
            # not under a not, a missing value fails alike without COALESCE (every condition is a filter or a
            # CASE WHEN); a bare equality of two columns is what Spark can join on
            return f"({lhs} = {rhs})"
        return f"COALESCE({lhs} {_SQL_OPS[comp.op]} {rhs}, FALSE)"


def _counts_lines(m: Match) -> bool:
    """Whether the match's where counts other lines of the line's group (``other_lines``)."""
    return m.where is not None and any(c.measure.kind == "other_lines" for c in comparisons(m.where))


def _chars(sql: str, chars: int | None) -> str:
    return sql if chars is None else f"SUBSTR(CAST({sql} AS VARCHAR), 1, {chars})"


def compile_rule(spec: RuleSpec, table: str = "claims", flat: bool = False) -> str:
    """The SELECT (DuckDB dialect) of one rule's hits over ``table`` (the claim lines).

    ``flat``: no subquery reads a relation two levels up, as Spark requires (a match whose where counts
    other lines joins the line in again beside the row); the hits are the same.

    Lines are filtered before any window or join: the line's own part of the condition
    (:func:`necessary`) picks the candidate lines, and a window reads only the lines that
    can count in a candidate's group — those satisfying the measure's ``where`` and the
    part of the condition that depends only on the group's own fields (a line of the same
    group shares them).  On claims where most lines are ordinary, a rule's windows run
    over a sliver of the data; the hits are the same as over every line.
    """
    comp = _Compiler(spec, table, flat)
    where = comp.condition_sql(spec.condition, "t")
    if spec.effective:
        where += f" AND t.service_date >= {literal(spec.effective, date=True)}"
    if spec.expires:
        where += f" AND t.service_date <= {literal(spec.expires, date=True)}"
    evidence = _evidence(comp, spec.condition)
    head = f"SELECT {literal(spec.rule_id)} AS rule_id, {literal(spec.level)} AS level, t.line_id, t.patient_id, "
    head += f"t.visit_id, {evidence} AS evidence FROM "
    if not comp.columns and not comp.joins and not comp.spans:
        return f"{head}{table} AS t WHERE {where}"
    candidate = necessary(spec.condition)
    # a count or sum with a where: an aggregate of the few lines that count, joined back; a
    # measure over every line of the group (no where) or ordered in time: a window
    grouped = {m: name for m, name in comp.columns.items() if m.kind in _GROUPED and m.where is not None}
    windowed = {m: name for m, name in comp.columns.items() if m not in grouped}
    inputs = [comp.condition_sql(candidate, "c")]
    for m in windowed:
        parts = [comp.condition_sql(p, "c") for p in (m.where, necessary(spec.condition, frozenset(m.per))) if p]
        inputs.append(" AND ".join(parts) if parts else "TRUE")
    inputs = list(dict.fromkeys(inputs))
    read = table if "TRUE" in inputs else f"(SELECT * FROM {table} AS c WHERE {' OR '.join(inputs)})"
    cols = ["c.*", *(f"{comp.window_sql(m)} AS {name}" for m, name in windowed.items())]
    joins = []
    aggregates: dict[tuple[tuple[str, ...], Condition | None], list[tuple[Measure, str]]] = {}
    for m, name in grouped.items():  # one aggregate per group and scope, however many measures it gives
        aggregates.setdefault((m.per, necessary(spec.condition, frozenset(m.per))), []).append((m, name))
    for n, ((per, scope), group) in enumerate(aggregates.items(), 1):
        cols += [f"COALESCE(g{n}.{name}, 0) AS {name}" if m.kind == "count" else f"g{n}.{name}" for m, name in group]
        joins.append(comp.group_sql(per, group, f"g{n}", scope))
    for per, alias in comp.joins.items():
        cols += [
            f"{alias}.gap AS {alias}_gap",
            *(f"{alias}.prev_{f} AS {alias}_prev_{f}" for f in claim.ADMISSION_FIELDS),
        ]
        joins.append(comp.join_sql(per, alias, necessary(spec.condition, frozenset(per))))
    for m, alias in comp.spans.items():
        cols.append(f"COALESCE({alias}.n, 0) AS {alias}_n")
        cand = comp.condition_sql(candidate, "c")
        lines = table if cand == "TRUE" else f"(SELECT * FROM {table} AS c WHERE {cand})"
        joins.append(comp.span_sql(m, alias, lines, necessary(spec.condition, frozenset(m.per))))
    inner = f"SELECT {', '.join(cols)} FROM {read} AS c {' '.join(joins)}".rstrip()
    return f"{head}({inner}) AS t WHERE {where}"


@dataclass(frozen=True)
class Anchor:
    """What every line a rule can hit has in common: its ``field`` is one of the codes in ``column`` of the
    loaded table ``relation`` (the rows named ``names`` only, when given). The engine reads the claims once,
    sorted by the anchors the lines meet, and runs each anchored rule over its own slice (engine/duck.py)."""

    field: str
    relation: str
    column: str
    names: tuple[str, ...] = ()
    name_column: str | None = None

    def codes_sql(self) -> str:
        """The codes, as text, of the rows the anchor admits."""
        where = f" WHERE {self.name_column} IN ({', '.join(literal(n) for n in self.names)})" if self.names else ""
        return f"SELECT CAST({self.column} AS VARCHAR) AS code FROM {self.relation}{where}"


def anchor(spec: RuleSpec) -> Anchor | None:
    """The rule's anchor, when it has one: a part of its condition that every hit satisfies and that is the
    equality of a text field of the line itself with a table's code column — a ``match`` on one field, or
    ``{field: …, op: in, value: {codes: …}}`` — and a condition that reads no other line (no counts, sums,
    windows, other lines or admissions: those read the group's lines, which a slice would not hold).
    The column's type is the engine's to check (text against text, or the equality would change)."""
    if any(c.measure.kind not in ("field", "param") for c in comparisons(spec.condition)):
        return None
    parts = spec.condition.parts if isinstance(spec.condition, AllOf) else (spec.condition,)
    for part in parts:
        if isinstance(part, Match) and len(part.on) == 1 and not part.on[0].prefix:
            on = part.on[0]
            ref = spec.tables.get(part.table)
            if ref is not None and sql_type(on.field) == "VARCHAR":
                return Anchor(on.field, ref.relation, on.column)
        if (
            isinstance(part, Comparison)
            and part.op == "in"
            and part.chars is None
            and part.measure.kind == "field"
            and isinstance(part.value, CodeSet)
            and sql_type(str(part.measure.field)) == "VARCHAR"
        ):
            ref = spec.tables.get(part.value.knowledge)
            if ref is not None and ref.code is not None:  # names select rows where the table has a name column
                names = part.value.names if ref.name else ()
                return Anchor(str(part.measure.field), ref.relation, ref.code, names, ref.name if names else None)
    return None


_GROUPED = ("count", "sum")  # measures over a whole group: an aggregate joined back, not a window


def necessary(cond: Condition | None, fields: frozenset[str] | None = None) -> Condition | None:
    """A condition on the line's own fields that every line satisfying ``cond`` satisfies (None: any line).

    With ``fields``, only comparisons of those fields (and of parameters) are kept: what
    every line of a group keyed by ``fields`` satisfies when one of its lines satisfies
    ``cond``.
    """
    if cond is None:
        return None
    if isinstance(cond, Comparison):
        return cond if _own(cond, fields) else None
    if isinstance(cond, AllOf):
        kept = tuple(p for p in (necessary(part, fields) for part in cond.parts) if p is not None)
        return None if not kept else kept[0] if len(kept) == 1 else AllOf(kept)
    if isinstance(cond, AnyOf):
        parts = [necessary(part, fields) for part in cond.parts]
        return None if any(p is None for p in parts) else AnyOf(tuple(p for p in parts if p is not None))
    if isinstance(cond, Match):
        if not _joined_by(cond, fields):
            return None
        # the line meets a row of the table: a semi-join that reads only the line (its where too, if it can)
        return cond if cond.where is None or _exact(cond.where, fields) else Match(cond.table, cond.on, None, ())
    return cond if _exact(cond.part, fields) else None


def _joined_by(m: Match, fields: frozenset[str] | None) -> bool:
    return fields is None or all(on.field in fields for on in m.on)


def _own(comp: Comparison, fields: frozenset[str] | None) -> bool:
    """The comparison reads only the line itself (and parameters), within ``fields``."""
    m = comp.measure
    if m.kind == "param":
        return not isinstance(comp.value, FieldRef) or fields is None or comp.value.name in fields
    if m.kind != "field":
        return False
    if fields is None:
        return True
    return m.field in fields and (not isinstance(comp.value, FieldRef) or comp.value.name in fields)


def _exact(cond: Condition, fields: frozenset[str] | None) -> bool:
    if isinstance(cond, Comparison):
        return _own(cond, fields)
    if isinstance(cond, Not):
        return _exact(cond.part, fields)
    if isinstance(cond, Match):
        return _joined_by(cond, fields) and (cond.where is None or _exact(cond.where, fields))
    return all(_exact(p, fields) for p in cond.parts)


def columns_used(specs: Sequence[RuleSpec]) -> set[str]:
    """The claim fields the rules read (with the hit's own columns): all a CSV load needs to keep."""
    used = {"line_id", "patient_id", "visit_id", "service_date"}

    def walk(cond: Condition | None) -> None:
        for comp in comparisons(cond) if cond is not None else ():
            m = comp.measure
            used.update(f for f in (m.field, *m.per) if f)
            if m.kind in ("previous_admission", "admission_gap", "admissions_spanning"):
                used.update(("admission_date", *claim.ADMISSION_FIELDS))
            if isinstance(comp.value, (FieldRef, LineRef)):
                used.add(comp.value.name)
            walk(m.where)

    for spec in specs:
        walk(spec.condition)
        for m in matches(spec.condition):
            used.update(on.field for on in m.on)
    return used


def _evidence(comp: _Compiler, condition: Condition) -> str:
    parts = []
    for m in measures(condition):
        if m.kind == "other_lines":
            continue  # inside a match it names the matched row; the row below says which
        value = comp.measure_sql(m, "t")
        parts.append(f"{literal(m.label + '=')} || COALESCE(CAST({value} AS VARCHAR), '∅')")
    for match in _outer_matches(condition):  # the table row each match found: the hit's evidence names it
        ref = comp.table_ref(match.table)
        key = " || '/' || ".join(f"CAST({{r}}.{k} AS VARCHAR)" for k in ref.key) or "'?'"
        found = comp.match_sql(match, "t", f"MIN({key})")
        parts.append(f"{literal(match.table + '=')} || COALESCE(({found}), '∅')")
    return " || '; ' || ".join(parts) if parts else "''"


def _outer_matches(cond: Condition) -> Iterator[Match]:
    """The matches of the condition itself (not under not, nor in a measure's where)."""
    if isinstance(cond, Match):
        yield cond
    elif isinstance(cond, (AllOf, AnyOf)):
        for part in cond.parts:
            yield from _outer_matches(part)


def compile_rules(specs: Sequence[RuleSpec], dialect: str = "duckdb", names: Mapping[str, str] | None = None) -> str:
    """Every rule's hits as one UNION ALL query, in ``dialect``, each rule headed by a comment."""
    pieces = []
    for spec in specs:
        sql = transpile(compile_rule(spec, flat=dialect in FLAT), dialect, pretty=True)
        title = (names or {}).get(spec.rule_id, "")
        pieces.append(comment(f"{spec.rule_id} {title}") + "\n" + sql)
    return "\nUNION ALL\n".join(pieces) + "\n"


# What starts or ends a comment where a tool rewrites ``--`` comments as ``/* … */`` (sqlglot does).
_DELIMITERS = re.compile(r"--|/\*|\*/")


def comment(text: str) -> str:
    """``text`` as one single-line SQL comment that nothing in it can end or reopen: its lines joined
    (every line break Python knows, Unicode's too), control characters escaped, delimiters split."""
    flat = visible(" ".join(text.splitlines()))
    while _DELIMITERS.search(flat):  # "---" becomes "- --" first
        flat = _DELIMITERS.sub(lambda m: f"{m.group()[0]} {m.group()[1]}", flat)
    return f"-- {flat}".rstrip()


def transpile(sql: str, dialect: str, pretty: bool = False) -> str:
    """DuckDB SQL in another engine's dialect (sqlglot), laid out on lines when ``pretty``."""
    if dialect == "duckdb" and not pretty:
        return sql
    import sqlglot

    return str(sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=pretty)[0])
