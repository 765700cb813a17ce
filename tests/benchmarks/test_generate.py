"""The benchmark's synthetic store is a valid store, read by the fast reader as ruamel reads it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ruamel.yaml import YAML

from tests.store.test_yamlio import _plain, _types
from twoku.ops.validate import validate
from twoku.store.documents import yamlio
from twoku.store.files import store_paths

REPO = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "benchmarks" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "store"
    counts = _generator().generate(root, 50, 200)
    assert counts["rules"] == 50 and counts["knowledge"] == 200 and counts["overrides"] > 0
    return root


def test_generated_store_validates_green(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOKU_CACHE_DIR", str(generated.parent / "cache"))
    report = validate(generated, use_cache=False)
    assert [f for f in report.findings if f.counts] == []
    assert report.checked == len(store_paths(generated)) > 250
    layers = set(report.counts)
    assert "CN" in layers and any(c.endswith("0000") and c != "CN" for c in layers)
    assert any(not c.endswith("0000") and c != "CN" for c in layers), "cities too"
    assert sum(c["override"] for c in report.counts.values()) > 0


def test_generated_store_has_two_tags_of_rule_edits_apart(generated: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=generated, capture_output=True, text=True, check=True).stdout

    changed = git("diff", "--name-only", "bench/before", "bench/after").split()
    assert changed and all("/rules/" in p for p in changed)
    assert git("status", "--porcelain") == ""


def test_generated_rules_are_realistic(generated: Path) -> None:
    rule = next(p for p in store_paths(generated) if "/rules/" in p)
    text = (generated / rule).read_text(encoding="utf-8")
    assert 35 <= text.count("\n") <= 55 and "localisable" in text and "定点" not in rule
    data, _ = yamlio.load(text.encode("utf-8"))
    assert isinstance(data["parameters"]["interval_days"]["localisable"], dict)


def test_fast_reader_reads_the_generated_store_as_ruamel_does(generated: Path) -> None:
    for path in store_paths(generated)[::3]:
        raw = (generated / path).read_bytes()
        fast, _ = yamlio.load(raw)
        rt = YAML(typ="rt").load(raw.decode("utf-8"))
        assert fast == _plain(rt), path
        assert _types(fast) == _types(rt), path
