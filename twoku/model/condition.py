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

from collections.abc import Iterator, Mapping, Sequence
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
GROUP_MEASURES: tuple[str, ...] = ("count", "sum", "days_since_first", "days_since_previous")
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
class PatternOf:
    """The ``pattern`` (a regular expression) of a coding knowledge item."""

    knowledge: str


Value = Scalar | tuple[Scalar, ...] | Param | FieldRef | CodeSet | PatternOf | None


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


Condition = Comparison | AllOf | AnyOf | Not


def parse(data: Any, parameters: Mapping[str, Any] | None = None, pointer: Pointer = ("condition",)) -> Condition:
    """The condition of a rule's ``condition`` key; ConditionProblem says what is wrong and where."""
    return _parse(data, set(parameters or {}), pointer, in_where=False)


def _parse(data: Any, params: set[str], at: Pointer, in_where: bool) -> Condition:
    if not isinstance(data, Mapping):
        raise ConditionProblem("条件应为映射（all、any、not 或 比较）", at)
    for key, cls in (("all", AllOf), ("any", AnyOf)):
        if key in data:
            parts = data[key]
            if not isinstance(parts, list) or not parts:
                raise ConditionProblem(f"{key} 应为非空列表", (*at, key))
            return cls(tuple(_parse(p, params, (*at, key, n), in_where) for n, p in enumerate(parts)))
    if "not" in data:
        return Not(_parse(data["not"], params, (*at, "not"), in_where))
    return _comparison(data, params, at, in_where)


def _comparison(data: Mapping[str, Any], params: set[str], at: Pointer, in_where: bool) -> Comparison:
    kinds = [k for k in MEASURES if k in data]
    if len(kinds) != 1:
        raise ConditionProblem("比较须恰有一个度量：" + "、".join(MEASURES), at)
    kind = kinds[0]
    if in_where and kind not in ("field", "param"):
        raise ConditionProblem(f"where 中只能比较 field 或 param，不能再用 {kind}", (*at, kind))
    measure = _measure(kind, data[kind], params, (*at, kind))
    op = data.get("op")
    if op not in OPS:
        raise ConditionProblem(f"op 应为 {'、'.join(OPS)} 之一", (*at, "op"))
    chars = data.get("chars")
    if chars is not None and (not isinstance(chars, int) or isinstance(chars, bool) or chars < 1):
        raise ConditionProblem("chars 应为正整数", (*at, "chars"))
    value = _value(data.get("value"), op, params, (*at, "value"))
    return Comparison(measure, op, value, chars, at)


def _field(name: Any, at: Pointer) -> str:
    if not isinstance(name, str) or name not in claim.FIELDS:
        raise ConditionProblem(f"结算明细中没有字段 {name!r}", at)
    return name


def _measure(kind: str, spec: Any, params: set[str], at: Pointer) -> Measure:
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
    where = _parse(spec["where"], params, (*at, "where"), in_where=True) if "where" in spec else None
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


def _value(value: Any, op: str, params: set[str], at: Pointer) -> Value:
    if op in UNARY_OPS:
        if value is not None:
            raise ConditionProblem(f"{op} 不需要 value", at)
        return None
    if op in PATTERN_OPS:
        return _pattern(value, op, at)
    if isinstance(value, Mapping) and "pattern_of" in value:
        raise ConditionProblem("{pattern_of: …} 只能用于 matches、not_matches", at)
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
    """Every comparison of the condition, outermost first (not those inside a measure's where)."""
    if isinstance(condition, Comparison):
        yield condition
    elif isinstance(condition, Not):
        yield from comparisons(condition.part)
    else:
        for part in condition.parts:
            yield from comparisons(part)


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


def resolved_list(value: Value, params: Mapping[str, Any], codes: Mapping[CodeSet, Sequence[str]]) -> Value:
    """A value with its parameter or code set replaced by what it stands for."""
    if isinstance(value, Param):
        got = params.get(value.name)
        return tuple(got) if isinstance(got, list) else got
    if isinstance(value, CodeSet):
        return tuple(codes.get(value, ()))
    return value


def _doc(title: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"title": title, "description": description, "x-twoku-disclosure": "society", **schema}


def schema_defs() -> dict[str, Any]:
    """``$defs`` of the rule schema for the condition language (recursive, hence by reference)."""
    ref = {"$ref": "#/$defs/condition"}
    fields = {"type": "string", "enum": [f.name for f in claim.CLAIM_FIELDS]}
    per = _doc(
        "分组字段", "按这些字段的相同取值分组，如 [patient_id, visit_id]", type="array", minItems=1, items=fields
    )
    where = _doc("组内条件", "只计组内满足此条件的明细（只能比较 field 或 param）", **ref)

    def group(title: str, description: str, **extra: Any) -> dict[str, Any]:
        props = {"per": per, "where": where, **extra}
        return _doc(title, description, type="object", additionalProperties=False, required=["per"], properties=props)

    measures = {
        "field": _doc("字段", "比较明细自身的字段", **fields),
        "param": _doc("参数", "比较规则参数（按地区本地化后的取值）", type="string"),
        "count": group("组内明细数", "同组中满足 where 的明细条数，如同一天同一项目的次数"),
        "sum": group("组内合计", "同组中满足 where 的明细某字段之和", field=_doc("合计字段", "被合计的字段", **fields)),
        "days_since_first": group("距首次天数", "本明细费用发生日期距同组首次（满足 where）的天数"),
        "days_since_previous": group("距上次天数", "本明细费用发生日期距同组上一次（满足 where）的天数"),
        "previous_admission": _doc(
            "上次住院",
            "同组（如同一参保人同一机构）上一次住院的某字段",
            type="object",
            additionalProperties=False,
            required=["per", "field"],
            properties={"per": per, "field": {"type": "string", "enum": list(claim.ADMISSION_FIELDS)}},
        ),
        "admission_gap": _doc(
            "再入院间隔",
            "上一次住院出院日期至本次入院日期的天数",
            type="object",
            additionalProperties=False,
            required=["per"],
            properties={"per": per},
        ),
        "admissions_spanning": _doc(
            "所在住院次数",
            "本明细费用发生日期落在同组（如同一参保人同一机构）其他住院的入院至出院期间的次数",
            type="object",
            additionalProperties=False,
            required=["per"],
            properties={
                "per": per,
                "strict": _doc(
                    "不含入出院当日",
                    "true（缺省）：入院日期 < 费用发生日期 < 出院日期；false：含入院当日和出院当日；或 {param: 参数名}",
                    anyOf=[
                        {"type": "boolean"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["param"],
                            "properties": {"param": {"type": "string"}},
                        },
                    ],
                ),
            },
        ),
    }
    scalar = {"type": ["string", "number", "boolean"]}
    value = _doc(
        "比较值",
        "字面值、列表、{param: 参数名}、{field: 字段名, chars: N}、代码集 {codes: 知识编号, names: [名称…]}"
        "或编码规则 {pattern_of: 知识编号}（用于 matches、not_matches）",
        anyOf=[
            scalar,
            {"type": "array", "items": scalar},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["param"],
                "properties": {"param": {"type": "string"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["field"],
                "properties": {"field": fields, "chars": {"type": "integer", "minimum": 1}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["codes"],
                "properties": {
                    "codes": {"type": "string", "pattern": r"^(CN|[0-9]{6})-K-[0-9]{4}$"},
                    "names": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["pattern_of"],
                "properties": {"pattern_of": {"type": "string", "pattern": r"^(CN|[0-9]{6})-K-[0-9]{4}$"}},
            },
        ],
    )
    comparison = _doc(
        "比较",
        "一个度量（field、param、count …）与 op、value 的比较",
        type="object",
        additionalProperties=False,
        required=["op"],
        properties={
            **measures,
            "op": _doc(
                "运算",
                "eq 等于、ne 不等于、lt/le/gt/ge 大小、in/not_in 属于、starts_with 前缀、is_null/not_null、"
                "matches/not_matches 符合/不符合正则表达式",
                type="string",
                enum=list(OPS),
            ),
            "value": {"$ref": "#/$defs/value"},
            "chars": _doc("前几位", "只比较前 N 个字符，如诊断类目取 3", type="integer", minimum=1),
        },
        oneOf=[{"required": [m]} for m in MEASURES],
    )
    condition = _doc(
        "条件",
        "all（全部满足）、any（任一满足）、not（不满足）或一个比较",
        oneOf=[
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["all"],
                "properties": {"all": {"type": "array", "minItems": 1, "items": ref}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["any"],
                "properties": {"any": {"type": "array", "minItems": 1, "items": ref}},
            },
            {"type": "object", "additionalProperties": False, "required": ["not"], "properties": {"not": ref}},
            {"$ref": "#/$defs/comparison"},
        ],
    )
    return {"condition": condition, "comparison": comparison, "value": value}


def examples_schema() -> dict[str, Any]:
    """The rule's ``examples``: synthetic claim lines, and which of them must hit."""
    # An example may carry a code of the wrong format: that is what a code-format rule (CN-R-0013)
    # must be shown to catch, so the lines keep the fields' types and vocabularies but not their patterns.
    props = {
        name: {k: v for k, v in prop.items() if k != "pattern"}
        for name, prop in claim.claim_properties("society").items()
    }
    line = {"type": "object", "additionalProperties": False, "required": ["line_id"], "properties": props}
    example = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "lines", "hits"],
        "properties": {
            "name": _doc("用例名称", "这组明细说明的情形，如 女性参保人结算阿帕他胺片", type="string", minLength=1),
            "lines": _doc("结算明细", "合成的结算明细（不得使用真实患者数据）", type="array", minItems=1, items=line),
            "hits": _doc(
                "应命中明细",
                "必须命中的明细流水号；未列出的明细必须不命中（空列表表示全部不得命中）",
                type="array",
                uniqueItems=True,
                items={"type": "string", "minLength": 1},
            ),
        },
    }
    return _doc(
        "规则用例",
        "可执行条件的测试用例：合成的结算明细及其中应命中的明细；twoku test 运行它们",
        type="array",
        minItems=1,
        items=example,
    )
