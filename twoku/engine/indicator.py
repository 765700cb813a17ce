"""Compile an indicator (model/indicator.py) to SQL over ``claims``: one row per institution and period.

Three steps, each a plain ``GROUP BY`` so the SQL transpiles to Spark and Trino as the line rules do:

1. lines: each line with its period (the index of its month, quarter or year, and a label such as
   ``2025-03``, ``2025-Q1``, ``2025``) and, per measure, whether it satisfies the measure's
   ``where`` — the lines a condition selects are that condition compiled as a rule
   (engine/sql.py), joined back by ``line_id``, so a ``where`` may use every part of the language;
2. visits: per group, period and visit, the sum of the field, whether the visit counts, its bed days;
3. groups: the measures summed per group and period; the value, the baseline (the group's earlier
   period, the peers' pooled ratio, or a parameter) and whether the threshold flags it.

Each indicator yields ``rule_id, institution_code, period, group, numerator, denominator, value,
baseline, flagged``; ``group`` names the fields of ``per`` beyond the institution (``drg_group=…``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twoku.engine.sql import FLAT, RuleSpec, TableRef, comment, compile_rule, literal, transpile
from twoku.model.condition import Param
from twoku.model.indicator import Indicator, IndicatorMeasure, years_back

INDICATOR_COLUMNS = (
    "rule_id",
    "institution_code",
    "period",
    "group",
    "numerator",
    "denominator",
    "value",
    "baseline",
    "flagged",
)
_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_YEAR = {"month": 12, "quarter": 4, "year": 1}  # periods in a year: 上年同期 is that many back


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator ready to compile: the rule's section with its parameters (as localised) and tables."""

    rule_id: str
    indicator: Indicator
    params: Mapping[str, Any]
    tables: Mapping[str, TableRef] = field(default_factory=dict)
    patterns: Mapping[str, str] = field(default_factory=dict)
    effective: str | None = None  # periods from the one holding this date are judged
    expires: str | None = None


def _value(spec: IndicatorSpec, value: Any) -> Any:
    return spec.params.get(value.name) if isinstance(value, Param) else value


def _number(spec: IndicatorSpec, value: Any) -> str:
    got = _value(spec, value)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return "NULL"  # a parameter that is not a number flags nothing (validate says why)
    return literal(got)


def _period(unit: str, date: str) -> tuple[str, str]:
    """The period's index (consecutive periods differ by one) and its label, of the line's ``date``."""
    year = f"YEAR(c.{date})"
    if unit == "year":
        return year, f"CAST({year} AS VARCHAR)"
    part = "MONTH" if unit == "month" else "QUARTER"
    index = f"{year} * {_YEAR[unit]} + {part}(c.{date}) - 1"
    label = (
        f"CAST({year} AS VARCHAR) || '-' || LPAD(CAST(MONTH(c.{date}) AS VARCHAR), 2, '0')"
        if unit == "month"
        else f"CAST({year} AS VARCHAR) || '-Q' || CAST(QUARTER(c.{date}) AS VARCHAR)"
    )
    return index, label


def _start_index(unit: str, day: str) -> int:
    d = dt.date.fromisoformat(day)
    if unit == "year":
        return d.year
    if unit == "month":
        return d.year * 12 + d.month - 1
    return d.year * 4 + (d.month - 1) // 3


def _visit_value(m: IndicatorMeasure, flag: str) -> str:
    if m.kind == "sum":
        return f"SUM(CASE WHEN {flag} THEN {m.field} END)"
    if m.kind == "visits":
        return f"MAX(CASE WHEN {flag} AND visit_id IS NOT NULL THEN 1 ELSE 0 END)"
    stay = "GREATEST(DATE_DIFF('day', admission_date, discharge_date), 1)"
    return f"MAX(CASE WHEN {flag} AND visit_id IS NOT NULL THEN {stay} END)"


def compile_indicator(spec: IndicatorSpec, table: str = "claims", flat: bool = False) -> str:
    """The SELECT (DuckDB dialect) of one indicator's institution-periods over ``table`` (``flat``: its
    conditions in the form Spark runs, engine/sql.compile_rule)."""
    ind = spec.indicator
    peers = ind.baseline.peers if ind.baseline is not None and ind.baseline.kind == "peers" else ()
    keys = list(dict.fromkeys([*ind.per, *peers]))
    index, label = _period(ind.period, ind.date)
    ctes, joins, flags = [], [], []
    for n, m in enumerate(ind.measures, 1):
        if m.where is None:
            flags.append("TRUE")
            continue
        inner = compile_rule(
            RuleSpec(spec.rule_id, "", m.where, spec.params, spec.tables, None, None, spec.patterns), table, flat
        )
        ctes.append(f"w{n} AS (SELECT DISTINCT line_id FROM ({inner}) AS h)")
        joins.append(f"LEFT JOIN w{n} ON c.line_id = w{n}.line_id")
        flags.append(f"f{n}")
    lines_cols = [
        *(f"c.{k}" for k in keys),
        f"{index} AS period_idx",
        f"{label} AS period",
        "c.visit_id",
        "c.admission_date",
        "c.discharge_date",
        *(f"c.{m.field}" for m in ind.measures if m.kind == "sum"),
        *(f"w{n}.line_id IS NOT NULL AS f{n}" for n, flag in enumerate(flags, 1) if flag != "TRUE"),
    ]
    cols = list(dict.fromkeys(lines_cols))
    lines = (
        f"SELECT {', '.join(cols)} FROM {table} AS c {' '.join(joins)} "
        f"WHERE c.{ind.date} IS NOT NULL AND c.institution_code IS NOT NULL"
    )
    group = ", ".join([*keys, "period_idx", "period"])
    visit_values = ", ".join(f"{_visit_value(m, flags[n])} AS v{n + 1}" for n, m in enumerate(ind.measures))
    visits = f"SELECT {group}, {visit_values} FROM lines GROUP BY {group}, visit_id"
    sums = ", ".join(f"COALESCE(SUM(v{n}), 0) AS m{n}" for n in range(1, len(ind.measures) + 1))
    grouped = f"SELECT {group}, {sums} FROM visits GROUP BY {group}"
    scale = literal(ind.scale)
    value = f"CASE WHEN m2 <> 0 THEN CAST(m1 AS DOUBLE) * {scale} / m2 END"  # never an integer division (Trino)
    valued = f"SELECT g.*, {value} AS value FROM grouped AS g"
    baseline, join = _baseline(spec, keys)
    ctes += [f"lines AS ({lines})", f"visits AS ({visits})", f"grouped AS ({grouped})", f"valued AS ({valued})"]
    ctes.append(f"based AS (SELECT v.*, {baseline} AS baseline FROM valued AS v {join})")
    flagged = _flagged(spec)
    extra = [k for k in ind.per if k != "institution_code"]
    group_label = (
        " || '; ' || ".join(f"'{k}=' || COALESCE(CAST({k} AS VARCHAR), '∅')" for k in extra) if extra else "''"
    )
    select = (
        f"SELECT {literal(spec.rule_id)} AS rule_id, institution_code, period, {group_label} AS {_quoted('group')}, "
        f"m1 AS numerator, m2 AS denominator, ROUND(value, 4) AS value, ROUND(baseline, 4) AS baseline, "
        f"{flagged} AS flagged FROM based"
    )
    return f"WITH {', '.join(ctes)} {select}"


def _quoted(name: str) -> str:
    return f'"{name}"'


def _baseline(spec: IndicatorSpec, keys: Sequence[str]) -> tuple[str, str]:
    """The baseline's SQL in the ``based`` step, and the join it needs."""
    ind = spec.indicator
    b = ind.baseline
    if b is None:
        return "CAST(NULL AS DOUBLE)", ""
    if b.kind == "param":
        return f"CAST({_number(spec, Param(str(b.param)))} AS DOUBLE)", ""
    if b.kind == "peers":
        part = ", ".join(["v.period_idx", *(f"v.{k}" for k in keys if k != "institution_code")])
        num, den = (f"SUM(v.{m}) OVER (PARTITION BY {part})" for m in ("m1", "m2"))
        return f"CASE WHEN {den} <> 0 THEN CAST({num} AS DOUBLE) * {literal(ind.scale)} / {den} END", ""
    previous = _value(spec, b.previous)
    back = _YEAR[ind.period] if years_back(previous) else 1
    on = " AND ".join(
        [*(f"p.{k} IS NOT DISTINCT FROM v.{k}" for k in ind.per), f"p.period_idx = v.period_idx - {back}"]
    )
    return "p.value", f"LEFT JOIN valued AS p ON {on}"


def _flagged(spec: IndicatorSpec) -> str:
    ind = spec.indicator
    compared = {
        "value": "value",
        "difference": "value - baseline",
        "change_pct": "(value - baseline) * 100.0 / NULLIF(baseline, 0)",
        "deviation_pct": "ABS(value - baseline) * 100.0 / NULLIF(baseline, 0)",
    }[ind.compare]
    tests = [f"COALESCE(({compared}) {_OPS[ind.op]} {_number(spec, ind.threshold)}, FALSE)"]
    if ind.minimum is not None:
        tests.append(f"COALESCE(m3 >= {_number(spec, ind.minimum_value)}, FALSE)")
    if spec.effective:
        tests.append(f"period_idx >= {_start_index(ind.period, spec.effective)}")
    if spec.expires:
        tests.append(f"period_idx < {_start_index(ind.period, spec.expires)}")
    return "(" + " AND ".join(tests) + ")"


def compile_indicators(
    specs: Sequence[IndicatorSpec], dialect: str = "duckdb", names: Mapping[str, str] | None = None
) -> str:
    """Every indicator's rows as one UNION ALL query in ``dialect``, each headed by a comment."""
    pieces = []
    for spec in specs:
        sql = transpile(f"SELECT * FROM ({compile_indicator(spec, flat=dialect in FLAT)}) AS i", dialect, pretty=True)
        pieces.append(comment(f"{spec.rule_id} {(names or {}).get(spec.rule_id, '')}") + "\n" + sql)
    return "\nUNION ALL\n".join(pieces) + "\n"


OUT_COLUMNS = (*INDICATOR_COLUMNS, "region")
_ORDER = 'rule_id, institution_code, period, "group"'


def run_indicators(con: Any, specs: Sequence[IndicatorSpec], region: str = "") -> dict[str, tuple[int, int]]:
    """Compute each indicator over ``claims`` into the table ``indicators`` (tagged with the region); per rule,
    how many institution-periods were computed and how many of them are flagged."""
    import duckdb

    from twoku.errors import TwokuError

    create_table(con)
    for spec in specs:
        try:
            con.execute(f"INSERT INTO indicators SELECT *, {literal(region)} FROM ({compile_indicator(spec)})")
        except duckdb.Error as exc:
            raise TwokuError(
                f"计算指标 {spec.rule_id} 失败：{exc}",
                hint="检查结算明细的取值格式（日期 YYYY-MM-DD，金额为数字），见 schema/claim.schema.json",
            ) from None
    return counts_of(con, specs)


# The columns of INDICATOR_COLUMNS as DuckDB holds them (Spark's rows land in the same table).
INDICATOR_TYPES = dict(zip(INDICATOR_COLUMNS, ("VARCHAR",) * 4 + ("DOUBLE",) * 4 + ("BOOLEAN",), strict=True))


def create_table(con: Any) -> None:
    """The empty table ``indicators`` (INDICATOR_COLUMNS and the region)."""
    columns = ", ".join(f"{_quoted(c)} {t}" for c, t in INDICATOR_TYPES.items())
    con.execute(f"CREATE OR REPLACE TABLE indicators ({columns}, region VARCHAR)")


def counts_of(con: Any, specs: Sequence[IndicatorSpec]) -> dict[str, tuple[int, int]]:
    """Per rule, how many institution-periods the table ``indicators`` holds and how many are flagged."""
    counts = {spec.rule_id: (0, 0) for spec in specs}
    sql = "SELECT rule_id, COUNT(*), COUNT(*) FILTER (WHERE flagged) FROM indicators GROUP BY rule_id"
    for rule_id, n, flagged in con.execute(sql).fetchall():
        counts[rule_id] = (int(n), int(flagged))
    return counts


def indicator_rows(con: Any, flagged_only: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    where = " WHERE flagged" if flagged_only else ""
    sql = f"SELECT * FROM indicators{where} ORDER BY {_ORDER}" + (f" LIMIT {int(limit)}" if limit else "")
    return [dict(zip(OUT_COLUMNS, row, strict=True)) for row in con.execute(sql).fetchall()]


def write_indicators(con: Any, path: Any) -> None:
    """The table ``indicators`` to ``path`` (.parquet, .csv or .json by its suffix), as the hits are written."""
    import json

    from twoku.engine.duck import csv_cell

    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(indicator_rows(con), ensure_ascii=False, indent=1) + "\n"
        path.write_text(text, encoding="utf-8")
        return
    columns = "*"
    if suffix != ".parquet":  # institution codes come from the claims: a formula's start gets an apostrophe
        columns = ", ".join(
            f"{csv_cell(_quoted(c))} AS {_quoted(c)}" if c in ("institution_code", "group") else _quoted(c)
            for c in OUT_COLUMNS
        )
    options = "FORMAT parquet" if suffix == ".parquet" else "FORMAT csv, HEADER true"
    con.execute(f"COPY (SELECT {columns} FROM indicators ORDER BY {_ORDER}) TO {literal(str(path))} ({options})")


def example_flags(con: Any, spec: IndicatorSpec, lines: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """The (institution, period, group) the indicator flags among ``lines`` (a rule's example)."""
    import duckdb

    from twoku.engine import duck
    from twoku.errors import TwokuError

    try:
        duck.load_lines(con, lines)
        run_indicators(con, [spec])
    except duckdb.Error as exc:
        raise TwokuError(f"运行失败：{exc}") from None
    return [(str(r["institution_code"]), str(r["period"]), str(r["group"])) for r in indicator_rows(con, True)]
