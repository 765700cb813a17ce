"""twoku run, compile and test on the shipped library and real claim files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import sqlglot
from typer.testing import CliRunner

from tests.conftest import run_twoku
from tests.storefactory import commit_all, git
from twoku.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
FIELDS = [
    "line_id",
    "patient_id",
    "sex",
    "age",
    "visit_id",
    "institution_code",
    "item_code",
    "service_date",
    "quantity",
    "fund_amount",
]
BALANCE = "002503020030200"  # 糖化血红蛋白测定 (CN-K-0129)


def _claims(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _interval_claims(tmp_path: Path) -> Path:
    """A balance test repeated after 17 days (hits at 21 days in 510000, not at the national 14) and a woman on 阿帕他胺片."""
    return _claims(
        tmp_path / "claims.csv",
        [
            {
                "line_id": "L1",
                "patient_id": "P1",
                "item_code": BALANCE,
                "service_date": "2027-03-01",
                "quantity": 1,
                "fund_amount": 35,
            },
            {
                "line_id": "L2",
                "patient_id": "P1",
                "item_code": BALANCE,
                "service_date": "2027-03-18",
                "quantity": 1,
                "fund_amount": 35,
            },
            {
                "line_id": "L3",
                "patient_id": "P2",
                "sex": "女",
                "item_code": "XL02BBA326A001010102180",
                "service_date": "2027-03-02",
                "quantity": 1,
                "fund_amount": 860.5,
            },
            {
                "line_id": "L4",
                "patient_id": "P3",
                "sex": "男",
                "item_code": "XL02BBA326A001010102180",
                "service_date": "2027-03-02",
                "quantity": 1,
                "fund_amount": 860.5,
            },
        ],
    )


def test_run_applies_the_regions_parameters(shipped: Path, tmp_path: Path) -> None:
    claims = _interval_claims(tmp_path)
    national = json.loads(
        runner.invoke(app, ["run", "--claims", str(claims), "--region", "CN", "--format", "json"]).stdout
    )
    province = json.loads(
        runner.invoke(app, ["run", "--claims", str(claims), "--region", "510000", "--format", "json"]).stdout
    )
    by_rule = lambda data: {r["id"]: r for r in data["rules"]}  # noqa: E731
    assert national["lines"] == 4
    assert (
        by_rule(national)["CN-R-0030"]["hits"] == 0
        and by_rule(national)["CN-R-0030"]["parameters"]["min_interval_days"] == 14
    )
    assert (
        by_rule(province)["CN-R-0030"]["hits"] == 1
        and by_rule(province)["CN-R-0030"]["parameters"]["min_interval_days"] == 21
    )
    assert by_rule(province)["CN-R-0025"]["hits"] == 1 and by_rule(province)["CN-R-0025"]["per_10000"] == 2500.0
    assert {"CN-R-0017", "CN-R-0007", "CN-R-0004"} <= set(by_rule(national))


def test_run_writes_one_row_per_hit_as_parquet_csv_or_json(shipped: Path, tmp_path: Path) -> None:
    claims = _interval_claims(tmp_path)
    for suffix in ("parquet", "csv", "json"):
        out = tmp_path / f"hits.{suffix}"
        result = runner.invoke(app, ["run", "--claims", str(claims), "--region", "510000", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert str(out) in result.output.replace("\n", "")
        if suffix == "json":
            rows = json.loads(out.read_text(encoding="utf-8"))
        else:
            reader = "read_parquet" if suffix == "parquet" else "read_csv"
            rel = duckdb.sql(f"SELECT * FROM {reader}('{out}') ORDER BY rule_id, line_id")
            rows = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
        assert [(r["rule_id"], r["line_id"], r["level"]) for r in rows] == [
            ("CN-R-0025", "L3", "明确违规"),
            ("CN-R-0030", "L2", "明确违规"),
        ]
        assert "sex=女" in rows[0]["evidence"] and "days_since_previous=17" in rows[1]["evidence"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hits")]


def test_run_refuses_bad_input_with_a_message(shipped: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("line_id,patient_id\nL1,P1\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--claims", str(bad)])
    assert result.exit_code == 1 and "item_code" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["run", "--claims", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["run", "--claims", str(_interval_claims(tmp_path)), "--rules", "CN-R-0021"])
    assert result.exit_code == 2 and "condition" in result.output
    result = runner.invoke(app, ["run", "--claims", str(_interval_claims(tmp_path)), "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2


def test_compile_prints_spark_sql_with_localised_parameters(shipped: Path) -> None:
    result = run_twoku("compile", "--dialect", "spark", "--region", "510100", "--rules", "CN-R-0017", cwd=shipped)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-- CN-R-0017 分解住院")
    parsed = sqlglot.parse_one(result.stdout, read="spark")
    assert parsed.find(sqlglot.exp.Window) is not None
    assert "<= 10" in result.stdout  # readmission_days from 510000, same_diagnosis_only false from 510100
    assert "FALSE = FALSE" in result.stdout


def test_test_runs_every_shipped_example_and_fails_on_a_wrong_one(shipped: Path) -> None:
    data = json.loads(runner.invoke(app, ["test", "--format", "json"]).stdout)
    assert data["ok"] and data["failed"] == 0 and data["passed"] >= 16 and data["untested"] == []
    assert {e["rule"] for e in data["examples"]} >= {
        "CN-R-0025",
        "CN-R-0028",
        "CN-R-0004",
        "CN-R-0007",
        "CN-R-0017",
        "CN-R-0030",
    }
    rule = next(shipped.glob("national/rules/*/CN-R-0030.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8").replace("hits: [L2]", "hits: [L1]"), encoding="utf-8")
    result = runner.invoke(app, ["test", "CN-R-0030"])
    assert result.exit_code == 1
    assert "应命中而未命中：L1" in result.output and "不应命中而命中：L2" in result.output
    assert "1 个用例通过，1 个失败" in result.output


def test_examples_are_not_normative_but_the_condition_is(shipped: Path) -> None:
    rule = next(shipped.glob("national/rules/*/CN-R-0025.yaml"))
    text = rule.read_text(encoding="utf-8")
    rule.write_text(
        text.replace("name: 女性参保人门诊结算阿帕他胺片", "name: 女性参保人结算阿帕他胺片"), encoding="utf-8"
    )
    assert run_twoku("validate", "--strict", cwd=shipped).returncode == 0
    rule.write_text(text.replace("op: ne, value: {row: sex}", "op: eq, value: {row: sex}"), encoding="utf-8")
    result = run_twoku("validate", cwd=shipped)
    assert result.returncode == 1 and "TK603" in result.stdout
    git(shipped, "checkout", "--", ".")
    commit_all(shipped)


def test_generated_claims_hit_exactly_the_true_hits_of_every_rule(shipped: Path, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_claims", REPO / "benchmarks" / "generate_claims.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    claims, truth = tmp_path / "claims.csv", tmp_path / "truth.csv"
    assert gen.generate(claims, 3000, truth=truth) == 3000
    out = tmp_path / "hits.csv"
    result = runner.invoke(
        app, ["run", "--claims", str(claims), "--region", "CN", "--out", str(out), "--format", "json"]
    )
    data = json.loads(result.stdout)
    # a rule whose knowledge-point table has no rows yet (until twoku import) has no true hit to find
    true_rules = {r for (r,) in duckdb.sql(f"SELECT DISTINCT rule_id FROM read_csv('{truth}')").fetchall()}
    assert len(true_rules) >= 20
    assert all(r["hits"] > 0 for r in data["rules"] if r["id"] in true_rules), data["rules"]
    expected = set(duckdb.sql(f"SELECT rule_id, line_id FROM read_csv('{truth}')").fetchall())
    got = set(duckdb.sql(f"SELECT rule_id, line_id FROM read_csv('{out}')").fetchall())
    assert got == expected and len(expected) > 20


def test_evaluate_reports_activity_precision_appeals_and_the_rules_to_revisit(shipped: Path, tmp_path: Path) -> None:
    hits = tmp_path / "hits.csv"
    rows = [("CN-R-0025", f"A{n}") for n in range(4)] + [("CN-R-0017", f"B{n}") for n in range(12)]
    hits.write_text("rule_id,line_id,region\n" + "".join(f"{r},{line},510000\n" for r, line in rows), encoding="utf-8")
    feedback = tmp_path / "feedback.csv"
    fb = [
        ("CN-R-0025", "A0", "confirmed", "true", "false"),
        ("CN-R-0025", "A1", "确认违规", "true", "true"),
        ("CN-R-0025", "A2", "rejected", "false", "false"),
        ("CN-R-0025", "A3", "pending", "false", "false"),
        ("CN-R-0025", "Z9", "confirmed", "false", "false"),
    ] + [("CN-R-0017", f"B{n}", "rejected", "false", "false") for n in range(11)]
    feedback.write_text(
        "rule_id,line_id,outcome,appealed,appeal_upheld\n" + "".join(",".join(r) + "\n" for r in fb), encoding="utf-8"
    )
    args = ["evaluate", "--hits", str(hits), "--feedback", str(feedback), "--lines", "20000", "--region", "510000"]
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    rules = {r["id"]: r for r in data["rules"]}
    a, b = rules["CN-R-0025"], rules["CN-R-0017"]
    assert (a["hits"], a["per_10000"], a["confirmed"], a["rejected"], a["pending"]) == (4, 2.0, 2, 1, 1)
    assert a["precision"] == 0.6667 and (a["appealed"], a["appeals_upheld"]) == (2, 1) and a["region"] == "510000"
    assert (b["decided"], b["precision"], b["unreviewed"]) == (11, 0.0, 1)
    assert data["misfiring"] == ["CN-R-0017"] and data["unmatched_feedback"] == 1
    assert "CN-R-0030" in data["never_fired"] and "CN-R-0025" not in data["never_fired"]
    text = runner.invoke(app, args).output
    assert "多数误判的规则" in text and "CN-R-0017" in text and "67%" in text
    feedback.write_text("rule_id,line_id,outcome\nCN-R-0025,A0,maybe\n", encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "outcome" in result.output


def test_evaluate_writes_a_self_contained_html_report_with_one_bar_per_rule(shipped: Path, tmp_path: Path) -> None:
    from html.parser import HTMLParser

    hits = tmp_path / "hits.csv"
    rows = [("CN-R-0025", "A1", "510000"), ("CN-R-0025", "A2", "510100"), ("CN-R-0017", "B1", "510000")]
    rows += [("CN-R-0030", "C1", "510000")]
    hits.write_text("rule_id,line_id,region\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "rule_id,line_id,outcome\nCN-R-0025,A1,confirmed\nCN-R-0025,A2,rejected\nCN-R-0017,B1,confirmed\n",
        encoding="utf-8",
    )
    out = tmp_path / "评估.html"
    args = ["evaluate", "--hits", str(hits), "--feedback", str(feedback), "--lines", "10000"]
    result = runner.invoke(app, [*args, "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []
            self.bars: dict[str, list[str]] = {}
            self.external: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag not in ("meta", "br"):
                self.open.append(tag)
            if tag == "rect":
                kind = (a.get("class") or "").split()[-1]
                self.bars.setdefault(kind, []).append(str(a.get("data-rule")))
            self.external += [v for k, v in attrs if k in ("src", "href") and v]
            if tag == "script":
                self.external.append("script")

        def handle_endtag(self, tag: str) -> None:
            assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    parser = Parser()
    parser.feed(page)
    parser.close()
    assert parser.open == [] and parser.external == []  # well nested, nothing fetched, no script
    # one bar per rule in each chart; a rule's two regions are summed into its bar
    assert sorted(parser.bars["bar-activity"]) == ["CN-R-0017", "CN-R-0025", "CN-R-0030"]
    assert sorted(parser.bars["bar-precision"]) == ["CN-R-0017", "CN-R-0025", "CN-R-0030"]
    assert "50%（1/2）" in page and "未判定" in page and page.count("<svg") == 2
    json_out = tmp_path / "e.json"
    assert runner.invoke(app, [*args, "--format", "json", "--out", str(json_out)]).exit_code == 0
    assert {r["id"] for r in json.loads(json_out.read_text(encoding="utf-8"))["rules"]} == {
        "CN-R-0017",
        "CN-R-0025",
        "CN-R-0030",
    }


def test_a_pattern_re2_cannot_run_is_refused_before_the_engine_sees_it(shipped: Path) -> None:
    """Issue 20, item 8: a code system's pattern runs in RE2 at validate and in DuckDB alike; one RE2 refuses
    (a lookahead) is a located message, never a DuckDB error (exit 3)."""
    path = next(shipped.glob("national/knowledge/*/CN-K-0030.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("pattern: '^X", "pattern: '^(?=X)X", 1), encoding="utf-8")
    assert "(?=X)" in path.read_text(encoding="utf-8")
    result = run_twoku("compile", "--rules", "CN-R-0013", cwd=shipped)
    assert result.returncode == 1, result.stderr
    assert "CN-K-0030" in result.stderr and "线性时间" in result.stderr and "Traceback" not in result.stderr
    found = run_twoku("validate", "--format", "json", cwd=shipped)
    assert "TK408" in found.stdout


def test_generated_feedback_is_chinese_and_can_show_mostly_misfiring_rules(shipped: Path, tmp_path: Path) -> None:
    """Issue #21.9/#21.10: the generated feedback mixed confirmed/pending with 处理/初审 and never marked a hit wrong."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_claims", REPO / "benchmarks" / "generate_claims.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    claims, truth, feedback = tmp_path / "claims.parquet", tmp_path / "truth.csv", tmp_path / "feedback.csv"
    gen.generate(claims, 3000, truth=truth, feedback=feedback, misfiring=("CN-R-0200",))
    rows = duckdb.sql(f"SELECT rule_id, outcome, stage FROM read_csv('{feedback}', all_varchar = true)").fetchall()
    assert {r[1] for r in rows} <= {"确认违规", "不予认定", "处理中"} and {r[2] for r in rows} <= {
        "初审",
        "复审",
        "处理",
    }
    rejected = [r for r in rows if r[0] == "CN-R-0200" and r[1] == "不予认定"]
    assert len(rejected) * 2 > len([r for r in rows if r[0] == "CN-R-0200"])
    hits = tmp_path / "hits.parquet"
    assert runner.invoke(app, ["run", "--claims", str(claims), "--region", "CN", "--out", str(hits)]).exit_code == 0
    args = ["evaluate", "--hits", str(hits), "--feedback", str(feedback), "--claims", str(claims), "--region", "CN"]
    result = runner.invoke(app, [*args, "--min-decided", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["misfiring"] == ["CN-R-0200"]


def test_rules_are_listed_as_the_readme_shows_or_repeated(shipped: Path, tmp_path: Path) -> None:
    """Issue #21.10: `--rules A B C` was refused; `--rules A --rules B` keeps working."""
    claims = str(_interval_claims(tmp_path))
    for rules in (["CN-R-0025", "CN-R-0030"], ["CN-R-0025", "--rules", "CN-R-0030"], ["CN-R-0025,CN-R-0030"]):
        result = runner.invoke(app, ["run", "--claims", claims, "--rules", *rules, "--region", "510000", "-f", "json"])
        assert result.exit_code == 0, result.output
        assert [r["id"] for r in json.loads(result.stdout)["rules"]] == ["CN-R-0025", "CN-R-0030"]
    compiled = run_twoku("compile", "--rules", "CN-R-0017", "CN-R-0030", "--dialect", "trino", cwd=shipped)
    assert compiled.returncode == 0 and "-- CN-R-0017" in compiled.stdout and "-- CN-R-0030" in compiled.stdout
    stray = runner.invoke(app, ["run", "--claims", claims, "CN-R-0030"])
    assert stray.exit_code == 2 and "多出了参数（CN-R-0030）" in stray.output


def test_run_keeps_to_a_memory_limit_and_refuses_one_it_cannot_read(shipped: Path, tmp_path: Path) -> None:
    claims = _interval_claims(tmp_path)
    free = runner.invoke(app, ["run", "--claims", str(claims), "--region", "510000", "--format", "json"])
    kept = runner.invoke(
        app, ["run", "--claims", str(claims), "--region", "510000", "--memory", "300MB", "--format", "json"]
    )
    assert free.exit_code == 0 and kept.exit_code == 0, kept.output
    hits = [(r["id"], r["hits"]) for r in json.loads(kept.output)["rules"]]
    assert hits == [(r["id"], r["hits"]) for r in json.loads(free.output)["rules"]] and any(n for _, n in hits)
    assert (
        git(shipped, "status", "--porcelain", "--ignored") == ""
    )  # DuckDB spills to a scratch folder, never the store
    bad = runner.invoke(app, ["run", "--claims", str(claims), "--memory", "lots"])
    assert bad.exit_code == 2 and "--memory lots" in bad.output and "Traceback" not in bad.output
