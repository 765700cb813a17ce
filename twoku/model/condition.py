"""A rule's machine condition: a small declarative language over claim lines.

A rule keeps its prose ``logic`` for people and may carry a ``condition`` beside it for
machines (a separate key, so every existing file stays valid and no consumer of
``logic`` has to learn a second shape).  A condition is one of::

    {all: [condition, …]}   {any: [condition, …]}   {not: condition}
    {<measure>, op: <op>, value: <value>, chars: N}

The measure is exactly one of:

* ``field: sex`` — the line's own value (a field of ``model/claim.py``);
* ``param: same_diagnosis_only`` — a parameter of the rule, as localised for the region;
* ``count: {per: [fields], where: condition}`` — lines of the line's group (same
  values of ``per``) that satisfy ``where``, e.g. the same item the same day;
* ``sum: {field: quantity, per: […], where: …}`` — the sum of a field over the group;
* ``days_since_first: {per: […], where: …}`` — days from the group's first such line;
* ``days_since_previous: {per: […], where: …}`` — days since the previous such line;
* ``previous_admission: {per: […], field: main_diagnosis}`` — that field of the
  patient's previous admission (an admission is a ``visit_id`` with an admission date);
* ``admission_gap: {per: […]}`` — days from the previous admission's discharge to this
  admission;
* ``admissions_spanning: {per: […], strict: true | {param: name}}`` — how many admissions
  of the group (another visit, with admission and discharge dates) the line's
  ``service_date`` falls in: strictly between admission and discharge day (``strict``,
  the default) or on them as well.

``op`` is one of :data:`OPS`; ``value`` a literal, a list, ``{param: name}``, another
field ``{field: name, chars: N}`` or a code set ``{codes: CN-K-0030, names: [阿帕他胺片]}``
(the codes of a knowledge item's CSV table, all or those of the given names).
``matches`` / ``not_matches`` test the value against a regular expression: a literal
(``value: '^H\\d{11}$'``) or the ``pattern`` of a coding knowledge item
(``value: {pattern_of: CN-K-0037}``); a missing value matches neither.
``chars: N`` compares only the first N characters (ICD-10 类目 = first three).
A missing value satisfies no comparison but ``is_null``; ``where`` may use only
``field`` and ``param`` measures.  The JSON Schema (built here, placed in the rule
schema by ``model/schemas.py``) checks the shape; :func:`parse` checks the meaning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from twoku.model import claim
from twoku.model.findings import Pointer

OPS: tuple[str, ...] = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "starts_with",
    "is_null",
    "not_null",
    "matches",
    "not_matches",
)
LIST_OPS = frozenset({"in", "not_in", "starts_with"})
PATTERN_OPS = frozenset({"matches", "not_matches"})
UNARY_OPS = frozenset({"is_null", "not_null"})
GROUP_MEASURES: tuple[str, ...] = ("count", "sum", "days_since_first", "days_since_previous", "other_lines")
ADMISSION_MEASURES: tuple[str, ...] = ("previous_admission", "admission_gap", "admissions_spanning")
MEASURES: tuple[str, ...] = ("field", "param", *GROUP_MEASURES, *ADMISSION_MEASURES)

Scalar = str | int | float | bool


class ConditionProblem(ValueError):
    """A condition that is well-formed but means nothing: an unknown field or parameter …"""

    def __init__(self, message: str, pointer: Pointer = ()) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer


@dataclass(frozen=True)
class Param:
    name: str


@dataclass(frozen=True)
class FieldRef:
    name: str
    chars: int | None = None


@dataclass(frozen=True)
class CodeSet:
    """The codes of a knowledge item's CSV table: all of them, or those with the given names."""

    knowledge: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowRef:
    """``{row: column}``: the column of the table row a ``match`` found for the line."""

    column: str


@dataclass(frozen=True)
class LineRef:
    """``{line: field}``: inside ``other_lines``' where, a field of the line being judged (not the other line)."""

    name: str


@dataclass(frozen=True)
class PatternOf:
    """The ``pattern`` (a regular expression) of a coding knowledge item."""

    knowledge: str


Value = Scalar | tuple[Scalar, ...] | Param | FieldRef | CodeSet | PatternOf | RowRef | LineRef | None


@dataclass(frozen=True)
class Measure:
    kind: str  # one of MEASURES
    field: str | None = None  # field, sum's field, previous_admission's field
    param: str | None = None
    per: tuple[str, ...] = ()
    where: Condition | None = None
    strict: bool | Param = True  # admissions_spanning: exclude the admission and discharge days

    @property
    def label(self) -> str:
        """A short name for the measure in a hit's evidence."""
        if self.kind in ("field", "param"):
            return str(self.field or self.param)
        if self.kind in ("sum", "previous_admission"):
            return f"{self.kind}({self.field})"
        return self.kind


@dataclass(frozen=True)
class Comparison:
    measure: Measure
    op: str
    value: Value
    chars: int | None
    pointer: Pointer


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


@dataclass(frozen=True)
class On:
    """How a line meets a table row: the line's field equals the row's column, or starts with it (prefix)."""

    field: str
    column: str
    prefix: bool = False


@dataclass(frozen=True)
class Match:
    """``match: {table: K, on: {field: column}, where: …}``: some row of the knowledge item's table (as
    the region has it) meets the line and satisfies ``where``, which compares with ``{row: column}``."""

    table: str
    on: tuple[On, ...]
    where: Condition | None
    pointer: Pointer


Condition = Comparison | AllOf | AnyOf | Not | Match


@dataclass(frozen=True)
class _Scope:
    """What a part of a condition may use: the rule's parameters; in a measure's where only field and param
    measures; ``{row: …}`` inside a match; ``{line: …}`` inside other_lines' where."""

    params: set[str]
    in_where: bool = False
    rows: bool = False
    lines: bool = False


def parse(data: Any, parameters: Mapping[str, Any] | None = None, pointer: Pointer = ("condition",)) -> Condition:
    """The condition of a rule's ``condition`` key; ConditionProblem says what is wrong and where."""
    return _parse(data, _Scope(set(parameters or {})), pointer)


def _parse(data: Any, scope: _Scope, at: Pointer) -> Condition:
    if not isinstance(data, Mapping):
        raise ConditionProblem("条件应为映射（all、any、not、match 或 比较）", at)
    for key, cls in (("all", AllOf), ("any", AnyOf)):
        if key in data:
            parts = data[key]
            if not isinstance(parts, list) or not parts:
                raise ConditionProblem(f"{key} 应为非空列表", (*at, key))
            return cls(tuple(_parse(p, scope, (*at, key, n)) for n, p in enumerate(parts)))
    if "not" in data:
        return Not(_parse(data["not"], scope, (*at, "not")))
    if "match" in data:
        return _match(data["match"], scope, (*at, "match"))
    return _comparison(data, scope, at)


def _match(spec: Any, scope: _Scope, at: Pointer) -> Match:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("table"), str):
        raise ConditionProblem("match 应写明 table（带表格的知识编号）和 on（明细字段: 表格列）", at)
    if scope.rows:
        raise ConditionProblem("match 不能套在另一个 match 之内", at)
    on = spec.get("on")
    if not isinstance(on, Mapping) or not on:
        raise ConditionProblem("match 的 on 应为映射：明细字段: 表格列，如 {item_code: code}", (*at, "on"))
    joins = []
    for name, column in on.items():
        field = _field(name, (*at, "on", name))
        if isinstance(column, Mapping) and isinstance(column.get("column"), str):
            joins.append(On(field, column["column"], bool(column.get("prefix", False))))
        elif isinstance(column, str):
            joins.append(On(field, column))
        else:
            raise ConditionProblem("on 的取值应为表格列名，或 {column: 列名, prefix: true}", (*at, "on", name))
    where = None
    if "where" in spec:
        where = _parse(
            spec["where"], _Scope(scope.params, scope.in_where, rows=True, lines=scope.lines), (*at, "where")
        )
    return Match(spec["table"], tuple(joins), where, at)


def _comparison(data: Mapping[str, Any], scope: _Scope, at: Pointer) -> Comparison:
    in_where = scope.in_where
    kinds = [k for k in MEASURES if k in data]
    if len(kinds) != 1:
        raise ConditionProblem("比较须恰有一个度量：" + "、".join(MEASURES), at)
    kind = kinds[0]
    if in_where and kind not in ("field", "param"):
        raise ConditionProblem(f"where 中只能比较 field 或 param，不能再用 {kind}", (*at, kind))
    measure = _measure(kind, data[kind], scope, (*at, kind))
    op = data.get("op")
    if op not in OPS:
        raise ConditionProblem(f"op 应为 {'、'.join(OPS)} 之一", (*at, "op"))
    chars = data.get("chars")
    if chars is not None and (not isinstance(chars, int) or isinstance(chars, bool) or chars < 1):
        raise ConditionProblem("chars 应为正整数", (*at, "chars"))
    value = _value(data.get("value"), op, scope, (*at, "value"))
    return Comparison(measure, op, value, chars, at)


def _field(name: Any, at: Pointer) -> str:
    if not isinstance(name, str) or name not in claim.FIELDS:
        raise ConditionProblem(f"结算明细中没有字段 {name!r}", at)
    return name


def _measure(kind: str, spec: Any, scope: _Scope, at: Pointer) -> Measure:
    params = scope.params
    if kind == "field":
        return Measure(kind, field=_field(spec, at))
    if kind == "param":
        if spec not in params:
            raise ConditionProblem(f"规则没有参数 {spec!r}", at)
        return Measure(kind, param=str(spec))
    if not isinstance(spec, Mapping):
        raise ConditionProblem(f"{kind} 应为映射，至少写明 per（按哪些字段分组）", at)
    per = spec.get("per")
    if not isinstance(per, list) or not per:
        raise ConditionProblem(f"{kind} 须写 per：按哪些字段分组，如 [patient_id]", (*at, "per"))
    group = tuple(_field(f, (*at, "per", n)) for n, f in enumerate(per))
    inner = _Scope(params, in_where=True, rows=scope.rows, lines=kind == "other_lines")
    where = _parse(spec["where"], inner, (*at, "where")) if "where" in spec else None
    field = None
    if kind == "sum":
        field = _field(spec.get("field"), (*at, "field"))
    elif kind == "previous_admission":
        field = spec.get("field")
        if field not in claim.ADMISSION_FIELDS:
            raise ConditionProblem("previous_admission 的 field 应为 " + "、".join(claim.ADMISSION_FIELDS), at)
    if kind in ADMISSION_MEASURES and where is not None:
        raise ConditionProblem(f"{kind} 不接受 where：住院以入院日期识别", (*at, "where"))
    strict: bool | Param = True
    if "strict" in spec:
        if kind != "admissions_spanning":
            raise ConditionProblem("只有 admissions_spanning 接受 strict", (*at, "strict"))
        raw = spec["strict"]
        if isinstance(raw, Mapping) and raw.get("param") in params:
            strict = Param(str(raw["param"]))
        elif isinstance(raw, bool):
            strict = raw
        else:
            raise ConditionProblem("strict 应为 true、false 或 {param: 参数名}（规则须有该参数）", (*at, "strict"))
    return Measure(kind, field=field, per=group, where=where, strict=strict)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _value(value: Any, op: str, scope: _Scope, at: Pointer) -> Value:
    params = scope.params
    if op in UNARY_OPS:
        if value is not None:
            raise ConditionProblem(f"{op} 不需要 value", at)
        return None
    if op in PATTERN_OPS:
        return _pattern(value, op, at)
    if isinstance(value, Mapping) and "pattern_of" in value:
        raise ConditionProblem("{pattern_of: …} 只能用于 matches、not_matches", at)
    if isinstance(value, Mapping) and ("row" in value or "line" in value):
        return _ref(value, scope, at)
    if isinstance(value, Mapping):
        if "param" in value:
            if value["param"] not in params:
                raise ConditionProblem(f"规则没有参数 {value['param']!r}", (*at, "param"))
            return Param(str(value["param"]))
        if "field" in value:
            chars = value.get("chars")
            return FieldRef(_field(value["field"], (*at, "field")), chars if isinstance(chars, int) else None)
        if "codes" in value:
            if op not in LIST_OPS:
                raise ConditionProblem(f"代码集只能用于 {'、'.join(sorted(LIST_OPS))}", at)
            names = value.get("names") or []
            return CodeSet(str(value["codes"]), tuple(str(n) for n in names))
        raise ConditionProblem("value 映射应为 {param: …}、{field: …} 或 {codes: …}", at)
    if isinstance(value, list):
        if op not in LIST_OPS or not all(_scalar(v) for v in value):
            raise ConditionProblem(f"列表取值只能用于 {'、'.join(sorted(LIST_OPS))}，且元素须为标量", at)
        return tuple(value)
    if not _scalar(value):
        raise ConditionProblem(f"{op} 需要 value", at)
    if op in LIST_OPS:
        return (value,)
    return value  # type: ignore[no-any-return]


def _ref(value: Mapping[str, Any], scope: _Scope, at: Pointer) -> RowRef | LineRef:
    if "row" in value:
        if not scope.rows or not isinstance(value["row"], str):
            raise ConditionProblem("{row: 列名} 只能用在 match 的 where 中", at)
        return RowRef(value["row"])
    if not scope.lines:
        raise ConditionProblem("{line: 字段} 只能用在 other_lines 的 where 中", at)
    return LineRef(_field(value["line"], (*at, "line")))


def _pattern(value: Any, op: str, at: Pointer) -> PatternOf | str:
    if isinstance(value, Mapping) and set(value) == {"pattern_of"}:
        return PatternOf(str(value["pattern_of"]))
    if not isinstance(value, str) or not value:
        raise ConditionProblem(f"{op} 的 value 应为正则表达式字符串或 {{pattern_of: 知识编号}}", at)
    import re

    try:
        re.compile(value)
    except re.error as exc:
        raise ConditionProblem(f"正则表达式有误：{exc}", at) from None
    return value


def comparisons(condition: Condition) -> Iterator[Comparison]:
    """Every comparison of the condition, outermost first (those of a match's where too; not those inside a
    measure's where)."""
    if isinstance(condition, Comparison):
        yield condition
    elif isinstance(condition, Not):
        yield from comparisons(condition.part)
    elif isinstance(condition, Match):
        if condition.where is not None:
            yield from comparisons(condition.where)
    else:
        for part in condition.parts:
            yield from comparisons(part)


def matches(condition: Condition) -> Iterator[Match]:
    """Every match of the condition, in measures' where too."""
    if isinstance(condition, Match):
        yield condition
        if condition.where is not None:
            yield from matches(condition.where)
    elif isinstance(condition, Not):
        yield from matches(condition.part)
    elif isinstance(condition, (AllOf, AnyOf)):
        for part in condition.parts:
            yield from matches(part)
    else:
        if condition.measure.where is not None:
            yield from matches(condition.measure.where)


def row_refs(condition: Condition) -> Iterator[tuple[RowRef, Pointer]]:
    """The ``{row: column}`` values of a match's where (those of its measures' where too)."""
    for comp in comparisons(condition):
        if isinstance(comp.value, RowRef):
            yield comp.value, (*comp.pointer, "value")
        if comp.measure.where is not None:
            yield from row_refs(comp.measure.where)


def tables_read(condition: Condition) -> list[str]:
    """The knowledge items whose tables the condition reads (its code sets and matches), each once, in order."""
    wanted = [c.knowledge for c, _ in code_sets(condition)] + [m.table for m in matches(condition)]
    return list(dict.fromkeys(wanted))


def code_sets(condition: Condition) -> Iterator[tuple[CodeSet, Pointer]]:
    """The code sets the condition uses, each with where it is written."""
    for comp in comparisons(condition):
        if isinstance(comp.value, CodeSet):
            yield comp.value, (*comp.pointer, "value")
        if comp.measure.where is not None:
            yield from code_sets(comp.measure.where)


def patterns(condition: Condition) -> Iterator[tuple[PatternOf, Pointer]]:
    """The coding knowledge items whose ``pattern`` the condition tests, each with where it is written."""
    for comp in comparisons(condition):
        if isinstance(comp.value, PatternOf):
            yield comp.value, (*comp.pointer, "value")
        if comp.measure.where is not None:
            yield from patterns(comp.measure.where)


def measures(condition: Condition) -> list[Measure]:
    """The distinct measures of the condition's comparisons (the evidence of a hit), in order."""
    out: list[Measure] = []
    for comp in comparisons(condition):
        if comp.measure.kind != "param" and comp.measure not in out:
            out.append(comp.measure)
    return out
