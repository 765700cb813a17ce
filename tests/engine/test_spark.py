"""Spark runs the shipped rules as DuckDB does (engine/spark.py, ops/sparkrun.py): the same hits, line for line.

One local Spark session (two cores) serves the module; ``twoku run --engine spark`` run in this process uses
it.  The claims are 100,000 lines of benchmarks/generate_claims.py: ordinary lines, and every national
rule's examples copied at scale, so each rule has hits and near misses.  Nothing here is skipped: CI installs
Java and ``twoku[spark]`` (.ci/run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from tests.engine.test_condition import INTERVAL, _spec
from twoku.cli import app
from twoku.engine import duck
from twoku.engine import spark as engine
from twoku.engine.sql import columns_used, compile_rule
from twoku.model.condition import matches, measures
from twoku.ops.library import region_layer
from twoku.ops.run import load_tables, rule_spec, select_rules
from twoku.ops.validate import load_store

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
REPO = Path(__file__).resolve().parents[2]
LINES = 100_000
runner = CliRunner()
ROW = "rule_id, level, line_id, patient_id, visit_id, evidence"
# The command, the bundle and submit.py run a sample of the rules (every rule is compared above them): a match
# counting other lines, windows since the first and the previous line, a sum, a count, an admission gap,
# admissions spanning a line, and a rule with hundreds of hits.
SAMPLE = ("CN-R-0004", "CN-R-0007", "CN-R-0008", "CN-R-0010", "CN-R-0017", "CN-R-0018", "CN-R-0030", "CN-R-0200")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with engine.started("local[2]", {"spark.sql.shuffle.partitions": "2"}) as session:
        yield session


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("generate_claims", REPO / "benchmarks" / "generate_claims.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = tmp_path_factory.mktemp("claims") / "claims.parquet"
    assert gen.generate(path, LINES) == LINES
    return path


def _duckdb_hits(
    root: Path, claims: Path, region: str, rule_ids: tuple[str, ...] = ()
) -> dict[str, set[tuple[Any, ...]]]:
    lib = load_store(root, use_cache=False).library
    layer = region_layer(region, lib)
    specs = [rule_spec(root, lib, r, layer) for r in select_rules(lib, layer, rule_ids)]
    con = duck.connect(2)
    duck.read_claims(con, claims, columns_used(specs))
    load_tables(con, root, lib, specs, layer)
    duck.run_rules(con, specs, region)
    return _by_rule(con, [s.rule_id for s in specs])


def _by_rule(con: Any, rule_ids: list[str], sql: str = f"SELECT {ROW} FROM hits") -> dict[str, set[tuple[Any, ...]]]:
    out: dict[str, set[tuple[Any, ...]]] = {r: set() for r in rule_ids}
    for row in con.execute(sql).fetchall():
        out.setdefault(row[0], set()).add(tuple(row))
    return out


def _differences(want: dict[str, set[tuple[Any, ...]]], got: dict[str, set[tuple[Any, ...]]]) -> str:
    """Each rule whose hits differ, with the lines only one engine found."""
    out = []
    for rule_id in sorted(set(want) | set(got)):
        only_duck, only_spark = (
            want.get(rule_id, set()) - got.get(rule_id, set()),
            got.get(rule_id, set()) - want.get(rule_id, set()),
        )
        if only_duck or only_spark:
            out.append(f"{rule_id}: 仅 DuckDB 命中 {sorted(only_duck)[:10]}；仅 Spark 命中 {sorted(only_spark)[:10]}")
    return "\n".join(out)


@pytest.mark.parametrize("region", ["CN", "510100"])
def test_every_shipped_rule_hits_the_same_lines_on_spark_as_on_duckdb(
    region: str, spark: Any, claims: Path, _shipped_template: Path
) -> None:
    root = _shipped_template
    lib = load_store(root, use_cache=False).library
    layer = region_layer(region, lib)
    specs = [rule_spec(root, lib, r, layer) for r in select_rules(lib, layer)]
    kinds = {m.kind for s in specs for m in measures(s.condition)}
    # what must agree: windows over a patient's lines, admissions and their gaps, and joins to tables
    assert {"days_since_previous", "count"} & kinds and {"admission_gap", "admissions_spanning"} & kinds, kinds
    assert any(s.tables for s in specs)  # code sets: joins to the region's tables (row matches: below)
    # a match whose where counts the other lines of the line's group: Spark runs its flat form (test_flat.py)
    assert any(compile_rule(s, flat=True) != compile_rule(s) for s in specs)
    want = _duckdb_hits(root, claims, region)
    # most rules are compared on hits (a rule whose knowledge table is still an empty seed has none at scale)
    assert sum(1 for hits in want.values() if hits) >= 25, [r for r, hits in want.items() if not hits]

    driver = duck.connect(1)
    load_tables(driver, root, lib, specs, layer)
    assert engine.read_claims(spark, str(claims)) == (LINES, ())
    engine.send_tables(spark, driver, [ref.relation for s in specs for ref in s.tables.values()])
    counts = engine.run_rules(spark, driver, specs, region)
    got = _by_rule(driver, [s.rule_id for s in specs])
    assert not _differences(want, got), _differences(want, got)
    assert counts == {r: len(hits) for r, hits in want.items()}
    assert driver.execute("SELECT DISTINCT region FROM hits").fetchall() == [(region,)]


@pytest.mark.parametrize("region", ["CN", "510100"])
def test_every_shipped_indicator_gives_the_same_institution_periods_on_spark(
    region: str, spark: Any, claims: Path, _shipped_template: Path
) -> None:
    """统计指标监测类: each indicator's numerator, denominator, value, baseline and flag per institution and
    period, computed by both engines from the same lines."""
    from twoku.engine import indicator
    from twoku.ops import indicators

    root = _shipped_template
    lib = load_store(root, use_cache=False).library
    layer = region_layer(region, lib)
    measured = indicators.select_indicators(lib, layer)
    assert len(measured) >= 8  # the ZB classes and the national indicators
    con = duck.connect(2)
    duck.read_claims(con, claims, indicators.columns(root, lib, layer, measured))
    specs = indicators.specs_of(con, root, lib, layer, measured)
    want_counts = indicator.run_indicators(con, specs, region)
    want = con.execute(f"SELECT * FROM indicators ORDER BY {indicator._ORDER}").fetchall()
    assert len(want) > 50 and any(row[8] for row in want)  # institution-periods, some flagged

    driver = duck.connect(1)
    specs = indicators.specs_of(driver, root, lib, layer, measured)
    assert engine.read_claims(spark, str(claims))[0] == LINES
    engine.send_tables(spark, driver, [ref.relation for s in specs for ref in s.tables.values()])
    assert engine.run_indicators(spark, driver, specs, region) == want_counts
    got = driver.execute(f"SELECT * FROM indicators ORDER BY {indicator._ORDER}").fetchall()
    assert [row[:4] + row[8:] for row in got] == [row[:4] + row[8:] for row in want]
    for mine, theirs in zip(got, want, strict=True):  # sums in another order: equal to the fourth decimal
        assert mine[4:8] == pytest.approx(theirs[4:8], abs=1e-4, nan_ok=True), mine


def test_rules_that_match_table_rows_hit_the_same_lines_on_spark(spark: Any, shipped: Path, tmp_path: Path) -> None:
    """The joins of tests/engine/test_table_joins.py (a row's limits, prefixes, pairs in one visit, a window
    per matched row, every line in the table, a drug used earlier): their examples, on both engines."""
    from tests.engine import test_table_joins as joins

    made = [
        joins.test_attribute_limits_sex_age_insurance_visit_type_and_level,
        joins.test_an_item_that_requires_a_diagnosis_from_its_rows,
        joins.test_pairs_charged_together_in_one_visit,
        joins.test_per_item_maximum_days_over_a_window,
        joins.test_every_line_of_the_prescription_is_in_the_table,
        joins.test_a_first_line_drug_used_earlier,
    ]
    for make in made:
        make(shipped)
    rule_ids = [f"CN-R-09{n:02d}" for n in range(1, len(made) + 1)]
    lib = load_store(shipped, use_cache=False).library
    layer = region_layer("CN", lib)
    specs = [rule_spec(shipped, lib, r, layer) for r in select_rules(lib, layer, rule_ids)]
    assert all(any(True for _ in matches(s.condition)) for s in specs)
    lines = []  # every example once, its patients and visits its own (as benchmarks/generate_claims.py copies them)
    for rule in select_rules(lib, layer, rule_ids):
        for n, example in enumerate(rule.data["examples"]):
            tag = f"{rule.id}-{n}-"
            for line in example["lines"]:
                ids = {k: tag + str(line[k]) for k in ("line_id", "patient_id", "visit_id") if line.get(k)}
                lines.append({**line, **ids})
    con = duck.connect(1)
    duck.load_lines(con, lines)
    claims = tmp_path / "examples.parquet"
    con.execute(f"COPY claims TO '{claims}' (FORMAT parquet)")
    load_tables(con, shipped, lib, specs, layer)
    duck.run_rules(con, specs, "CN")
    want = _by_rule(con, rule_ids)
    assert all(want.values()), want
    driver = duck.connect(1)
    load_tables(driver, shipped, lib, specs, layer)
    assert engine.read_claims(spark, str(claims))[0] == len(lines)
    engine.send_tables(spark, driver, [ref.relation for s in specs for ref in s.tables.values()])
    # pairs in one visit and a drug used earlier count other lines inside the match: the flat form
    assert {s.rule_id for s in specs if compile_rule(s, flat=True) != compile_rule(s)} == {"CN-R-0903", "CN-R-0906"}
    engine.run_rules(spark, driver, specs, "CN")
    got = _by_rule(driver, rule_ids)
    assert not _differences(want, got), _differences(want, got)


def test_a_rule_of_a_code_set_and_a_window_runs_in_spark_as_compiled(spark: Any) -> None:
    rows = [("L1", "P", "003104010220000", "2025-01-01", 1.0), ("L2", "P", "003104010220000", "2025-01-05", 1.0)]
    frame = spark.createDataFrame(
        rows, "line_id string, patient_id string, item_code string, service_date string, quantity double"
    )
    frame = frame.selectExpr("*", "CAST(NULL AS STRING) AS visit_id").withColumn(
        "service_date", frame.service_date.cast("date")
    )
    frame.createOrReplaceTempView("claims")
    spark.createDataFrame([("003104010220000", "平衡试验")], "code string, name string").createOrReplaceTempView(
        "kt_CN_K_0033"
    )
    assert [r.line_id for r in spark.sql(engine.rule_sql(_spec(INTERVAL))).collect()] == ["L2"]
    assert [r.line_id for r in spark.sql(engine.rule_sql(_spec(INTERVAL, {"min_interval_days": 3}))).collect()] == []


def _run(*args: str) -> Any:
    return runner.invoke(app, ["run", *args, "--format", "json"])


def test_twoku_run_on_spark_writes_the_hits_and_the_summary_duckdb_writes(
    spark: Any, claims: Path, shipped: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "claims"  # a folder of part files, as a cluster stores a table
    folder.mkdir()
    shutil.copy(claims, folder / "part-00000.parquet")
    sample = ["--region", "510100", "--rules", *SAMPLE, "CN-R-0023", "CN-R-0300"]  # and two indicators
    by_duck = _run("--claims", str(claims), *sample, "--out", str(tmp_path / "duck.csv"))
    by_spark = _run(
        "--engine", "spark", "--master", "local[2]", "--conf", "spark.sql.shuffle.partitions=2",
        "--claims", folder.as_uri(), *sample, "--out", str(tmp_path / "spark.csv"),
    )  # fmt: skip
    assert by_spark.exit_code == 0, by_spark.output
    duck_summary, spark_summary = json.loads(by_duck.stdout), json.loads(by_spark.stdout)
    assert spark_summary["engine"] == "spark" and duck_summary["engine"] == "duckdb"
    for key in ("region", "lines", "hits", "rules", "ignored_columns", "indicators"):
        assert spark_summary[key] == duck_summary[key], key
    assert spark_summary["hits"] > 0 and spark_summary["claims"] == folder.as_uri()
    assert [i["id"] for i in spark_summary["indicators"]] == ["CN-R-0023", "CN-R-0300"]
    # the same files, byte for byte: same rows in the same order, the same evidence, the same CSV escaping
    # (the driver writes Spark's hits as DuckDB writes its own: .parquet and .json alike), and the
    # indicators' institution-periods beside them
    assert (tmp_path / "duck.csv").read_bytes() == (tmp_path / "spark.csv").read_bytes()
    indicators = (tmp_path / "duck.indicators.csv").read_bytes()
    assert indicators.count(b"\n") > 10 and (tmp_path / "spark.indicators.csv").read_bytes() == indicators


def test_spark_reads_parquet_and_says_so_of_anything_else(spark: Any, shipped: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "claims.csv"
    csv_file.write_text("line_id,patient_id,item_code,service_date\nL1,P,X,2025-01-01\n", encoding="utf-8")
    result = _run("--engine", "spark", "--claims", str(csv_file))
    assert result.exit_code == 2 and "读取 Parquet" in result.output and "Traceback" not in result.output
    result = _run("--engine", "spark", "--claims", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "找不到结算明细" in result.output
    result = _run("--engine", "spark", "--claims", str(csv_file), "--conf", "spark.executor.memory")
    assert result.exit_code == 2 and "键=值" in result.output
    result = _run("--claims", str(csv_file), "--master", "local[2]")
    assert result.exit_code == 2 and "只用于 --engine spark" in result.output
    result = _run("--engine", "spark", "--claims", str(csv_file), "--threads", "2")
    assert result.exit_code == 2 and "只用于 DuckDB" in result.output


def _twoku(args: list[str], env: dict[str, str], cwd: Path, preamble: str = "") -> subprocess.CompletedProcess[str]:
    code = f"import sys; {preamble}from twoku.cli import main; sys.argv = ['twoku', *{args!r}]; main()"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_a_missing_java_or_pyspark_is_named_with_the_step_that_installs_it(shipped: Path, tmp_path: Path) -> None:
    args = ["run", "--engine", "spark", "--claims", str(tmp_path / "claims.parquet")]
    no_java = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {"PATH": str(tmp_path / "bin")}
    result = _twoku(args, no_java, shipped)
    assert result.returncode == 1, result.stderr
    assert "找不到 Java" in result.stderr and "openjdk-17-jre-headless" in result.stderr
    assert "Traceback" not in result.stderr
    # an interpreter where pyspark cannot be imported (as where the extra was not installed)
    result = _twoku(args, dict(os.environ), shipped, preamble="sys.modules['pyspark'] = None; ")
    assert result.returncode == 1 and "未安装 PySpark" in result.stderr and "twoku[spark]" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_spark_bundle_runs_unchanged_in_spark_sql(claims: Path, shipped: Path, tmp_path: Path) -> None:
    """``twoku compile --dialect spark --out DIR`` as a cluster runs it: Spark's own spark-sql, in the folder."""
    import pyspark

    bundle = tmp_path / "bundle"
    args = ["compile", "--dialect", "spark", "--region", "510100", "--rules", *SAMPLE, "--out", str(bundle)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()}
    init = tmp_path / "claims.sql"  # claims as the site has them: here a view of the generated Parquet
    init.write_text(f"CREATE TEMPORARY VIEW claims USING parquet OPTIONS (path '{claims}');\n", encoding="utf-8")
    spark_sql = Path(pyspark.__file__).parent / "bin" / "spark-sql"
    env = dict(os.environ, SPARK_HOME=str(Path(pyspark.__file__).parent))
    done = subprocess.run(
        [str(spark_sql), "--master", "local[2]", "--conf", "spark.sql.shuffle.partitions=2", "-i", str(init), "-f", "bundle.sql"],
        cwd=bundle, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file() and p.name in before} == before
    got_rows = duckdb.sql(f"SELECT {ROW} FROM read_parquet('{bundle}/spark-warehouse/hits/*.parquet')").fetchall()
    rule_ids = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["rules"]
    got: dict[str, set[tuple[Any, ...]]] = {r: set() for r in rule_ids}
    for row in got_rows:
        got[row[0]].add(tuple(row))
    want = _duckdb_hits(shipped, claims, "510100", SAMPLE)
    assert not _differences(want, got), _differences(want, got)
    assert sum(map(len, got.values())) > 100


def test_the_spark_bundle_runs_unchanged_as_spark_submit_runs_its_submit_py(
    spark: Any, claims: Path, shipped: Path, tmp_path: Path
) -> None:
    """``spark-submit submit.py --bundle … --claims … --out …``: the bundle's own script, on the module's session."""
    bundle = tmp_path / "bundle"
    args = ["compile", "--dialect", "spark", "--region", "510100", "--rules", *SAMPLE, "--out", str(bundle)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    spec = importlib.util.spec_from_file_location("submit", bundle / "submit.py")
    assert spec and spec.loader
    submit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(submit)
    hits = submit.run(spark, str(claims), f"file://{tmp_path}/hits", f"file://{bundle}")
    got = _by_rule(duckdb, [], f"SELECT {ROW} FROM read_parquet('{tmp_path}/hits/*.parquet')")
    want = _duckdb_hits(shipped, claims, "510100", SAMPLE)
    assert not _differences(want, got), _differences(want, got)
    assert hits == sum(map(len, want.values())) > 100
