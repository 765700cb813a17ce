"""Lines are filtered before windows and joins; the hits must be those of the unfiltered definition."""

from __future__ import annotations

from twoku.engine import duck
from twoku.engine.sql import RuleSpec, compile_rule, necessary
from twoku.model.condition import AllOf, parse

SUM = {
    "all": [
        {"field": "item_code", "op": "starts_with", "value": ["X"]},
        {"sum": {"field": "supply_days", "per": ["patient_id", "item_code"]}, "op": "gt", "value": 30},
    ]
}
PAIR = {
    "all": [
        {"field": "item_code", "op": "eq", "value": "A"},
        {
            "count": {"per": ["patient_id"], "where": {"field": "item_code", "op": "eq", "value": "B"}},
            "op": "gt",
            "value": 0,
        },
    ]
}


def _hits(condition: dict, lines: list[dict]) -> list[str]:
    return duck.example_hits(duck.connect(1), RuleSpec("CN-R-9999", "可疑", parse(condition), {}), lines)


def test_a_window_still_counts_the_group_lines_that_are_not_candidates() -> None:
    # P1's two lines of the same drug sum to 40 days; a line of another drug does not count
    lines = [
        {"line_id": "L1", "patient_id": "P1", "item_code": "X1", "supply_days": 20},
        {"line_id": "L2", "patient_id": "P1", "item_code": "X1", "supply_days": 20},
        {"line_id": "L3", "patient_id": "P1", "item_code": "X2", "supply_days": 20},
        {"line_id": "L4", "patient_id": "P2", "item_code": "X1", "supply_days": 20},
    ]
    assert _hits(SUM, lines) == ["L1", "L2"]


def test_a_count_sees_lines_of_the_group_that_the_candidate_filter_drops() -> None:
    lines = [
        {"line_id": "L1", "patient_id": "P1", "item_code": "A"},
        {"line_id": "L2", "patient_id": "P1", "item_code": "B"},
        {"line_id": "L3", "patient_id": "P2", "item_code": "A"},
        {"line_id": "L4", "patient_id": None, "item_code": "A"},
        {"line_id": "L5", "patient_id": None, "item_code": "B"},
    ]
    # a missing patient is its own group, as over a window: L4 and L5 pair up
    assert _hits(PAIR, lines) == ["L1", "L4"]


def test_the_candidate_filter_keeps_only_the_lines_own_fields() -> None:
    cond = parse(SUM)
    assert isinstance(cond, AllOf)
    assert necessary(cond) == cond.parts[0]
    assert necessary(cond, frozenset({"patient_id"})) is None
    sql = compile_rule(RuleSpec("CN-R-9999", "可疑", cond, {}))
    assert (
        "FROM claims AS c WHERE COALESCE(SUBSTR(c.item_code, 1, 1) = 'X', FALSE))" in sql
    )  # filtered before the window


def test_counts_with_the_same_group_share_one_aggregate_of_the_lines_that_count() -> None:
    two = {
        "all": [
            PAIR,
            {**PAIR["all"][1], "count": {"per": ["patient_id"], "where": {"field": "sex", "op": "eq", "value": "女"}}},
        ]
    }
    sql = compile_rule(RuleSpec("CN-R-9999", "可疑", parse(two), {}))
    assert "OVER" not in sql and sql.count("GROUP BY") == 1
    lines = [
        {"line_id": "L1", "patient_id": "P1", "item_code": "A"},
        {"line_id": "L2", "patient_id": "P1", "item_code": "B", "sex": "女"},
        {"line_id": "L3", "patient_id": "P2", "item_code": "A"},
        {"line_id": "L4", "patient_id": "P2", "item_code": "B"},
    ]
    assert _hits(two, lines) == ["L1"]
