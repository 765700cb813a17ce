"""The in-memory evaluator of twoku serve judges as DuckDB does: the same hits and the same evidence, on every
shipped rule's examples and on generated claims, and for every construct of the condition language."""

from __future__ import annotations

import datetime as dt
import functools
import random
from pathlib import Path
from typing import Any

import pytest

from twoku.engine import duck, memory
from twoku.engine.sql import RuleSpec, TableRef, relation_name, sql_type
from twoku.model import claim
from twoku.model.condition import parse
from twoku.model.library import Library
from twoku.ops.run import load_tables, rule_spec
from twoku.ops.serve import _table
from twoku.ops.validate import load_store

REPO = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[Library, list[tuple[Any, RuleSpec, dict[str, memory.MemoryTable]]]]:
    lib = load_store(REPO).library
    out = []
    for rule in lib.of_kind("rule"):
        if isinstance(rule.data.get("condition"), dict) and rule.layer is not None:
            spec = rule_spec(REPO, lib, rule, rule.layer)
            tables = {k: _table(REPO, lib, k, rule.layer)[0] for k in spec.tables}
            out.append((rule, spec, tables))
    return lib, out


def _duck_hits(con: Any, specs: list[RuleSpec], lines: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    duck.load_lines(con, lines)
    duck.run_rules(con, specs)
    return sorted((r[0], str(r[2]), r[5]) for r in con.execute("SELECT * FROM hits").fetchall())


def _memory_hits(rules: list[memory.MemoryRule], lines: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    typed = [memory.typed_line(line) for line in lines]
    return sorted((h.rule_id, str(h.line_id), h.evidence) for h in memory.check(rules, typed))


def test_every_shipped_rules_examples_give_duckdbs_hits_and_evidence() -> None:
    lib, rules = _shipped()
    con = duck.connect(1)
    examples = 0
    hits = 0
    for rule, spec, tables in rules:
        load_tables(con, REPO, lib, [spec], rule.layer)
        judge = memory.compile_rule(spec, tables)
        for example in rule.data.get("examples") or []:
            want = _duck_hits(con, [spec], example["lines"])
            assert _memory_hits([judge], example["lines"]) == want, (rule.id, example.get("name"))
            examples += 1
            hits += len(want)
    assert len(rules) >= 16 and examples >= 35 and hits > 0


# --- generated claims -----------------------------------------------------------------------

CODES = ("XL02BBA326A001010102180", "XG02ADD082D003010179504", "001103000010000", "001102000030000")
TABLE = "CN-K-9001"
COLUMNS = [
    ("code", "code"),
    ("name", "text"),
    ("sex", "enum"),
    ("min_age", "integer"),
    ("max_age", "integer"),
    ("visit_types", "text"),
    ("start", "date"),
    ("prefix", "text"),
    ("partner", "text"),
    ("limit", "number"),
]
ROWS = [
    [CODES[0], "甲药", "男", "", "", "", "2026-03-05", "I63", CODES[1], "2"],
    [CODES[1], "乙药", "", "0", "14", "住院;急诊", "", "C", "", "1.5"],
    [CODES[2], "丙项", "女", "18", "", "普通门诊", "2026-03-01", "I6", CODES[3], ""],
    [CODES[3], "丁项", "", "", "60", "", "2026-02-01", "", CODES[2], "3"],
    ["", "空码", "", "", "", "", "", "Z", "", ""],
]

# Every construct, each beside the others: table joins and their where ({row: …}, a codes column, a prefix
# join, other_lines naming the row and the line), code sets by name and by prefix, chars, field against field,
# regular expressions, nulls, windows and admissions.
CONDITIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {
            "match": {
                "table": TABLE,
                "on": {"item_code": "code"},
                "where": {
                    "any": [
                        {"field": "sex", "op": "ne", "value": {"row": "sex"}},
                        {"field": "age", "op": "lt", "value": {"row": "min_age"}},
                        {"field": "age", "op": "gt", "value": {"row": "max_age"}},
                        {"field": "visit_type", "op": "not_in", "value": {"row": "visit_types"}},
                        {"field": "quantity", "op": "gt", "value": {"row": "limit"}},
                    ]
                },
            }
        },
        {},
    ),
    (
        {
            "all": [
                {"match": {"table": TABLE, "on": {"main_diagnosis": {"column": "prefix", "prefix": True}}}},
                {
                    "match": {
                        "table": TABLE,
                        "on": {"item_code": "code"},
                        "where": {"field": "service_date", "op": "lt", "value": {"row": "start"}},
                    }
                },
            ]
        },
        {},
    ),
    (
        {
            "match": {
                "table": TABLE,
                "on": {"item_code": "code"},
                "where": {
                    "other_lines": {
                        "per": ["patient_id", "service_date"],
                        "where": {
                            "all": [
                                {"field": "item_code", "op": "eq", "value": {"row": "partner"}},
                                {"field": "visit_id", "op": "eq", "value": {"line": "visit_id"}},
                            ]
                        },
                    },
                    "op": "gt",
                    "value": 0,
                },
            }
        },
        {},
    ),
    (
        {
            "other_lines": {
                "per": ["visit_id"],
                "where": {
                    "all": [
                        {"field": "item_code", "op": "in", "value": {"codes": TABLE, "names": ["甲药", "丙项"]}},
                        {"field": "item_code", "op": "ne", "value": {"line": "item_code"}},
                        {"field": "service_date", "op": "ge", "value": {"line": "service_date"}},
                    ]
                },
            },
            "op": "ge",
            "value": 1,
        },
        {},
    ),
    (
        {
            "any": [
                {"field": "item_code", "op": "starts_with", "value": {"codes": TABLE}},
                {"field": "main_diagnosis", "chars": 3, "op": "in", "value": ["I63", "C34"]},
                {"not": {"field": "item_code", "op": "not_in", "value": {"codes": TABLE, "names": ["乙药"]}}},
            ]
        },
        {},
    ),
    (
        {
            "all": [
                {"field": "discharge_date", "op": "lt", "value": {"field": "admission_date"}},
                {"field": "main_diagnosis", "chars": 1, "op": "eq", "value": {"field": "item_code", "chars": 1}},
            ]
        },
        {},
    ),
    ({"field": "institution_code", "op": "not_matches", "value": r"^H\d{11}$"}, {}),
    ({"any": [{"field": "sex", "op": "is_null"}, {"field": "doctor_code", "op": "matches", "value": "^D5"}]}, {}),
    (
        {
            "all": [
                {"field": "item_code", "op": "in", "value": {"param": "codes"}},
                {"field": "quantity", "op": "ge", "value": {"param": "most"}},
                {"field": "visit_type", "op": "not_in", "value": ["住院", "急诊"]},
            ]
        },
        {"codes": [CODES[0], CODES[2]], "most": 2},
    ),
    (
        {
            "any": [
                {
                    "count": {
                        "per": ["patient_id", "service_date"],
                        "where": {"field": "item_code", "op": "eq", "value": CODES[1]},
                    },
                    "op": "ge",
                    "value": 2,
                },
                {"sum": {"field": "amount", "per": ["patient_id"]}, "op": "gt", "value": 300},
                {"sum": {"field": "supply_days", "per": ["patient_id", "item_code"]}, "op": "gt", "value": 40},
            ]
        },
        {},
    ),
    (
        {
            "any": [
                {"days_since_first": {"per": ["patient_id", "item_code"]}, "op": "gt", "value": 20},
                {
                    "days_since_previous": {
                        "per": ["patient_id"],
                        "where": {"field": "item_code", "op": "starts_with", "value": ["X"]},
                    },
                    "op": "lt",
                    "value": 3,
                },
            ]
        },
        {},
    ),
    (
        {
            "any": [
                {"admission_gap": {"per": ["patient_id"]}, "op": "le", "value": 15},
                {
                    "previous_admission": {"per": ["patient_id", "institution_code"], "field": "main_diagnosis"},
                    "op": "eq",
                    "value": {"field": "main_diagnosis"},
                },
                {"admissions_spanning": {"per": ["patient_id"], "strict": {"param": "strict"}}, "op": "gt", "value": 0},
            ]
        },
        {"strict": False},
    ),
]


def _table_spec() -> tuple[TableRef, memory.MemoryTable]:
    names = tuple(n for n, _ in COLUMNS)
    ref = TableRef(relation_name(TABLE), names, ("code",), "code", "name")
    return ref, memory.memory_table(COLUMNS, ("code",), ROWS, "code", "name")


def _load_table(con: Any) -> None:
    kinds = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE"}
    cols = ", ".join(f'"{n}" {kinds.get(t, "VARCHAR")}' for n, t in COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {relation_name(TABLE)} ({cols})")
    marks = ", ".join(f"CAST(NULLIF(?, '') AS {kinds.get(t, 'VARCHAR')})" for _, t in COLUMNS)
    con.executemany(f"INSERT INTO {relation_name(TABLE)} VALUES ({marks})", ROWS)


def _synthetic() -> tuple[list[RuleSpec], dict[str, memory.MemoryTable]]:
    ref, table = _table_spec()
    specs = []
    for n, (condition, params) in enumerate(CONDITIONS, 1):
        tables = {TABLE: ref} if TABLE in repr(condition) else {}
        specs.append(RuleSpec(f"CN-R-9{n:03d}", "可疑", parse(condition, params), params, tables))
    return specs, {TABLE: table}


def _pools(rules: list[tuple[Any, RuleSpec, Any]]) -> dict[str, list[Any]]:
    """Every value the shipped examples give each field, with the synthetic table's codes and None."""
    pools: dict[str, list[Any]] = {f.name: [None] for f in claim.CLAIM_FIELDS}
    for rule, _, _ in rules:
        for example in rule.data.get("examples") or []:
            for line in example["lines"]:
                for name, value in line.items():
                    value = value.isoformat() if isinstance(value, dt.date) else value
                    if value not in pools[name]:
                        pools[name].append(value)
    pools["item_code"] += list(CODES)
    pools["main_diagnosis"] += ["I63.900", "C34.100", "Z51.100"]
    pools["institution_code"] += ["H5101"]  # not a code: not_matches fires
    pools["quantity"] += [2, 3.5]
    return pools


def _claims(rng: random.Random, pools: dict[str, list[Any]], n: int) -> list[dict[str, Any]]:
    """Lines drawn field by field from the pools: few patients, visits and days, so groups, windows and
    admissions meet; dates moved by a few days so intervals fall on both sides of each threshold."""
    lines = []
    visits: dict[str, dict[str, Any]] = {}
    for i in range(n):
        line = {name: rng.choice(pool) for name, pool in pools.items() if name not in claim.ADMISSION_FIELDS}
        line["line_id"] = f"L{i:03d}" if rng.random() > 0.03 else None
        line["patient_id"] = rng.choice(["P1", "P2", "P3", None] if rng.random() < 0.1 else ["P1", "P2", "P3"])
        line["visit_id"] = rng.choice(["V1", "V2", "V3", "V4", "V5", None])
        base = dt.date(2026, 3, 1) + dt.timedelta(
            days=rng.randint(-40, 40) if rng.random() < 0.5 else rng.randint(0, 2)
        )
        line["service_date"] = base.isoformat() if rng.random() > 0.05 else None
        if line["visit_id"] and rng.random() < 0.7:  # an admission: its dates and diagnosis on all its lines
            stay = visits.setdefault(
                line["visit_id"],
                {
                    "admission_date": (base - dt.timedelta(days=rng.randint(0, 5))).isoformat(),
                    "discharge_date": (base + dt.timedelta(days=rng.randint(-1, 9))).isoformat(),
                    "main_diagnosis": rng.choice(pools["main_diagnosis"]),
                    "discharge_mode": rng.choice(pools["discharge_mode"]),
                },
            )
            line.update(stay)
        else:
            line.update({name: rng.choice(pools[name]) for name in claim.ADMISSION_FIELDS})
        for name, value in list(line.items()):
            if isinstance(value, str) and claim.FIELDS[name].type == "date" and value and rng.random() < 0.3:
                line[name] = (dt.date.fromisoformat(value) + dt.timedelta(days=rng.randint(-3, 3))).isoformat()
        lines.append(line)
    return lines


@pytest.mark.parametrize("seed", range(12))
def test_generated_claims_give_duckdbs_hits_and_evidence_under_every_rule(seed: int) -> None:
    lib, rules = _shipped()
    synthetic, synthetic_tables = _synthetic()
    con = duck.connect(1)
    specs = [spec for _, spec, _ in rules]
    for rule, spec, _ in rules:
        load_tables(con, REPO, lib, [spec], rule.layer)
    _load_table(con)
    judges = [memory.compile_rule(spec, tables) for _, spec, tables in rules]
    judges += [memory.compile_rule(spec, synthetic_tables) for spec in synthetic]
    rng = random.Random(seed)
    lines = _claims(rng, _pools(rules), 80)
    want = _duck_hits(con, specs + synthetic, lines)
    assert _memory_hits(judges, lines) == want
    assert want, "the generated claims should hit some rule"


def test_the_generated_claims_reach_every_synthetic_construct() -> None:
    _, rules = _shipped()
    synthetic, synthetic_tables = _synthetic()
    judges = [memory.compile_rule(spec, synthetic_tables) for spec in synthetic]
    fired: set[str] = set()
    for seed in range(64):  # ample draws: each new claim field or example value shifts what the seeds draw
        lines = _claims(random.Random(seed), _pools(rules), 80)
        fired |= {rule_id for rule_id, _, _ in _memory_hits(judges, lines)}
    assert fired == {s.rule_id for s in synthetic}


def test_what_memory_cannot_judge_alike_is_refused_not_judged() -> None:
    for condition, words in [
        ({"field": "item_code", "op": "eq", "value": 12}, "类型不同"),
        ({"field": "age", "op": "gt", "value": "18"}, "类型不同"),
        ({"field": "quantity", "op": "eq", "value": {"param": "many"}}, "列表"),
        ({"field": "service_date", "op": "lt", "value": "soon"}, "不是日期"),
    ]:
        params = {"many": [1, 2]}
        spec = RuleSpec("CN-R-9999", "可疑", parse(condition, params), params)
        with pytest.raises(memory.Unsupported, match=words):
            memory.compile_rule(spec, {})


def test_a_line_value_of_the_wrong_type_is_named() -> None:
    with pytest.raises(memory.LineProblem) as caught:
        memory.typed_line({"line_id": "L1", "service_date": "2026-13-01"}, 3)
    assert (caught.value.index, caught.value.name) == (3, "service_date")
    assert memory.typed_line({"long_term_prescription": "是", "age": 3.0})["age"] == 3
    assert sql_type("age") == "BIGINT"
