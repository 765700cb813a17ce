"""Rules joined to knowledge tables: every shape of knowledge-points.md ("The shapes a rule needs"), run as
joins through `twoku test` and `twoku run` on a real store, the hit's evidence naming the matched row."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tests.storefactory import commit_all
from twoku.cli import app

runner = CliRunner()
FOLDER = "national/knowledge/medical"
DRUG_A, DRUG_B = "XL02BBA326A001010102180", "XG02ADD082D003010179504"
SERVICE_A, SERVICE_B = "001103000010000", "001102000030000"


def table(root: Path, item_id: str, columns: list[dict[str, Any]], key: list[str], rows: list[list[str]]) -> None:
    """A knowledge item with a typed table, sealed."""
    data = {"id": item_id, "category": "医药学知识", "title": f"知识点明细 {item_id}", "status": "生效"}
    data["table"] = {"file": f"{item_id}.csv", "key": key, "columns": columns}
    (root / FOLDER / f"{item_id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    names = [c["name"] for c in columns]
    body = "".join(",".join(r) + "\n" for r in rows)
    (root / FOLDER / f"{item_id}.csv").write_text(",".join(names) + "\n" + body, encoding="utf-8")
    result = runner.invoke(app, ["table", "seal", item_id])
    assert result.exit_code == 0, result.output


def rule(root: Path, rule_id: str, basis: list[str], condition: dict[str, Any], examples: list[dict[str, Any]]) -> None:
    data = {
        "id": rule_id,
        "name": f"规则 {rule_id}",
        "category": "药品政策限定类",
        "level": "明确违规",
        "status": "草稿",
        "basis": [{"id": b} for b in basis],
        "condition": condition,
        "examples": examples,
    }
    path = root / "national/rules/drug-policy" / f"{rule_id}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def line(line_id: str, **fields: Any) -> dict[str, Any]:
    return {"line_id": line_id, "patient_id": "P1", "visit_id": "V1", "service_date": "2026-03-01", **fields}


def passes(root: Path, *rule_ids: str) -> dict[str, Any]:
    result = runner.invoke(app, ["test", *rule_ids, "--format", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0, json.dumps(data, ensure_ascii=False, indent=1)
    return data


CODE = {"name": "code", "title": "代码", "type": "code", "system": "CN-K-0030"}


def test_attribute_limits_sex_age_insurance_visit_type_and_level(shipped: Path) -> None:
    columns = [
        CODE,
        {"name": "sex", "title": "限定性别", "type": "enum", "values": ["男", "女"]},
        {"name": "min_age", "title": "最小年龄", "type": "integer"},
        {"name": "max_age", "title": "最大年龄", "type": "integer"},
        {"name": "insurance_type", "title": "限定险种", "type": "text"},
        {"name": "visit_types", "title": "限就医方式", "type": "text"},
    ]
    table(
        shipped,
        "CN-K-0060",
        columns,
        ["code"],
        [[DRUG_A, "男", "", "", "", ""], [DRUG_B, "", "0", "14", "生育保险", "住院;急诊"]],
    )
    limits = {
        "match": {
            "table": "CN-K-0060",
            "on": {"item_code": "code"},
            "where": {
                "any": [
                    {"field": "sex", "op": "ne", "value": {"row": "sex"}},
                    {"field": "age", "op": "lt", "value": {"row": "min_age"}},
                    {"field": "age", "op": "gt", "value": {"row": "max_age"}},
                    {"field": "insurance_type", "op": "ne", "value": {"row": "insurance_type"}},
                    {"field": "visit_type", "op": "not_in", "value": {"row": "visit_types"}},  # an empty cell: no limit
                ]
            },
        }
    }
    male_only = [line("L1", item_code=DRUG_A, sex="女"), line("L2", item_code=DRUG_A, sex="男")]
    child = dict(item_code=DRUG_B, sex="女", insurance_type="生育保险", visit_type="住院")
    limited = [
        line("L3", age=15, **child),
        line("L4", age=3, **child),
        line("L5", age=3, **{**child, "visit_type": "普通门诊"}),
    ]
    rule(
        shipped,
        "CN-R-0901",
        ["CN-K-0060"],
        limits,
        [
            {"name": "限男性药品用于女性", "lines": male_only, "hits": ["L1"]},
            {"name": "超年龄、门诊使用限住院药品", "lines": limited, "hits": ["L3", "L5"]},
        ],
    )
    passes(shipped, "CN-R-0901")


def test_an_item_that_requires_a_diagnosis_from_its_rows(shipped: Path) -> None:
    columns = [CODE, {"name": "icd_prefix", "title": "适应症诊断", "type": "code_prefix"}]
    table(shipped, "CN-K-0061", columns, ["code", "icd_prefix"], [[DRUG_A, "C61"], [DRUG_A, "E75.2"]])
    condition = {
        "all": [
            {"match": {"table": "CN-K-0061", "on": {"item_code": "code"}}},
            {
                "not": {
                    "match": {
                        "table": "CN-K-0061",
                        "on": {"item_code": "code", "main_diagnosis": {"column": "icd_prefix", "prefix": True}},
                    }
                }
            },
        ]
    }
    lines = [
        line("L1", item_code=DRUG_A, main_diagnosis="C61.x00"),
        line("L2", item_code=DRUG_A, main_diagnosis="E75.201"),
        line("L3", item_code=DRUG_A, main_diagnosis="J18.900"),
        line("L4", item_code=DRUG_B, main_diagnosis="J18.900"),  # not in the table
    ]
    rule(shipped, "CN-R-0902", ["CN-K-0061"], condition, [{"name": "无适应症诊断", "lines": lines, "hits": ["L3"]}])
    passes(shipped, "CN-R-0902")


def test_pairs_charged_together_in_one_visit(shipped: Path) -> None:
    columns = [
        {"name": "a_code", "title": "项目A代码", "type": "text"},
        {"name": "b_code", "title": "项目B代码", "type": "text"},
    ]
    table(shipped, "CN-K-0062", columns, ["a_code", "b_code"], [[SERVICE_A, SERVICE_B]])
    together = {
        "other_lines": {"per": ["visit_id"], "where": {"field": "item_code", "op": "eq", "value": {"row": "b_code"}}}
    }
    condition = {
        "match": {"table": "CN-K-0062", "on": {"item_code": "a_code"}, "where": {**together, "op": "ge", "value": 1}}
    }
    lines = [
        line("L1", item_code=SERVICE_A),
        line("L2", item_code=SERVICE_B),
        line("L3", item_code=SERVICE_A, visit_id="V2"),  # B not charged in this visit
        line("L4", item_code=SERVICE_B, visit_id="V3"),
    ]
    rule(
        shipped,
        "CN-R-0903",
        ["CN-K-0062"],
        condition,
        [{"name": "急诊监护费与诊查费同收", "lines": lines, "hits": ["L1"]}],
    )
    passes(shipped, "CN-R-0903")


def test_per_item_maximum_days_over_a_window(shipped: Path) -> None:
    columns = [CODE, {"name": "max_days", "title": "支付天数上限", "type": "integer"}]
    table(shipped, "CN-K-0063", columns, ["code"], [[DRUG_A, "14"]])
    condition = {
        "match": {
            "table": "CN-K-0063",
            "on": {"item_code": "code"},
            "where": {
                "days_since_first": {"per": ["patient_id", "item_code"]},
                "op": "ge",
                "value": {"row": "max_days"},
            },
        }
    }
    lines = [
        line("L1", item_code=DRUG_A, service_date="2026-03-01"),
        line("L2", item_code=DRUG_A, service_date="2026-03-14"),
        line("L3", item_code=DRUG_A, service_date="2026-03-15"),
        line("L4", item_code=DRUG_B, service_date="2026-04-30"),
    ]
    rule(shipped, "CN-R-0904", ["CN-K-0063"], condition, [{"name": "超过 14 天", "lines": lines, "hits": ["L3"]}])
    passes(shipped, "CN-R-0904")


def test_every_line_of_the_prescription_is_in_the_table(shipped: Path) -> None:
    columns = [{"name": "code", "title": "中药饮片代码", "type": "text"}]
    table(shipped, "CN-K-0064", columns, ["code"], [["T000800179"], ["T000800180"]])
    in_table = {"match": {"table": "CN-K-0064", "on": {"item_code": "code"}}}
    condition = {
        "all": [
            in_table,
            {"count": {"per": ["visit_id"], "where": {"not": copy.deepcopy(in_table)}}, "op": "eq", "value": 0},
        ]
    }
    alone = [line("L1", item_code="T000800179"), line("L2", item_code="T000800180")]
    mixed = [line("L3", item_code="T000800179", visit_id="V2"), line("L4", item_code="T009900001", visit_id="V2")]
    rule(
        shipped,
        "CN-R-0905",
        ["CN-K-0064"],
        condition,
        [{"name": "单方使用", "lines": alone, "hits": ["L1", "L2"]}, {"name": "复方使用", "lines": mixed, "hits": []}],
    )
    passes(shipped, "CN-R-0905")


def test_a_first_line_drug_used_earlier(shipped: Path) -> None:
    columns = [CODE, {"name": "first_line", "title": "一线药品代码", "type": "text"}]
    table(shipped, "CN-K-0065", columns, ["code", "first_line"], [[DRUG_A, DRUG_B]])
    earlier = {
        "other_lines": {
            "per": ["patient_id"],
            "where": {
                "all": [
                    {"field": "item_code", "op": "eq", "value": {"row": "first_line"}},
                    {"field": "service_date", "op": "lt", "value": {"line": "service_date"}},
                ]
            },
        },
        "op": "ge",
        "value": 1,
    }
    condition = {
        "all": [
            {"match": {"table": "CN-K-0065", "on": {"item_code": "code"}}},
            {"not": {"match": {"table": "CN-K-0065", "on": {"item_code": "code"}, "where": earlier}}},
        ]
    }
    before = [line("L1", item_code=DRUG_B, service_date="2026-01-01"), line("L2", item_code=DRUG_A)]
    never = [
        line("L3", item_code=DRUG_A, patient_id="P2"),
        line("L4", item_code=DRUG_B, patient_id="P2", service_date="2026-05-01"),
    ]
    rule(
        shipped,
        "CN-R-0906",
        ["CN-K-0065"],
        condition,
        [{"name": "先用一线药", "lines": before, "hits": []}, {"name": "未先用一线药", "lines": never, "hits": ["L3"]}],
    )
    passes(shipped, "CN-R-0906")


def test_run_joins_and_the_evidence_names_the_matched_row(shipped: Path, tmp_path: Path) -> None:
    test_pairs_charged_together_in_one_visit(shipped)
    rule_path = shipped / "national/rules/drug-policy/CN-R-0903.yaml"
    data = yaml.safe_load(rule_path.read_text(encoding="utf-8"))
    claims = tmp_path / "明细.csv"
    fields = ["line_id", "patient_id", "visit_id", "service_date", "item_code"]
    rows = [[str(x.get(f, "")) for f in fields] for x in data["examples"][0]["lines"]]
    claims.write_text(",".join(fields) + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    commit_all(shipped, "规则")
    out = tmp_path / "命中.json"
    result = runner.invoke(app, ["run", "--claims", str(claims), "--rules", "CN-R-0903", "--out", str(out)])
    assert result.exit_code == 0, result.output
    hits = json.loads(out.read_text(encoding="utf-8"))
    assert [h["line_id"] for h in hits] == ["L1"]
    assert f"CN-K-0062={SERVICE_A}/{SERVICE_B}" in hits[0]["evidence"]
    sql = runner.invoke(app, ["compile", "--dialect", "duckdb", "--rules", "CN-R-0903"]).stdout
    assert SERVICE_A not in sql and "kt_CN_K_0062" in sql  # joined, never a pasted code list


def test_validate_names_a_missing_column_and_a_table_outside_the_basis(shipped: Path) -> None:
    test_pairs_charged_together_in_one_visit(shipped)
    path = shipped / "national/rules/drug-policy/CN-R-0903.yaml"
    text = path.read_text(encoding="utf-8").replace("row: b_code", "row: c_code")
    path.write_text(text.replace("- id: CN-K-0062", "- id: CN-K-0001"), encoding="utf-8")
    report = json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)
    messages = [f["message"] for f in report["findings"] if f["code"] == "TK407"]
    assert "表格 CN-K-0062 没有列 c_code" in messages
    assert "表格 CN-K-0062 未列入依据（basis）" in messages


def test_compile_out_writes_a_bundle_that_runs_as_it_is(shipped: Path, tmp_path: Path) -> None:
    import duckdb

    test_pairs_charged_together_in_one_visit(shipped)
    commit_all(shipped, "规则")
    out = tmp_path / "规则包"
    result = runner.invoke(
        app, ["compile", "--dialect", "duckdb", "--rules", "CN-R-0903", "--rules", "CN-R-0003", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "bundle.sql",
        "manifest.json",
        "register.sql",
        "rules.sql",
        "tables",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {t["id"] for t in manifest["tables"]} == {"CN-K-0062", "CN-K-0110"} and manifest["rules"] == [
        "CN-R-0903",
        "CN-R-0003",
    ]
    assert SERVICE_A not in (out / "rules.sql").read_text(encoding="utf-8")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE claims AS SELECT * FROM (VALUES ('L1', 'P1', 'V1', DATE '2026-03-01', '001103000010000'), "
        "('L2', 'P1', 'V1', DATE '2026-03-01', '001102000030000')) AS t(line_id, patient_id, visit_id, service_date, item_code)"
    )
    for column, kind in (("fund_amount", "DOUBLE"), ("institution_level", "VARCHAR")):
        con.execute(f"ALTER TABLE claims ADD COLUMN {column} {kind}")
    import os

    here = os.getcwd()
    os.chdir(out)  # the bundle names its files relative to itself
    try:
        con.execute((out / "bundle.sql").read_text(encoding="utf-8"))
    finally:
        os.chdir(here)
    assert con.execute("SELECT rule_id, line_id FROM hits").fetchall() == [("CN-R-0903", "L1")]
    again = runner.invoke(app, ["compile", "--dialect", "spark", "--out", str(out)])
    assert again.exit_code == 2 and "已存在" in again.output
    spark = runner.invoke(
        app, ["compile", "--dialect", "spark", "--rules", "CN-R-0903", "--out", str(tmp_path / "spark")]
    )
    assert spark.exit_code == 0, spark.output
    assert "USING parquet OPTIONS (path 'tables/CN-K-0062.parquet')" in (tmp_path / "spark/register.sql").read_text(
        encoding="utf-8"
    )
