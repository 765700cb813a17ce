"""After a few files changed, validate checks again only what they can touch (model/scope.py),
and finds exactly what a check of the whole store finds.

Random edits of every kind that relates items (citations, IDs, duplicates, deprecations, cycles,
overrides, argumentation records, deleted and added files, broken YAML) are applied round after
round to real git stores; after each round the re-check must agree with a full check, finding for
finding, and must not have fallen back to reading the whole store.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.test_generate import generated  # noqa: F401  (a fixture: the benchmark's store, small)
from twoku.model.scope import DATA, FACADE, Index, affected, odd, references
from twoku.ops import validate as ops
from twoku.store.documents import yamlio
from twoku.store.documents.edit import dump
from twoku.store.files import store_paths

TODAY = dt.date(2026, 11, 26)
EDITS = [
    *("title", "cite", "cite-missing", "deprecate", "supersede", "id", "duplicate", "delete", "add", "param"),
    *("digest", "status", "comment", "break", "cycle"),
]


def _findings(root: Path, use_cache: bool) -> tuple[Any, ...]:
    """What a report says: every finding, the items per layer and kind, the files checked."""
    report = ops.validate(root, use_cache=use_cache, today=TODAY)
    return (
        sorted((f.code, f.path, f.line, f.severity, f.message) for f in report.findings),
        report.counts,
        report.checked,
    )


def _items(root: Path) -> list[str]:
    return [p for p in store_paths(root) if "/" in p and not p.endswith(".csv")]


def _edit(root: Path, rng: random.Random) -> str:
    """One random edit of the store; returns what it did (for the failure message)."""
    paths = _items(root)
    path = rng.choice(paths)
    file = root / path
    try:
        data, _ = yamlio.load_json(file.read_bytes())
    except yamlio.YamlProblem:
        file.write_text("id: 修好了\n", encoding="utf-8")
        return f"rewrite broken {path}"
    if not isinstance(data, dict):
        return "nothing"
    ids = [i for p in paths if isinstance(i := _id_of(root / p), str)]
    how = rng.choice(EDITS)
    if how == "title":
        data["title" if "title" in data else "name"] = f"修订{rng.randint(1, 99)}"
    elif how in ("cite", "cite-missing", "cycle"):
        target = rng.choice(ids) if how != "cite-missing" else "CN-K-9999"
        data["basis"] = [*(data.get("basis") or []), {"id": target}]
        if how == "cycle" and (root / _path_of(root, target)).is_file():
            other_path = root / _path_of(root, target)
            other, _ = yamlio.load_json(other_path.read_bytes())
            if isinstance(other, dict):
                other["basis"] = [*(other.get("basis") or []), {"id": data.get("id")}]
                other_path.write_text(dump(other), encoding="utf-8")
    elif how == "deprecate":
        data.update(status="废弃", deprecated={"date": "2026-01-01", "reason": "测试"})
    elif how == "supersede":
        data["superseded_by"] = rng.choice(ids)
    elif how == "id":
        data["id"] = rng.choice(ids)
    elif how == "duplicate":
        copy = file.with_name(f"copy{rng.randint(1, 999)}-{file.name}")
        copy.write_text(dump(data), encoding="utf-8")
        return f"{how} {path}"
    elif how == "delete":
        file.unlink()
        return f"{how} {path}"
    elif how == "add":
        new_id = data.get("id", "")[:-2] + f"{rng.randint(10, 99)}" if rng.random() < 0.8 else "CN-K-12x"
        data = {**data, "id": new_id, "basis": [{"id": rng.choice(ids)}]}
        file.with_name(f"new{rng.randint(1, 999)}.yaml").write_text(dump(data), encoding="utf-8")
        return f"{how} beside {path}"
    elif how == "param" and isinstance(data.get("parameters"), dict) and data["parameters"]:
        name = rng.choice(sorted(data["parameters"]))
        value = data["parameters"][name]
        if isinstance(value, dict):
            value["value"] = rng.randint(0, 500)
        else:
            data["parameters"][name] = rng.randint(0, 500)
    elif how == "digest" and isinstance(data.get("subjects"), list) and data["subjects"]:
        data["subjects"][0]["digest"] = "sha256:" + "0" * 64
    elif how == "status":
        data["status"] = rng.choice(["草稿", "生效", "已论证"])
    elif how == "comment":
        file.write_text("# 复核\n" + file.read_text(encoding="utf-8"), encoding="utf-8")
        return f"{how} {path}"
    elif how == "break":
        file.write_text(file.read_text(encoding="utf-8") + "坏: [\n", encoding="utf-8")
        return f"{how} {path}"
    file.write_text(dump(data), encoding="utf-8")
    return f"{how} {path}"


def _id_of(path: Path) -> object:
    try:
        data, _ = yamlio.load_json(path.read_bytes())
    except yamlio.YamlProblem:
        return None
    return data.get("id") if isinstance(data, dict) else None


def _path_of(root: Path, item_id: str) -> str:
    return next((p for p in _items(root) if _id_of(root / p) == item_id), "missing")


def _rounds(root: Path, seed: int, rounds: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWOKU_CACHE_DIR", str(tmp_path / f"cache-{seed}"))
    full_loads = []
    real_load = ops._load
    monkeypatch.setattr(ops, "_load", lambda *a, **k: full_loads.append(1) or real_load(*a, **k))
    rng = random.Random(seed)
    assert _findings(root, True) == _findings(root, False)
    done = []
    for _ in range(rounds):
        edits = [_edit(root, rng) for _ in range(rng.randint(1, 3))]
        done += edits
        full_loads.clear()
        patched = _findings(root, True)
        # An edit of a knowledge item with a table (its CSV beside it) is checked whole, by design (ops/recheck._tabled).
        table_ids = {csv.stem for csv in root.rglob("*.csv")}
        edited = [root / e.rsplit(" ", 1)[-1] for e in edits]
        tabled = any(p.with_suffix(".csv").exists() or (p.exists() and _id_of(p) in table_ids) for p in edited)
        if not tabled and not any(odd(i) for p in _items(root) if isinstance(i := _id_of(root / p), str)):
            assert not full_loads, f"the re-check read the whole store after: {done}"
        assert patched == _findings(root, False), f"after: {done}"


@pytest.mark.parametrize("seed", [1, 2])
def test_rechecks_of_the_shipped_store_find_what_a_full_check_finds(
    shipped: Path, seed: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _rounds(shipped, seed, 8, monkeypatch, tmp_path)


def test_rechecks_of_a_store_outside_git_find_what_a_full_check_finds(
    shipped: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "plain"
    shutil.copytree(shipped, root, ignore=shutil.ignore_patterns(".git"))  # files known by size and mtime only
    _rounds(root, 3, 6, monkeypatch, tmp_path)


def test_rechecks_of_the_generated_store_find_what_a_full_check_finds(
    generated: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    shutil.copytree(generated, root, symlinks=True)
    _rounds(root, 7, 8, monkeypatch, tmp_path)


def test_the_scope_of_an_edit_follows_references_not_the_store() -> None:
    knowledge = [f"national/knowledge/laws/k{n}.yaml" for n in range(6)]
    paths = [
        *knowledge,
        "national/rules/drug-policy/r.yaml",
        "argumentation/a.yaml",
        "provincial/510000/overrides/o.yaml",
    ]
    ids = ["K1", "K2", "K3", "K4", "K5", "K6", "R1", "A1", "O1"]
    kinds = ["knowledge"] * 6 + ["rule", "argumentation", "override"]
    refs = ["K2", "K3", "", "", "K4", "", "K1", "R1", "R1"]
    index = Index(paths, ids, kinds, refs)
    k0, k1, k2, _, _, k5, r, a, o = paths

    def recheck(path: str, before: tuple[str, str], how: int) -> set[str]:
        return affected(index, {path: before}, {path: how}).recheck

    # K3 made deprecated: K2 names it (checked again), K1 only through K2 (not); K3 is downstream of itself.
    found = affected(index, {k2: ("K3", "")}, {k2: FACADE})
    assert found.recheck == {k1, k2}
    assert found.cycles == {k2}
    assert k0 not in found.needed and r not in found.needed
    # K3's summary edited: nothing others see of it changed, so only K3 is checked again.
    assert recheck(k2, ("K3", ""), DATA) == {k2}
    # R1 edited: its override names it (checked again), and its record, for R1 alone; the knowledge it cites
    # is needed, not checked again.
    found = affected(index, {r: ("R1", "K1")}, {r: FACADE})
    assert found.recheck == {r, o}
    assert found.partial == {a: {"R1"}}
    assert k0 in found.needed and a in found.needed and k5 not in found.needed
    # The record edited: the rule it names is checked again (its TK603 depends on the record).
    assert recheck(a, ("A1", "R1"), DATA) == {a, r}


def test_references_are_every_id_mentioned() -> None:
    text = "CN-K-0001\n依据 510000-K-0002 第三条\nCN-annual-2025\nCN-K-0001\nabc"
    assert references(text) == "510000-K-0002 CN-K-0001 CN-annual-2025"


def test_a_store_of_its_configuration_alone_then_its_first_items(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The state's columns of fingerprints hold only "" while no file is an item; the first items widen them.
    monkeypatch.setenv("TWOKU_CACHE_DIR", str(store.parent / "cache-first"))
    kept = {p: (store / p).read_bytes() for p in store_paths(store) if p != "twoku.yaml"}
    for path in kept:
        (store / path).unlink()
    assert _findings(store, True) == _findings(store, False)
    for path, raw in list(kept.items())[:3]:
        (store / path).write_bytes(raw)
    assert _findings(store, True) == _findings(store, False)
    for path, raw in kept.items():
        (store / path).write_bytes(raw)
    assert _findings(store, True) == _findings(store, False)
