"""Indicators (统计指标监测类) through the CLI on the shipped store: run, test, evaluate, publish, validate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import yaml
from typer.testing import CliRunner

from tests.storefactory import commit_all
from twoku.cli import app

runner = CliRunner()
H1, H2, H3 = "H99999900001", "H99999900002", "H99999900003"
FIELDS = [
    "line_id",
    "patient_id",
    "visit_id",
    "institution_code",
    "institution_level",
    "visit_type",
    "item_code",
    "admission_date",
    "discharge_date",
    "service_date",
    "settlement_date",
    "amount",
    "fee_category",
]


def _line(n: int, inst: str, day: str, amount: float, fee: str, level: str = "三级", **extra: str) -> dict:
    return {
        "line_id": f"L{n}",
        "patient_id": f"P{n}",
        "visit_id": f"V{n}",
        "institution_code": inst,
        "institution_level": level,
        "item_code": "001102000030000",
        "service_date": day,
        "settlement_date": day,
        "amount": amount,
        "fee_category": fee,
        **extra,
    }


def _claims(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _drug_shares(tmp_path: Path) -> Path:
    """March 2026: H1 spends 80% on drugs, H2 20% (三级, pooled 50%); H3 (二级) 90% alone among its peers."""
    return _claims(
        tmp_path / "claims.csv",
        [
            _line(1, H1, "2026-03-10", 80, "西药费"),
            _line(2, H1, "2026-03-10", 20, "床位费"),
            _line(3, H2, "2026-03-11", 20, "中成药费"),
            _line(4, H2, "2026-03-11", 80, "检查费"),
            _line(5, H3, "2026-03-12", 90, "西药费", "二级"),
            _line(6, H3, "2026-03-12", 10, "床位费", "二级"),
        ],
    )


def _stays(tmp_path: Path, march_2026: float) -> Path:
    """H1's mean cost per admission: 1000 in March 2025, ``march_2026`` in March 2026 (30 admissions each: the
    rule's min_discharges)."""
    rows = [_line(n, H1, "2025-03-10", 1000, "床位费", visit_type="住院") for n in range(30)]
    rows += [_line(100 + n, H1, "2026-03-10", march_2026, "床位费", visit_type="住院") for n in range(30)]
    return _claims(tmp_path / "stays.csv", rows)


def _run(*args: str) -> dict:
    result = runner.invoke(app, ["run", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)
    return data


def test_run_writes_the_indicators_beside_the_hits_and_flags_the_institution_period(
    shipped: Path, tmp_path: Path
) -> None:
    claims = _drug_shares(tmp_path)
    for suffix in ("csv", "parquet", "json"):
        out = tmp_path / f"hits.{suffix}"
        data = _run("--claims", str(claims), "--out", str(out))
        beside = tmp_path / f"hits.indicators.{suffix}"
        assert out.exists() and beside.exists() and data["indicators_out"] == str(beside)
        if suffix == "json":
            rows = json.loads(beside.read_text(encoding="utf-8"))
        else:
            reader = "read_parquet" if suffix == "parquet" else "read_csv"
            rel = duckdb.sql(f"SELECT * FROM {reader}('{beside}') ORDER BY 1, 2")
            rows = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
        drug = [r for r in rows if r["rule_id"] == "CN-R-0300"]
        assert [(r["institution_code"], r["period"], r["value"], r["baseline"], r["flagged"]) for r in drug] == [
            (H1, "2026-03", 80.0, 50.0, True),
            (H2, "2026-03", 20.0, 50.0, False),
            (H3, "2026-03", 90.0, 90.0, False),  # 二级: its own peers only
        ]
        exam = next(r for r in rows if r["rule_id"] == "CN-R-0301" and r["institution_code"] == H2)
        assert (exam["numerator"], exam["denominator"], exam["value"]) == (80.0, 100.0, 80.0)
    summary = {i["id"]: i for i in data["indicators"]}
    assert (summary["CN-R-0300"]["groups"], summary["CN-R-0300"]["flagged"]) == (3, 1)
    assert summary["CN-R-0300"]["flagged_sample"][0]["institution_code"] == H1
    assert {r["id"] for r in data["rules"]}.isdisjoint(summary)  # indicators never hit lines


def test_run_of_named_indicators_only_and_the_terminal_table(shipped: Path, tmp_path: Path) -> None:
    claims = _drug_shares(tmp_path)
    data = _run("--claims", str(claims), "--rules", "CN-R-0300")
    assert data["rules"] == [] and [i["id"] for i in data["indicators"]] == ["CN-R-0300"]
    mixed = _run("--claims", str(claims), "--rules", "CN-R-0300", "CN-R-0025")
    assert [r["id"] for r in mixed["rules"]] == ["CN-R-0025"] and len(mixed["indicators"]) == 1
    text = runner.invoke(app, ["run", "--claims", str(claims), "--rules", "CN-R-0300"]).output
    assert "监测指标" in text and "药费占比统计" in text and f"{H1}  2026-03" in text
    assert "80.0" in text and "50.0" in text


def test_the_regions_threshold_flags_a_growth_the_national_one_does_not(shipped: Path, tmp_path: Path) -> None:
    claims = _stays(tmp_path, 1170)  # +17%: over 四川's 15% (510000-O-0002), under the national 20%
    for region, flagged in (("CN", 0), ("510000", 1)):
        data = _run("--claims", str(claims), "--region", region, "--rules", "CN-R-0023")
        (ind,) = data["indicators"]
        assert (ind["flagged"], ind["parameters"]["growth_threshold_pct"]) == (flagged, 20 if region == "CN" else 15)
    # 29 admissions in March 2026: fewer than min_discharges (30), not judged whatever the growth
    few = _claims(
        tmp_path / "few.csv", [r for r in csv.DictReader(claims.open(encoding="utf-8")) if r["line_id"] != "L129"]
    )
    (ind,) = _run("--claims", str(few), "--region", "510000", "--rules", "CN-R-0023")["indicators"]
    assert ind["flagged"] == 0 and ind["groups"] == 2


def test_test_runs_indicator_examples_and_names_a_wrong_institution_period(shipped: Path) -> None:
    ok = runner.invoke(app, ["test", "CN-R-0300", "CN-R-0307", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    examples = json.loads(ok.stdout)["examples"]
    assert len(examples) == 4 and all(e["passed"] for e in examples)
    assert examples[0]["got"] == [f"{H1} 2026-03"]
    rule = next(shipped.glob("national/rules/*/CN-R-0300.yaml"))
    data = yaml.safe_load(rule.read_text(encoding="utf-8"))
    data["examples"][0]["flags"] = [{"institution": H2, "period": "2026-03"}]
    rule.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    bad = runner.invoke(app, ["test", "CN-R-0300"])
    assert bad.exit_code == 1
    assert f"应命中而未命中：{H2} 2026-03" in bad.output and f"不应命中而命中：{H1} 2026-03" in bad.output


def test_test_region_runs_indicators_with_the_regions_values(shipped: Path) -> None:
    result = runner.invoke(app, ["test", "--region", "510000", "--format", "json"])
    assert result.exit_code == 0, result.output
    ran = {e["rule"] for e in json.loads(result.stdout)["examples"]}
    assert {"CN-R-0023", "CN-R-0024", "CN-R-0300", "CN-R-0306"} <= ran


def test_evaluate_keeps_indicators_apart_and_reads_their_flags(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    _run("--claims", str(_drug_shares(tmp_path)), "--out", str(out))
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "rule_id,line_id,outcome,institution_code,period\n"
        f"CN-R-0300,,确认违规,{H1},2026-03\n"
        f"CN-R-0301,,不予认定,{H2},2026-03\n",
        encoding="utf-8",
    )
    args = ["evaluate", "--hits", str(out), "--feedback", str(feedback), "--lines", "6", "--format", "json"]
    plain = json.loads(runner.invoke(app, args).stdout)
    assert plain["unmatched_feedback"] == 0 and plain["indicators"] == []
    assert "CN-R-0300" in plain["indicator_rules"] and "CN-R-0300" not in plain["never_fired"]
    beside = tmp_path / "hits.indicators.csv"
    data = json.loads(runner.invoke(app, [*args, "--indicators", str(beside)]).stdout)
    measured = {i["id"]: i for i in data["indicators"]}
    drug = measured["CN-R-0300"]
    assert (drug["groups"], drug["flagged"], drug["flag_rate"], drug["confirmed"], drug["precision"]) == (
        3,
        1,
        0.3333,
        1,
        1.0,
    )
    assert measured["CN-R-0301"]["flagged"] == 1 and measured["CN-R-0301"]["precision"] == 0.0
    text = runner.invoke(app, [*args[:-2], "--indicators", str(beside)]).output
    assert "监测指标（按机构-统计期" in text and "33%" in text
    broken = tmp_path / "broken.csv"
    broken.write_text("rule_id,period\nCN-R-0300,2026-03\n", encoding="utf-8")
    refused = runner.invoke(app, [*args, "--indicators", str(broken)])
    assert refused.exit_code == 1 and "institution_code" in refused.output and "Traceback" not in refused.output


def test_publish_shows_the_formula_in_words_with_the_regions_values(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "pub"
    for audience in ("institutions", "society"):
        result = runner.invoke(
            app,
            ["publish", "--public-summary", "--region", "510000", "--audience", audience, "--out", str(out / audience)],
        )
        assert result.exit_code == 0, result.output
        data = json.loads(next((out / audience).glob("*.json")).read_text(encoding="utf-8"))
        rules = {r["id"]: r for r in data["rules"]}
        growth = rules["CN-R-0023"]["indicator"]
        assert growth.startswith("次均住院费用异常增长 = 住院医疗总费用 ÷ 出院结算人次")
        if audience == "institutions":
            assert "上年同期" in growth and "大于15%" in growth  # 四川's value, not the national 20%
        else:  # the thresholds (and the choice of the period compared) go to the institutions only
            assert "15%" not in growth and "20%" not in growth and "上一月" not in growth
            assert "对比期" in growth and "定点医药机构公开" in growth
        assert "按定点医药机构、病组、按季度统计" in rules["CN-R-0024"]["indicator"]
        assert rules["CN-R-0300"]["framework_code"] == "ZB10000205001000"
        assert rules["CN-R-0017"]["indicator"] is None
        md = next((out / audience).glob("*.md")).read_text(encoding="utf-8")
        assert "**监测指标**（按机构、按统计期计算，不逐条判断明细）" in md
        assert "fee_category" not in json.dumps(rules["CN-R-0300"], ensure_ascii=False) or audience == "institutions"


def test_validate_refuses_an_indicator_that_means_nothing(shipped: Path) -> None:
    rule = next(shipped.glob("national/rules/*/CN-R-0300.yaml"))
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("{param: excess_points}}", "{param: excess_point}}"), encoding="utf-8")
    commit_all(shipped)
    result = runner.invoke(app, ["validate", "--format", "json"])
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK407"]
    assert result.exit_code == 1 and len(found) == 1
    assert "excess_point" in found[0]["message"] and found[0]["path"].endswith("CN-R-0300.yaml")
    run = runner.invoke(app, ["run", "--claims", "x.csv", "--rules", "CN-R-0300"])
    assert run.exit_code in (1, 2) and "Traceback" not in run.output
