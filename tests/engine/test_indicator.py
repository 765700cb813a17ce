"""Indicators compiled to SQL (engine/indicator.py) and run in DuckDB, against values worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot

from twoku.engine import duck
from twoku.engine.indicator import IndicatorSpec, compile_indicators, indicator_rows, run_indicators
from twoku.model.condition import ConditionProblem
from twoku.model.indicator import formula_words, parse_indicator

H1, H2 = "H99999900001", "H99999900002"


def _line(n: int, inst: str, day: str, amount: float, **extra: Any) -> dict[str, Any]:
    return {
        "line_id": f"L{n}",
        "patient_id": f"P{n}",
        "visit_id": extra.pop("visit_id", f"V{n}"),
        "institution_code": inst,
        "institution_level": "三级",
        "service_date": day,
        "settlement_date": day,
        "amount": amount,
        **extra,
    }


def _rows(section: dict[str, Any], lines: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[tuple]:
    params = params or {}
    spec = IndicatorSpec("R", parse_indicator(section, params), params)
    con = duck.connect(1)
    duck.load_lines(con, lines)
    run_indicators(con, [spec])
    return [
        (r["institution_code"], r["period"], r["group"], r["value"], r["baseline"], r["flagged"])
        for r in indicator_rows(con)
    ]


MEAN_COST = {
    "numerator": {"title": "费用", "sum": "amount"},
    "denominator": {"title": "人次", "visits": {}},
    "period": "quarter",
    "date": "settlement_date",
}


def test_previous_period_and_same_period_last_year() -> None:
    lines = [
        _line(1, H1, "2025-02-01", 100),  # 2025-Q1: 100 per visit
        _line(2, H1, "2025-11-01", 150),  # 2025-Q4: 150
        _line(3, H1, "2026-01-15", 120, visit_id="V3"),  # 2026-Q1: two lines of one visit, 240 per visit
        _line(4, H1, "2026-02-15", 120, visit_id="V3"),
    ]
    flag = {"compare": "change_pct", "op": "gt", "value": 50}
    previous = _rows({**MEAN_COST, "baseline": {"previous": "上期"}, "flag": flag}, lines)
    assert previous == [
        (H1, "2025-Q1", "", 100.0, None, False),
        (H1, "2025-Q4", "", 150.0, None, False),  # 2025-Q3 has no lines: no baseline, never flagged
        (H1, "2026-Q1", "", 240.0, 150.0, True),  # +60%
    ]
    year = _rows({**MEAN_COST, "baseline": {"previous": {"param": "back"}}, "flag": flag}, lines, {"back": "上年同期"})
    assert year[-1] == (H1, "2026-Q1", "", 240.0, 100.0, True)  # +140% on 2025-Q1
    stricter = {**MEAN_COST, "baseline": {"previous": "上期"}, "flag": {**flag, "value": 70}}
    assert not any(r[-1] for r in _rows(stricter, lines))


def test_a_fixed_baseline_a_deviation_either_way_and_a_minimum() -> None:
    lines = [_line(1, H1, "2026-05-01", 40), _line(2, H2, "2026-05-01", 160), _line(3, H2, "2026-05-02", 160)]
    section = {
        **MEAN_COST,
        "period": "year",
        "baseline": {"param": "norm"},
        "flag": {"compare": "deviation_pct", "op": "ge", "value": 50},
    }
    rows = _rows(section, lines, {"norm": 100})
    assert rows == [(H1, "2026", "", 40.0, 100.0, True), (H2, "2026", "", 160.0, 100.0, True)]  # −60% and +60%
    guarded = {**section, "minimum": {"visits": {}, "value": 2}}
    assert [r[-1] for r in _rows(guarded, lines, {"norm": 100})] == [False, True]


def test_peers_split_by_the_extra_grouping_and_a_where_that_uses_a_measure() -> None:
    """Share of amount on lines of an item billed twice in a visit, per institution and drg_group."""
    lines = [
        _line(1, H1, "2026-03-01", 50, visit_id="A", item_code="X1", drg_group="G1"),
        _line(2, H1, "2026-03-01", 50, visit_id="A", item_code="X1", drg_group="G1"),
        _line(3, H2, "2026-03-01", 100, visit_id="B", item_code="X1", drg_group="G1"),
        _line(4, H2, "2026-03-01", 100, visit_id="C", item_code="X2", drg_group="G2"),
    ]
    twice = {"count": {"per": ["visit_id", "item_code"]}, "op": "ge", "value": 2}
    section = {
        "numerator": {"title": "重复项目费用", "sum": "amount", "where": twice},
        "denominator": {"title": "总费用", "sum": "amount"},
        "scale": 100,
        "per": ["institution_code", "drg_group"],
        "period": "month",
        "baseline": {"peers": []},
        "flag": {"compare": "difference", "op": "gt", "value": 10},
    }
    assert _rows(section, lines) == [
        (H1, "2026-03", "drg_group=G1", 100.0, 50.0, True),
        (H2, "2026-03", "drg_group=G1", 0.0, 50.0, False),
        (H2, "2026-03", "drg_group=G2", 0.0, 0.0, False),  # alone in its group: its own baseline
    ]


def test_bed_days_count_a_same_day_stay_as_one() -> None:
    stay = {"visit_type": "住院", "discharge_date": "2026-03-20"}
    lines = [
        _line(1, H1, "2026-03-20", 1, admission_date="2026-03-10", **stay),
        _line(2, H1, "2026-03-20", 1, admission_date="2026-03-10", visit_id="V1", **stay),
        _line(3, H1, "2026-03-20", 1, admission_date="2026-03-20", **stay),
    ]
    section = {
        "numerator": {"title": "床日", "bed_days": {}},
        "denominator": {"title": "出院人次", "visits": {}},
        "period": "month",
        "date": "discharge_date",
        "flag": {"op": "gt", "value": 5},
    }
    assert _rows(section, lines) == [(H1, "2026-03", "", 5.5, None, True)]  # (10 + 1) ÷ 2


def test_the_sql_transpiles_to_spark_and_trino_with_no_integer_division() -> None:
    section = {
        **MEAN_COST,
        "baseline": {"peers": ["institution_level"]},
        "flag": {"compare": "difference", "op": "gt", "value": {"param": "x"}},
    }
    spec = IndicatorSpec("CN-R-9", parse_indicator(section, {"x": 1}), {"x": 1}, effective="2026-02-10")
    for dialect in ("spark", "trino", "duckdb"):
        sql = compile_indicators([spec], dialect, {"CN-R-9": "名称\n-- DROP"})
        assert len(sqlglot.parse(sql, read=dialect)) == 1
        assert "CAST(m1 AS DOUBLE)" in sql and "-- DROP" not in sql.split("\n", 1)[1]
        assert "period_idx >= 8104" in sql  # 2026-Q1 (2026 × 4 + 0): the quarter holding the effective date is judged


def test_what_an_indicator_must_say() -> None:
    good = {**MEAN_COST, "flag": {"op": "gt", "value": 1}}
    for broken, said in (
        ({**good, "period": "week"}, "period"),
        ({**good, "per": ["patient_id"]}, "institution_code"),
        ({**good, "flag": {"compare": "change_pct", "op": "gt", "value": 1}}, "baseline"),
        ({**good, "numerator": {"title": "x", "sum": "item_code"}}, "数值"),
        ({**good, "numerator": {"sum": "amount"}}, "title"),
        ({**good, "baseline": {"previous": "前年"}}, "上年同期"),
        ({**good, "flag": {"op": "gt", "value": {"param": "nope"}}}, "nope"),
    ):
        with pytest.raises(ConditionProblem, match=said):
            parse_indicator(broken, {})


def test_formula_words_give_the_regions_values() -> None:
    section = {
        "numerator": {"title": "药品费用", "sum": "amount"},
        "denominator": {"title": "医疗总费用", "sum": "amount"},
        "scale": 100,
        "period": "month",
        "date": "settlement_date",
        "baseline": {"peers": ["institution_level"]},
        "flag": {"compare": "difference", "op": "gt", "value": {"param": "excess_points"}},
    }
    words = formula_words(parse_indicator(section, {"excess_points": 8}), "药费占比", {"excess_points": "8百分点"})
    assert words == (
        "药费占比 = 药品费用 ÷ 医疗总费用 × 100%；按定点医药机构、按月统计（以结算日期归期）；"
        "基准为同一统计期机构级别相同的机构的合计比值；指标值与基准值之差大于8百分点的，列为监测疑点。"
    )


def test_periods_before_the_rule_takes_effect_are_computed_and_never_flagged() -> None:
    section = {**MEAN_COST, "period": "month", "flag": {"op": "gt", "value": 10}}
    spec = IndicatorSpec("R", parse_indicator(section, {}), {}, effective="2026-03-15", expires="2026-05-01")
    con = duck.connect(1)
    duck.load_lines(con, [_line(n, H1, f"2026-0{n}-20", 100) for n in range(2, 7)])
    run_indicators(con, [spec])
    assert [(r["period"], r["flagged"]) for r in indicator_rows(con)] == [
        ("2026-02", False),
        ("2026-03", True),  # the month holding the effective date
        ("2026-04", True),
        ("2026-05", False),  # from the month it expires
        ("2026-06", False),
    ]
