"""The flat form of a rule's SQL (engine/sql.compile_rule(flat=True), what Spark runs) hits the very lines, with
the very evidence, that the nested form DuckDB runs hits.

Spark resolves a subquery's outer references one level up only.  A ``match`` whose ``where`` counts other lines
of the line's group (``other_lines``: 医疗服务项目重复收费's pairs in one visit, a drug used earlier) reads the
line two levels below it; the flat form joins the line in again beside the table row.  Here both forms run in
DuckDB over claims where every shipped rule's examples are copied at scale (benchmarks/generate_claims.py), in
two regions; tests/engine/test_spark.py runs the flat form on Spark itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from twoku.engine import duck
from twoku.engine.sql import columns_used, compile_rule, compile_rules
from twoku.model.condition import comparisons, matches
from twoku.ops.library import region_layer
from twoku.ops.ruletest import _with_example_rows
from twoku.ops.run import load_tables, rule_spec, select_rules
from twoku.ops.validate import load_store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("generate_claims", REPO / "benchmarks" / "generate_claims.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = tmp_path_factory.mktemp("claims") / "claims.parquet"
    gen.generate(path, 20_000)
    return path


@pytest.mark.parametrize("region", ["CN", "510100"])
def test_the_flat_form_hits_what_the_nested_form_hits(region: str, claims: Path, _shipped_template: Path) -> None:
    root = _shipped_template
    lib = load_store(root, use_cache=False).library
    layer = region_layer(region, lib)
    specs = [rule_spec(root, lib, r, layer) for r in select_rules(lib, layer)]
    counting = [
        s
        for s in specs
        if any(m.where is not None and any(c.measure.kind == "other_lines" for c in comparisons(m.where))
               for m in matches(s.condition))
    ]  # fmt: skip
    # the shape is the national library's own: pairs charged in one visit, drugs used before, …
    assert len(counting) >= 9, [s.rule_id for s in counting]
    # those, and every rule that counts other lines or compares two columns, compile otherwise
    differ = [s for s in specs if compile_rule(s, flat=True) != compile_rule(s)]
    assert {s.rule_id for s in counting} < {s.rule_id for s in differ}
    con = duck.connect(2)
    duck.read_claims(con, claims, columns_used(specs))
    load_tables(con, root, lib, specs, layer)
    hits = 0
    for spec in differ:
        nested = con.execute(compile_rule(spec)).fetchall()
        assert sorted(con.execute(compile_rule(spec, flat=True)).fetchall()) == sorted(nested), spec.rule_id
        hits += len(nested)
    assert hits  # at scale (a rule whose table is an empty seed has none)
    # and each rule's own examples, with the rows they give their tables: hits and misses alike
    by_example = duck.connect(1)
    load_tables(by_example, root, lib, specs, layer)
    judged = 0
    for spec in differ:
        for example in lib.get(spec.rule_id).data.get("examples") or []:
            with_rows = _with_example_rows(by_example, root, lib, spec, example)
            duck.load_lines(by_example, example["lines"])
            nested = by_example.execute(compile_rule(with_rows)).fetchall()
            assert sorted(by_example.execute(compile_rule(with_rows, flat=True)).fetchall()) == sorted(nested)
            judged += bool(nested)
    assert judged >= len(differ)


def test_the_spark_dialect_is_compiled_flat_and_the_others_nested(_shipped_template: Path) -> None:
    root = _shipped_template
    lib = load_store(root, use_cache=False).library
    layer = region_layer("CN", lib)
    specs = [rule_spec(root, lib, r, layer) for r in select_rules(lib, layer, ["CN-R-0007"])]
    # the line joined in again beside the table row, by line_id; what counts other lines reads that line
    flat = compile_rule(specs[0], flat=True)
    assert "FROM claims AS x2, kt_CN_K_0123 AS r1 WHERE x2.line_id = t.line_id" in flat
    assert "d3.patient_id = x2.patient_id" in flat and "= t.patient_id" not in flat
    assert "x2.line_id = t.line_id" in compile_rules(specs, "spark")
    assert "AS x" not in compile_rules(specs, "duckdb") and "AS x" not in compile_rules(specs, "trino")
