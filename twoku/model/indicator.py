"""An indicator (统计指标): a ratio or rate per institution and period, with a baseline and a threshold.

The 8 ``ZB`` classes of the national framework (统计指标监测类: 药费占比、检验检查占比 …
非计划再入院率) are not judged line by line: they are computed over an institution and a
period, and an institution-period whose value stands too far from its baseline is flagged
for review.  A rule of 统计指标监测类 says so in an ``indicator:`` section::

    indicator:
      numerator: {title: 药品费用, sum: amount, where: <condition>}
      denominator: {title: 医疗总费用, sum: amount}
      scale: 100                       # × 100: a percentage (1000: ‰); default 1
      per: [institution_code]          # default; more fields split further (e.g. drg_group)
      period: month                    # month | quarter | year
      date: settlement_date            # which date puts a line in a period (default service_date)
      baseline: {peers: [institution_level]}   # or {previous: 上期 | 上年同期 | {param: …}} or {param: …}
      flag: {compare: difference, op: gt, value: {param: excess_points}}
      minimum: {visits: {}, value: {param: min_visits}}   # judge only groups with enough of something

A measure is one of ``sum: <claim field>`` (the sum over the lines satisfying ``where``),
``visits: {}`` (the distinct ``visit_id`` with such a line: 人次) or ``bed_days: {}`` (the
days from admission to discharge of those visits, a same-day stay counting one).  ``where``
is a condition of the condition language (model/condition.py), measures and matches
included: a line counts when the condition holds for it.

The baseline is the same group's previous period (上期) or the same period a year before
(上年同期), the peers' pooled ratio (every group of the same period with the same values of
the ``peers`` fields and of ``per`` beyond the institution: the region's level), or a
parameter.  ``flag`` compares ``value`` (the indicator), ``difference`` (value − baseline),
``change_pct`` ((value − baseline) ÷ baseline × 100) or ``deviation_pct`` (its absolute value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twoku.model import claim
from twoku.model.condition import Condition, ConditionProblem, Param, parse
from twoku.model.findings import Pointer

PERIODS: dict[str, str] = {"month": "月", "quarter": "季度", "year": "年"}
MEASURE_KINDS: tuple[str, ...] = ("sum", "visits", "bed_days")
COMPARES: dict[str, str] = {
    "value": "指标值",
    "difference": "指标值与基准值之差",
    "change_pct": "指标值较基准值的变化率（%）",
    "deviation_pct": "指标值偏离基准值的幅度（变化率的绝对值，%）",
}
FLAG_OPS: dict[str, str] = {"gt": "大于", "ge": "不小于", "lt": "小于", "le": "不大于"}
# The words of a previous period: 上期 (the period before), 上年同期 (the same period a year before).
PREVIOUS: dict[str, str] = {"上期": "previous", "上月": "previous", "上季度": "previous", "上年": "previous"}
PREVIOUS_YEAR = ("上年同期",)
DATE_FIELDS = tuple(sorted(claim.DATE_FIELDS))


@dataclass(frozen=True)
class IndicatorMeasure:
    kind: str  # one of MEASURE_KINDS
    title: str
    field: str | None = None  # sum's field
    where: Condition | None = None


@dataclass(frozen=True)
class Baseline:
    kind: str  # previous | peers | param
    previous: str | Param | None = None  # 上期 | 上年同期, or the parameter that says which
    peers: tuple[str, ...] = ()
    param: str | None = None


@dataclass(frozen=True)
class Indicator:
    numerator: IndicatorMeasure
    denominator: IndicatorMeasure
    scale: float
    per: tuple[str, ...]
    period: str
    date: str
    baseline: Baseline | None
    compare: str
    op: str
    threshold: float | int | Param
    minimum: IndicatorMeasure | None = None
    minimum_value: float | int | Param | None = None

    @property
    def measures(self) -> tuple[IndicatorMeasure, ...]:
        extra = (self.minimum,) if self.minimum is not None else ()
        return (self.numerator, self.denominator, *extra)


def parse_indicator(
    data: Any, parameters: Mapping[str, Any] | None = None, pointer: Pointer = ("indicator",)
) -> Indicator:
    """The rule's ``indicator`` section; ConditionProblem says what is wrong and where."""
    params = set(parameters or {})
    if not isinstance(data, Mapping):
        raise ConditionProblem("indicator 应为映射：numerator、denominator、period、flag …", pointer)
    numerator = _measure(data.get("numerator"), params, (*pointer, "numerator"))
    denominator = _measure(data.get("denominator"), params, (*pointer, "denominator"))
    scale = data.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
        raise ConditionProblem("scale 应为正数（100 表示百分比）", (*pointer, "scale"))
    per = data.get("per", ["institution_code"])
    if not isinstance(per, list) or "institution_code" not in per:
        raise ConditionProblem("per 应为字段列表且含 institution_code（指标按机构统计）", (*pointer, "per"))
    fields = tuple(_field(f, (*pointer, "per", n)) for n, f in enumerate(per))
    period = data.get("period")
    if period not in PERIODS:
        raise ConditionProblem("period 应为 month、quarter 或 year", (*pointer, "period"))
    date = data.get("date", "service_date")
    if date not in claim.DATE_FIELDS:
        raise ConditionProblem("date 应为结算明细的日期字段，如 settlement_date", (*pointer, "date"))
    baseline = _baseline(data.get("baseline"), params, (*pointer, "baseline"))
    flag = data.get("flag")
    if not isinstance(flag, Mapping):
        raise ConditionProblem("flag 应为映射：compare、op、value", (*pointer, "flag"))
    compare = flag.get("compare", "value")
    if compare not in COMPARES:
        raise ConditionProblem("flag 的 compare 应为 " + "、".join(COMPARES), (*pointer, "flag", "compare"))
    if compare != "value" and baseline is None:
        raise ConditionProblem(f"compare: {compare} 需要 baseline", (*pointer, "flag", "compare"))
    op = flag.get("op")
    if op not in FLAG_OPS:
        raise ConditionProblem("flag 的 op 应为 gt、ge、lt、le", (*pointer, "flag", "op"))
    threshold = _number(flag.get("value"), params, (*pointer, "flag", "value"))
    minimum = minimum_value = None
    if "minimum" in data:
        spec = data["minimum"]
        at = (*pointer, "minimum")
        if not isinstance(spec, Mapping) or "value" not in spec:
            raise ConditionProblem("minimum 应写一个度量和 value，如 {visits: {}, value: {param: min_visits}}", at)
        minimum = _measure({k: v for k, v in spec.items() if k != "value"}, params, at, titled=False)
        minimum_value = _number(spec["value"], params, (*at, "value"))
    return Indicator(
        numerator, denominator, scale, fields, str(period), str(date), baseline, str(compare), str(op), threshold,
        minimum, minimum_value,
    )  # fmt: skip


def _field(name: Any, at: Pointer) -> str:
    if not isinstance(name, str) or name not in claim.FIELDS:
        raise ConditionProblem(f"结算明细中没有字段 {name!r}", at)
    return name


def _measure(spec: Any, params: set[str], at: Pointer, titled: bool = True) -> IndicatorMeasure:
    if not isinstance(spec, Mapping):
        raise ConditionProblem("度量应为映射：title，以及 sum、visits、bed_days 之一", at)
    kinds = [k for k in MEASURE_KINDS if k in spec]
    if len(kinds) != 1:
        raise ConditionProblem("度量须恰有 sum、visits、bed_days 之一", at)
    kind = kinds[0]
    title = spec.get("title")
    if titled and (not isinstance(title, str) or not title.strip()):
        raise ConditionProblem("度量须写 title（中文名称，如 药品费用），公开时用它说明公式", (*at, "title"))
    field = None
    if kind == "sum":
        field = _field(spec["sum"], (*at, "sum"))
        if claim.FIELDS[field].type not in ("number", "integer"):
            raise ConditionProblem(f"sum 只能合计数值字段，{field} 不是", (*at, "sum"))
    elif spec[kind] not in ({}, None):
        raise ConditionProblem(f"{kind} 写作 {{}}：条件写在 where 中", (*at, kind))
    where = parse(spec["where"], dict.fromkeys(params), (*at, "where")) if "where" in spec else None
    return IndicatorMeasure(kind, str(title or ""), field, where)


def _baseline(spec: Any, params: set[str], at: Pointer) -> Baseline | None:
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ConditionProblem("baseline 应为 {previous: …}、{peers: [字段…]} 或 {param: 参数名} 之一", at)
    if "param" in spec:
        if spec["param"] not in params:
            raise ConditionProblem(f"规则没有参数 {spec['param']!r}", (*at, "param"))
        return Baseline("param", param=str(spec["param"]))
    if "peers" in spec:
        peers = spec["peers"]
        if not isinstance(peers, list):
            raise ConditionProblem("peers 应为字段列表，如 [institution_level]", (*at, "peers"))
        return Baseline("peers", peers=tuple(_field(f, (*at, "peers", n)) for n, f in enumerate(peers)))
    if "previous" in spec:
        previous = spec["previous"]
        if isinstance(previous, Mapping) and previous.get("param") in params:
            return Baseline("previous", previous=Param(str(previous["param"])))
        if previous in PREVIOUS or previous in PREVIOUS_YEAR:
            return Baseline("previous", previous=str(previous))
        raise ConditionProblem("previous 应为 上期、上年同期 或 {param: 参数名}", (*at, "previous"))
    raise ConditionProblem("baseline 应为 {previous: …}、{peers: [字段…]} 或 {param: 参数名} 之一", at)


def _number(value: Any, params: set[str], at: Pointer) -> float | int | Param:
    if isinstance(value, Mapping) and set(value) == {"param"}:
        if value["param"] not in params:
            raise ConditionProblem(f"规则没有参数 {value['param']!r}", (*at, "param"))
        return Param(str(value["param"]))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConditionProblem("应为数值或 {param: 参数名}", at)
    return value


def years_back(previous: str | None) -> bool:
    """A previous value that means the same period a year before (else: the period just before)."""
    return previous in PREVIOUS_YEAR


def previous_known(value: Any) -> bool:
    return value in PREVIOUS or value in PREVIOUS_YEAR


def _quantity(value: float | int | Param | None, words: Mapping[str, str]) -> str:
    if isinstance(value, Param):
        return words.get(value.name, value.name)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _scale_words(scale: float) -> str:
    if scale == 100:
        return " × 100%"
    if scale == 1000:
        return " × 1000‰"
    return "" if scale == 1 else f" × {_quantity(scale, {})}"


def _measure_words(m: IndicatorMeasure) -> str:
    if m.kind == "visits":
        return f"{m.title}（人次）" if m.title else "人次"
    if m.kind == "bed_days":
        return f"{m.title}（床日）" if m.title else "床日数"
    return m.title or f"{claim.FIELDS[str(m.field)].title}之和"


def _baseline_words(b: Baseline, unit: str, words: Mapping[str, str]) -> str:
    if b.kind == "param":
        return f"固定基准值 {words.get(str(b.param), str(b.param))}"
    if b.kind == "peers":
        peers = "、".join(claim.FIELDS[f].title for f in b.peers)
        return f"同一统计期{peers + '相同的' if peers else '全部'}机构的合计比值"
    previous = b.previous
    if isinstance(previous, Param):
        previous = words.get(previous.name, previous.name)
        if not previous_known(previous):  # the choice is withheld from this audience
            return f"同一机构对比期的指标值（对比期：{previous}）"
    return "同一机构上年同期的指标值" if years_back(str(previous)) else f"同一机构上一{unit}的指标值"


def formula_words(ind: Indicator, name: str, words: Mapping[str, str]) -> str:
    """The indicator in words, as published (监测指标): formula, grouping, period, baseline and threshold, the
    parameters as ``words`` give them (the region's values)."""
    unit = PERIODS[ind.period]
    groups = "、".join(claim.FIELDS[f].title.removesuffix("编码") for f in ind.per)
    text = f"{name} = {_measure_words(ind.numerator)} ÷ {_measure_words(ind.denominator)}{_scale_words(ind.scale)}"
    text += f"；按{groups}、按{unit}统计（以{claim.FIELDS[ind.date].title}归期）"
    if ind.baseline is not None:
        text += f"；基准为{_baseline_words(ind.baseline, unit, words)}"
    text += f"；{COMPARES[ind.compare]}{FLAG_OPS[ind.op]}{_quantity(ind.threshold, words)}的，列为监测疑点"
    if ind.minimum is not None:
        sample = _measure_words(ind.minimum) if ind.minimum.title else "样本"
        text += f"（{sample}少于{_quantity(ind.minimum_value, words)}的不判断）"
    return text + "。"
