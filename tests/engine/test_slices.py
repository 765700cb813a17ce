"""Anchored rules run over their slice of the claims (engine/duck.slices): the hits must be exactly those
of each rule run over every line — same lines, same evidence — whatever the table, the codes and the data."""

from __future__ import annotations

import random

import pytest

from twoku.engine import duck
from twoku.engine.sql import RuleSpec, TableRef, anchor
from twoku.model.condition import parse

DRUGS = TableRef("kt_CN_K_0001", ("code", "name", "sex", "max_age"), ("code",), "code", "name")
ITEMS = TableRef("kt_CN_K_0002", ("code", "name"), ("code",), "code", "name")
NUMBERS = TableRef("kt_CN_K_0003", ("code", "name"), ("code",), "code", None)


def _tables(con) -> None:
    con.execute("CREATE TABLE kt_CN_K_0001 (code VARCHAR, name VARCHAR, sex VARCHAR, max_age BIGINT)")
    con.execute(
        "INSERT INTO kt_CN_K_0001 VALUES ('A1', '甲', '男', NULL), ('A2', '乙', NULL, 17), ('A3', '丙', '女', 60), "
        "('B1', '丁', '男', NULL)"  # B1 is in both tables
    )
    con.execute("CREATE TABLE kt_CN_K_0002 (code VARCHAR, name VARCHAR)")
    con.execute("INSERT INTO kt_CN_K_0002 VALUES ('B1', '戊'), ('B2', '己'), ('B3', NULL), (NULL, '庚')")
    con.execute("CREATE TABLE kt_CN_K_0003 (code BIGINT, name VARCHAR)")
    con.execute("INSERT INTO kt_CN_K_0003 VALUES (17, '辛')")


def _spec(rule_id: str, condition: dict, tables: dict[str, TableRef]) -> RuleSpec:
    return RuleSpec(rule_id, "可疑", parse(condition), {}, tables)


ATTRIBUTES = {  # a match whose where reads the row: sex or age limits of the drug
    "match": {
        "table": "CN-K-0001",
        "on": {"item_code": "code"},
        "where": {
            "any": [
                {"field": "sex", "op": "ne", "value": {"row": "sex"}},
                {"field": "age", "op": "gt", "value": {"row": "max_age"}},
            ]
        },
    }
}
SPECS = [
    _spec("CN-R-0001", ATTRIBUTES, {"CN-K-0001": DRUGS}),
    _spec(
        "CN-R-0002",
        {
            "all": [
                {"field": "item_code", "op": "in", "value": {"codes": "CN-K-0002"}},
                {"field": "age", "op": "lt", "value": 7},
            ]
        },
        {"CN-K-0002": ITEMS},
    ),
    _spec(  # a code set by names: only 戊's rows
        "CN-R-0003",
        {"field": "item_code", "op": "in", "value": {"codes": "CN-K-0002", "names": ["戊"]}},
        {"CN-K-0002": ITEMS},
    ),
    _spec(  # not in: every line not among the codes, never an anchor
        "CN-R-0004", {"field": "item_code", "op": "not_in", "value": {"codes": "CN-K-0002"}}, {"CN-K-0002": ITEMS}
    ),
    _spec(  # a count over the patient's lines reads other lines: no slice
        "CN-R-0005",
        {
            "all": [
                {"match": {"table": "CN-K-0001", "on": {"item_code": "code"}}},
                {"count": {"per": ["patient_id"]}, "op": "gt", "value": 2},
            ]
        },
        {"CN-K-0001": DRUGS},
    ),
    _spec(  # either of two tables: no single anchor
        "CN-R-0006",
        {
            "any": [
                {"match": {"table": "CN-K-0001", "on": {"item_code": "code"}}},
                {"field": "item_code", "op": "in", "value": {"codes": "CN-K-0002"}},
            ]
        },
        {"CN-K-0001": DRUGS, "CN-K-0002": ITEMS},
    ),
    _spec(  # a prefix match is no equality
        "CN-R-0007",
        {"match": {"table": "CN-K-0002", "on": {"item_code": {"column": "code", "prefix": True}}}},
        {"CN-K-0002": ITEMS},
    ),
    _spec(
        "CN-R-0008", {"field": "age", "op": "in", "value": {"codes": "CN-K-0003"}}, {"CN-K-0003": NUMBERS}
    ),  # a number
    _spec(  # the same table as CN-R-0001, another where
        "CN-R-0009",
        {
            "all": [
                {
                    "match": {
                        "table": "CN-K-0001",
                        "on": {"item_code": "code"},
                        "where": {"field": "sex", "op": "eq", "value": {"row": "sex"}},
                    }
                },
                {"field": "fund_amount", "op": "gt", "value": 0},
            ]
        },
        {"CN-K-0001": DRUGS},
    ),
]


def _lines(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    codes = ["A1", "A2", "A3", "B1", "B2", "B3", "C9", "7", None]
    return [
        {
            "line_id": f"L{rnd.randrange(n)}",  # line IDs may repeat in bad data: each line is still its own
            "patient_id": rnd.choice(["P1", "P2", "P3", None]),
            "item_code": rnd.choice(codes),
            "sex": rnd.choice(["男", "女", None]),
            "age": rnd.choice([3, 16, 17, 18, 61, None]),
            "fund_amount": rnd.choice([0, 5.5, None]),
        }
        for _ in range(n)
    ]


def _hits(lines: list[dict], sliced: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    monkeypatch.setattr(duck, "MIN_ANCHORED", 2 if sliced else 10**9)
    con = duck.connect(1)
    _tables(con)
    duck.load_lines(con, lines)
    duck.run_rules(con, SPECS)
    return con.execute("SELECT * FROM hits ORDER BY ALL").fetchall()


def test_only_rules_that_read_the_line_alone_and_meet_a_text_code_column_are_anchored() -> None:
    assert [s.rule_id for s in SPECS if anchor(s) is not None] == ["CN-R-0001", "CN-R-0002", "CN-R-0003", "CN-R-0009"]
    con = duck.connect(1)
    _tables(con)
    duck.load_lines(con, _lines(50, 1))
    assert sorted(duck.slices(con, SPECS)) == ["CN-R-0001", "CN-R-0002", "CN-R-0003", "CN-R-0009"]


@pytest.mark.parametrize("seed", range(6))
def test_sliced_hits_are_the_hits_over_every_line(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines(400, seed)
    sliced = _hits(lines, True, monkeypatch)
    assert sliced == _hits(lines, False, monkeypatch)
    assert {h[0] for h in sliced} >= {"CN-R-0001", "CN-R-0002", "CN-R-0003", "CN-R-0009"}  # the rules did hit


def test_a_single_anchored_rule_reads_the_claims_directly() -> None:
    con = duck.connect(1)
    _tables(con)
    duck.load_lines(con, _lines(20, 9))
    assert duck.slices(con, SPECS[:1]) == {}
