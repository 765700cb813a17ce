"""The benchmark's knowledge tables (benchmarks/generate_tables.py): sealed, typed, long-format tables that
validate green, and rules joining them whose hits the literal-IN reference of run_tables.py finds too."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from twoku.ops.validate import validate

REPO = Path(__file__).resolve().parents[2]


def _module(name: str) -> ModuleType:
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tabled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("bench-tables") / "store"
    counts = _module("generate").generate(root, 50, 200, table_rows=2000, tables=4)
    return root, counts


def test_the_tables_hold_the_rows_and_points_asked_for_and_validate_green(
    tabled: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, counts = tabled
    assert counts["tables"] == 4 and counts["table_rows"] == 2000 and counts["points"] == 500
    files = sorted((root / "national/knowledge/medical").glob("*.csv"))
    assert len(files) == 4
    tables = [list(csv.reader(f.open(encoding="utf-8")))[1:] for f in files]  # the headers aside
    assert sum(len(rows) for rows in tables) == 2000
    assert sum(len({row[0] for row in rows}) for rows in tables) == 500  # long format: points of several codes
    monkeypatch.setenv("TWOKU_CACHE_DIR", str(root.parent / "cache"))
    report = validate(root, use_cache=False)
    assert [(f.code, f.path, f.message) for f in report.findings if f.counts] == []


def test_the_rules_join_every_table_and_the_literal_in_form_finds_the_same_hits(
    tabled: tuple[Path, dict[str, int]],
) -> None:
    root, _ = tabled
    run_tables = _module("run_tables")
    figures = run_tables.run_figures(root, 4000, 4000, root.parent)
    assert figures["rules"] == 4 and figures["tables"] == 4
    assert figures["join_hits"] > 0  # and run_figures refuses hits that differ rule by rule
