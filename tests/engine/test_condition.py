"""The condition language: what parses, what is refused and where, and the SQL it compiles to."""

from __future__ import annotations

import pytest
import sqlglot
from jsonschema import Draft202012Validator

from twoku.engine import duck
from twoku.engine.sql import RuleSpec, TableRef, compile_rule, compile_rules
from twoku.model.condition import AllOf, CodeSet, ConditionProblem, Param, code_sets, measures, parse
from twoku.model.schemas import all_schemas

PARAMS = {"min_interval_days": {"value": 14}, "same_diagnosis_only": {"value": True}}
INTERVAL = {
    "all": [
        {"field": "item_code", "op": "in", "value": {"codes": "CN-K-0033", "names": ["平衡试验"]}},
        {
            "days_since_previous": {"per": ["patient_id"], "where": {"field": "quantity", "op": "gt", "value": 0}},
            "op": "lt",
            "value": {"param": "min_interval_days"},
        },
    ]
}


def test_parse_keeps_the_structure_and_lists_code_sets_and_measures() -> None:
    cond = parse(INTERVAL, PARAMS)
    assert isinstance(cond, AllOf) and len(cond.parts) == 2
    assert [c for c, _ in code_sets(cond)] == [CodeSet("CN-K-0033", ("平衡试验",))]
    assert [m.label for m in measures(cond)] == ["item_code", "days_since_previous"]
    assert cond.parts[1].value == Param("min_interval_days")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "pointer", "words"),
    [
        ({"field": "sexx", "op": "eq", "value": "女"}, ("condition", "field"), "没有字段"),
        ({"field": "age", "op": "ge", "value": {"param": "max_age"}}, ("condition", "value", "param"), "没有参数"),
        ({"field": "age", "param": "min_interval_days", "op": "eq", "value": 1}, ("condition",), "恰有一个度量"),
        ({"field": "sex", "op": "is_null", "value": "女"}, ("condition", "value"), "不需要 value"),
        ({"field": "sex", "op": "eq", "value": ["男", "女"]}, ("condition", "value"), "列表取值"),
        (
            {
                "count": {"per": ["patient_id"], "where": {"count": {"per": ["visit_id"]}, "op": "gt", "value": 1}},
                "op": "gt",
                "value": 1,
            },
            ("condition", "count", "where", "count"),
            "where 中只能",
        ),
        ({"any": []}, ("condition", "any"), "非空列表"),
    ],
)
def test_meaningless_conditions_are_refused_with_where(data: object, pointer: tuple, words: str) -> None:
    with pytest.raises(ConditionProblem) as caught:
        parse(data, PARAMS)
    assert caught.value.pointer == pointer and words in caught.value.message


def test_the_rule_schema_refuses_a_comparison_with_two_measures_or_an_unknown_op() -> None:
    schema = all_schemas()["rule"]
    check = Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/condition"})
    assert check.is_valid(INTERVAL)
    assert not check.is_valid({"field": "sex", "param": "x", "op": "eq", "value": "女"})
    assert not check.is_valid({"field": "sex", "op": "like", "value": "女"})
    assert not check.is_valid({"field": "no_such_field", "op": "eq", "value": 1})


def _spec(condition: dict, params: dict | None = None) -> RuleSpec:
    values = {k: v["value"] for k, v in PARAMS.items()} | (params or {})
    return RuleSpec(
        "CN-R-9999",
        "可疑",
        parse(condition, PARAMS),
        values,
        {"CN-K-0033": TableRef("kt_CN_K_0033", ("code", "name"), ("code",), "code", "name")},
    )


def _hits(spec: RuleSpec, lines: list[dict]) -> list[str]:
    con = duck.connect(1)
    con.execute("CREATE TABLE kt_CN_K_0033 AS SELECT * FROM (VALUES ('003104010220000', '平衡试验')) AS t(code, name)")
    return duck.example_hits(con, spec, lines)


def test_a_missing_value_fails_every_comparison_so_not_stays_two_valued() -> None:
    lines = [{"line_id": "L1", "sex": None}, {"line_id": "L2", "sex": "男"}, {"line_id": "L3", "sex": "女"}]
    assert _hits(_spec({"field": "sex", "op": "ne", "value": "男"}), lines) == ["L3"]
    assert _hits(_spec({"not": {"field": "sex", "op": "eq", "value": "男"}}), lines) == ["L1", "L3"]
    assert _hits(_spec({"field": "sex", "op": "is_null"}), lines) == ["L1"]


def test_parameters_are_applied_as_localised() -> None:
    lines = [
        {
            "line_id": "L1",
            "patient_id": "P",
            "item_code": "003104010220000",
            "service_date": "2025-01-01",
            "quantity": 1,
        },
        {
            "line_id": "L2",
            "patient_id": "P",
            "item_code": "003104010220000",
            "service_date": "2025-01-18",
            "quantity": 1,
        },
    ]
    assert _hits(_spec(INTERVAL), lines) == []
    assert _hits(_spec(INTERVAL, {"min_interval_days": 21}), lines) == ["L2"]


def test_a_quote_in_a_value_is_a_literal_not_sql() -> None:
    spec = _spec({"field": "department", "op": "eq", "value": "x' OR '1'='1"})
    assert _hits(spec, [{"line_id": "L1", "department": "内科"}]) == []
    assert "'x'' OR ''1''=''1'" in compile_rule(spec)


@pytest.mark.parametrize("dialect", ["spark", "trino", "duckdb"])
def test_compiled_sql_parses_in_each_dialect(dialect: str) -> None:
    gap = {"admission_gap": {"per": ["patient_id", "institution_code"]}, "op": "le", "value": 15}
    sql = compile_rules([_spec(INTERVAL), _spec(gap)], dialect)
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    parsed = sqlglot.parse_one(body, read=dialect)
    assert parsed.find(sqlglot.exp.Union) is not None
    if dialect == "spark":
        assert "DATEDIFF(" in sql and "LAG(" in sql


def test_spark_sql_runs_in_local_pyspark_when_it_is_installed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pyspark = pytest.importorskip("pyspark.sql")
    spark = pyspark.SparkSession.builder.master("local[1]").getOrCreate()
    try:
        rows = [("L1", "P", "003104010220000", "2025-01-01", 1.0), ("L2", "P", "003104010220000", "2025-01-05", 1.0)]
        frame = spark.createDataFrame(
            rows, "line_id string, patient_id string, item_code string, service_date string, quantity double"
        )
        frame = frame.selectExpr("*", "CAST(NULL AS STRING) AS visit_id").withColumn(
            "service_date", frame.service_date.cast("date")
        )
        frame.createOrReplaceTempView("claims")
        sql = compile_rules([_spec(INTERVAL)], "spark")
        assert [r.line_id for r in spark.sql(sql).collect()] == ["L2"]
    finally:
        spark.stop()


def _patterned(condition: dict, params: dict | None = None) -> RuleSpec:
    declared = {"exclude_boundary_days": {"value": True}}
    return RuleSpec(
        "CN-R-9998",
        "明确违规",
        parse(condition, declared),
        {"exclude_boundary_days": True} | (params or {}),
        patterns={"CN-K-0037": r"^H\d{11}$"},
    )


def test_a_code_is_tested_against_a_knowledge_items_pattern_or_a_literal_regex() -> None:
    lines = [
        {"line_id": "L1", "institution_code": "H99999900001"},
        {"line_id": "L2", "institution_code": "H9999990001"},  # one digit short
        {"line_id": "L3", "institution_code": None},  # missing: matches neither
        {"line_id": "L4", "institution_code": "XH99999900001"},  # the pattern is anchored
    ]
    wrong = {"field": "institution_code", "op": "not_matches", "value": {"pattern_of": "CN-K-0037"}}
    assert _hits(_patterned(wrong), lines) == ["L2", "L4"]
    right = {"field": "institution_code", "op": "matches", "value": r"^H\d{11}$"}
    assert _hits(_patterned(right), lines) == ["L1"]
    assert parse(wrong).value.knowledge == "CN-K-0037"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"field": "item_code", "op": "matches", "value": "^(X"}, "正则表达式有误"),
        ({"field": "item_code", "op": "matches", "value": {"codes": "CN-K-0030"}}, "pattern_of"),
        ({"field": "item_code", "op": "in", "value": {"pattern_of": "CN-K-0030"}}, "只能用于 matches"),
        (
            {"admissions_spanning": {"per": ["patient_id"], "strict": {"param": "nope"}}, "op": "gt", "value": 0},
            "strict",
        ),
        (
            {"admission_gap": {"per": ["patient_id"], "strict": True}, "op": "gt", "value": 0},
            "只有 admissions_spanning",
        ),
    ],
)
def test_patterns_and_spans_that_mean_nothing_are_refused(data: dict, words: str) -> None:
    with pytest.raises(ConditionProblem) as caught:
        parse(data, {"exclude_boundary_days": {"value": True}})
    assert words in caught.value.message


SPAN = {
    "all": [
        {"field": "visit_type", "op": "in", "value": ["普通门诊", "急诊"]},
        {
            "admissions_spanning": {
                "per": ["patient_id", "institution_code"],
                "strict": {"param": "exclude_boundary_days"},
            },
            "op": "gt",
            "value": 0,
        },
    ]
}


def _stay(line_id: str, visit: str, kind: str, day: str, institution: str = "H99999900001") -> dict:
    line = {"line_id": line_id, "patient_id": "P", "visit_id": visit, "visit_type": kind, "service_date": day}
    line["institution_code"] = institution
    if kind == "住院":
        line |= {"admission_date": "2025-04-01", "discharge_date": "2025-04-10"}
    return line


def test_an_outpatient_line_inside_another_admission_of_the_same_patient_and_institution_hits() -> None:
    lines = [
        _stay("I1", "V1", "住院", "2025-04-01"),
        _stay("I2", "V1", "住院", "2025-04-05"),  # inside its own admission: not another one
        _stay("O1", "V2", "普通门诊", "2025-04-01"),  # admission day
        _stay("O2", "V3", "普通门诊", "2025-04-05"),
        _stay("O3", "V4", "急诊", "2025-04-10"),  # discharge day
        _stay("O4", "V5", "普通门诊", "2025-04-05", "H99999900002"),  # another hospital
        _stay("O5", "V6", "普通门诊", "2025-04-11"),
    ]
    assert _hits(_patterned(SPAN), lines) == ["O2"]
    assert _hits(_patterned(SPAN, {"exclude_boundary_days": False}), lines) == ["O1", "O2", "O3"]
    evidence = duck.connect(1)
    duck.load_lines(evidence, lines)
    duck.run_rules(evidence, [_patterned(SPAN)])
    assert evidence.execute("SELECT evidence FROM hits").fetchone()[0] == "visit_type=普通门诊; admissions_spanning=1"


@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_patterns_and_spans_transpile_to_each_engine(dialect: str) -> None:
    wrong = {"field": "institution_code", "op": "not_matches", "value": {"pattern_of": "CN-K-0037"}}
    sql = compile_rules([_patterned(wrong), _patterned(SPAN)], dialect)
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    sqlglot.parse_one(body, read=dialect)
    assert ("RLIKE" if dialect == "spark" else "REGEXP_LIKE") in sql
    if dialect == "spark":  # a backslash in a Spark string literal is an escape: it must be doubled
        assert r"'^H\\d{11}$'" in sql
