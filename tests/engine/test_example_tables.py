"""An example's own knowledge-point rows (examples[].tables): while that example runs the named table holds
exactly those rows; the other examples, run, compile and publish see the table's real rows; validate checks the
rows against the table's columns (TK411) and names the rule file and the row's line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.engine.test_table_joins import CODE, DRUG_A, DRUG_B, line, rule, table
from tests.storefactory import commit_all
from twoku.cli import app

runner = CliRunner()
RULE = "national/rules/drug-policy/CN-R-0901.yaml"
SEX = {"name": "sex", "title": "限定性别", "type": "enum", "values": ["男", "女"]}
MIN_AGE = {"name": "min_age", "title": "最小年龄", "type": "integer"}
CONDITION = {
    "match": {
        "table": "CN-K-0060",
        "on": {"item_code": "code"},
        "where": {"field": "sex", "op": "ne", "value": {"row": "sex"}},
    }
}


def _store(root: Path, examples: list[dict[str, Any]]) -> None:
    """A seed table holding one row (DRUG_B is for women) and a rule judging each line's sex against it."""
    table(root, "CN-K-0060", [CODE, SEX, MIN_AGE], ["code"], [[DRUG_B, "女", ""]])
    rule(root, "CN-R-0901", ["CN-K-0060"], CONDITION, examples)


EXAMPLES = [
    {
        "name": "示例行：限男性的药品用于女性",
        "tables": {"CN-K-0060": [{"code": DRUG_A, "sex": "男", "min_age": 18}]},
        # L3: DRUG_B is in the store's table, not in this example's rows: it must not hit here
        "lines": [
            line("L1", item_code=DRUG_A, sex="女"),
            line("L2", item_code=DRUG_A, sex="男"),
            line("L3", item_code=DRUG_B, sex="男"),
        ],
        "hits": ["L1"],
    },
    {
        "name": "库中的行：限女性的药品用于男性",
        "lines": [line("L1", item_code=DRUG_B, sex="男"), line("L2", item_code=DRUG_A, sex="女")],
        "hits": ["L1"],
    },
    {
        "name": "示例行为空：不命中",
        "tables": {"CN-K-0060": []},
        "lines": [line("L1", item_code=DRUG_B, sex="男")],
        "hits": [],
    },
]


def _test(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["test", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def _tk411(root: Path) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["validate", "--format", "json"])
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK411"]


def _line_of(root: Path, text: str) -> int:
    lines = (root / RULE).read_text(encoding="utf-8").splitlines()
    return next(n for n, got in enumerate(lines, 1) if text in got)


def test_an_example_runs_on_its_own_rows_and_the_others_on_the_tables(shipped: Path) -> None:
    _store(shipped, EXAMPLES)
    code, report = _test("CN-R-0901")
    assert code == 0, json.dumps(report, ensure_ascii=False, indent=1)
    assert _tk411(shipped) == []
    # the same example without its rows fails: it is the rows that make L1 hit and L3 not
    plain = [{k: v for k, v in EXAMPLES[0].items() if k != "tables"}]
    _store(shipped, plain)
    code, report = _test("CN-R-0901")
    assert code == 1
    (failed,) = report["examples"]
    assert failed["missed"] == ["L1"] and failed["unexpected"] == ["L3"]


def test_run_and_compile_never_see_an_examples_rows(shipped: Path, tmp_path: Path) -> None:
    _store(shipped, EXAMPLES)
    commit_all(shipped, "规则")
    claims = tmp_path / "明细.csv"
    rows = [["L1", "P1", "V1", "2026-03-01", DRUG_A, "女"], ["L2", "P1", "V1", "2026-03-01", DRUG_B, "男"]]
    header = "line_id,patient_id,visit_id,service_date,item_code,sex\n"
    claims.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "命中.json"
    result = runner.invoke(app, ["run", "--claims", str(claims), "--rules", "CN-R-0901", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [h["line_id"] for h in json.loads(out.read_text(encoding="utf-8"))] == ["L2"]  # the table's row only
    sql = runner.invoke(app, ["compile", "--dialect", "duckdb", "--rules", "CN-R-0901"]).stdout
    assert "kt_CN_K_0060" in sql and "_example" not in sql and DRUG_A not in sql


def test_validate_checks_the_rows_against_the_tables_columns(shipped: Path) -> None:
    bad = [
        {
            "name": "坏的示例行",
            "tables": {
                "CN-K-0060": [
                    {"code": DRUG_A, "sex": "男", "min_age": "十八"},  # not an integer
                    {"code": DRUG_B, "sex": "未知"},  # not a value of the enum
                    {"code": DRUG_A, "sex": "女"},  # the key again
                    {"code": "XL02BBA326A0010", "gender": "男"},  # no such column; not a drug code
                ],
                "CN-K-0001": [{"code": "x"}],  # the condition does not read it
            },
            "lines": [line("L1", item_code=DRUG_A, sex="女")],
            "hits": ["L1"],
        }
    ]
    _store(shipped, bad)
    found = _tk411(shipped)
    assert all(f["path"] == RULE for f in found)
    lines = {f["line"] for f in found}
    assert _line_of(shipped, "十八") - 2 in lines  # the row's first line: "- code: …", then sex and min_age
    messages = "\n".join(f["message"] for f in found)
    assert "CN-K-0001" in messages and "不读取" in messages
    assert "gender" in messages
    assert "未知" in messages
    assert "十八" in messages
    assert "重复" in messages or "取值不同" in messages
    assert "XL02BBA326A0010" in messages
    # twoku test refuses the rows with the same words, never a traceback
    code, report = _test("CN-R-0901")
    assert code == 1
    (failed,) = report["examples"]
    assert "CN-K-0001" in failed["error"] or "CN-K-0060" in failed["error"]


def test_each_bad_row_is_found_on_its_own_line(shipped: Path) -> None:
    text = f"""id: CN-R-0901
name: 规则 CN-R-0901
category: 药品政策限定类
level: 明确违规
status: 草稿
basis:
  - id: CN-K-0060
condition:
  match:
    table: CN-K-0060
    on: {{item_code: code}}
    where: {{field: sex, op: ne, value: {{row: sex}}}}
examples:
  - name: 示例行
    tables:
      CN-K-0060:
        - {{code: {DRUG_A}, sex: 男}}
        - {{code: {DRUG_B}, sex: 女, min_age: 十八}}
    lines:
      - {{line_id: L1, item_code: {DRUG_A}, sex: 女}}
    hits: [L1]
"""
    table(shipped, "CN-K-0060", [CODE, SEX, MIN_AGE], ["code"], [])
    (shipped / RULE).write_text(text, encoding="utf-8")
    found = _tk411(shipped)
    assert [(f["path"], f["line"]) for f in found] == [(RULE, 18)], found
