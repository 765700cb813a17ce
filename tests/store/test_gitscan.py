"""git's index names the store's files and vouches for unchanged ones; what it cannot vouch for is read."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.storefactory import LAW, git
from twoku.ops.validate import validate
from twoku.store.files import blob_id, store_paths
from twoku.store.repo import gitscan

DAY = dt.date(2026, 6, 1)


def _seen(root: Path) -> list[tuple[str, str, int | None, str]]:
    return sorted((f.code, f.path, f.line, f.message) for f in validate(root, today=DAY).findings)


def _cold(root: Path) -> list[tuple[str, str, int | None, str]]:
    return sorted((f.code, f.path, f.line, f.message) for f in validate(root, use_cache=False, today=DAY).findings)


def test_an_unchanged_store_is_named_and_vouched_for_by_git(store: Path) -> None:
    found = gitscan.scan(store)
    assert found is not None and found.unknown == []
    assert found.paths == store_paths(store)
    assert all(found.known[p] == blob_id((store / p).read_bytes()) for p in found.paths)


def test_modified_untracked_and_deleted_files_are_seen(store: Path) -> None:
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    law.write_text(law.read_text(encoding="utf-8") + "# 改\n", encoding="utf-8")
    new = store / "national/knowledge/laws/CN-K-0009.yaml"
    new.write_text(LAW.replace("CN-K-0001", "CN-K-0009"), encoding="utf-8")
    gone = next(p for p in store_paths(store) if "/rules/" in p)
    (store / gone).unlink()
    (store / "national/knowledge/laws/notes.txt").write_text("x", encoding="utf-8")
    (store / "national/.hidden").mkdir()
    (store / "national/.hidden/CN-K-0010.yaml").write_text(LAW, encoding="utf-8")
    found = gitscan.scan(store)
    assert found is not None
    assert found.paths == store_paths(store)
    assert gone not in found.paths and "national/.hidden/CN-K-0010.yaml" not in found.paths
    assert found.unknown == ["national/knowledge/laws/CN-K-0001.yaml", "national/knowledge/laws/CN-K-0009.yaml"]
    assert set(found.known) == set(found.paths) - set(found.unknown)


def test_validate_sees_each_kind_of_change_as_a_cold_run_does(store: Path) -> None:
    assert _seen(store) == _cold(store) == []
    new = store / "national/knowledge/laws/CN-K-0009.yaml"
    new.write_text(LAW.replace("CN-K-0001", "CN-K-0009").replace("status: 生效", "status: 生笑"), encoding="utf-8")
    assert ("TK201", "national/knowledge/laws/CN-K-0009.yaml") in [c[:2] for c in _seen(store)]  # untracked
    assert _seen(store) == _cold(store)
    git(store, "add", "-A")
    assert _seen(store) == _cold(store)  # now tracked (staged), the finding stays
    new.write_text(LAW.replace("CN-K-0001", "CN-K-0009"), encoding="utf-8")
    assert _seen(store) == _cold(store) == []  # modified against the index
    new.unlink()
    assert _seen(store) == _cold(store) == []  # deleted
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    law.write_text(law.read_text(encoding="utf-8") + "# 只加注释\n", encoding="utf-8")
    assert _seen(store) == _cold(store) == []  # an edit no other item can see
    law.write_text(law.read_text(encoding="utf-8").replace("status: 生效", "status: 生笑"), encoding="utf-8")
    assert _seen(store) == _cold(store) != []


def test_without_git_the_folders_are_walked(store: Path) -> None:
    assert _seen(store) == []
    shutil.rmtree(store / ".git")
    assert gitscan.scan(store) is None
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    law.write_text(law.read_text(encoding="utf-8").replace("status: 生效", "status: 生笑"), encoding="utf-8")
    assert _seen(store) == _cold(store) != []


def test_a_cold_run_on_a_git_store_parses_in_parallel(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # git's index knows every blob, but the cache holds none of them: they are parsed across the cores
    # (they were parsed one by one in the parent once git vouched for them), with the same findings.
    from twoku.ops import reading as ops

    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    law.write_text(law.read_text(encoding="utf-8").replace("status: 生效", "status: 生效\nstatus: 废止"), "utf-8")
    serial = _cold(store)
    parsed: list[list[str]] = []
    parse = ops.parse_parallel
    monkeypatch.setattr(ops, "PARALLEL_FROM", 2)
    monkeypatch.setattr(
        ops, "parse_parallel", lambda root, paths, *rest: parsed.append(paths) or parse(root, paths, *rest)
    )
    assert _seen(store) == serial and any(code == "TK102" for code, *_ in serial)
    assert parsed == [store_paths(store)]
    assert _seen(store) == serial and len(parsed) == 1  # the cache holds them now


def test_forked_parsing_gives_what_one_process_gives_even_when_a_child_fails(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twoku.ops import reading as ops

    paths = store_paths(store)
    chunks = [[path] for path in paths]  # a chunk per file: the parent and the child both take some
    alone = ops.parse_list(str(store), paths)
    told: list[tuple[int, object]] = []
    assert ops.parse_forked(str(store), chunks, True, 1, lambda n, part: told.append((n, part))) == alone
    assert sorted(told) == [(n, [found]) for n, found in enumerate(alone)]  # each chunk told once, whoever parsed it
    parent = os.getpid()
    parse = ops.parse_list

    def failing_in_a_child(root: str, chunk: list[str], index: bool = True) -> object:
        if os.getpid() != parent:
            raise RuntimeError("a child that dies")
        return parse(root, chunk, index)

    monkeypatch.setattr(ops, "parse_list", failing_in_a_child)
    told.clear()
    assert ops.parse_forked(str(store), chunks, True, 1, lambda n, part: told.append((n, part))) == alone
    assert sorted(told) == [(n, [found]) for n, found in enumerate(alone)]  # the parent parses what the child left
    assert not [p for p in Path(tempfile.gettempdir()).glob("twoku-parse-*")], "no folder left behind"


def _record(tag: str, mode: str, stage: str, path: str) -> str:
    return f"{tag} {mode} {'ab' * 20} {stage}\t{path}\0"


_PATHS = st.sampled_from(
    [
        "national/knowledge/laws/CN-K-0001.yaml",
        "national/rules/x/CN-R-0001.yml",
        "national/knowledge/codes/drugs.csv",
        "national/.hidden/CN-K-0002.yaml",
        "national/knowledge/.CN-K-0003.yaml",
        "provincial/510000/rules/a b/510000-R-0001.yaml",
        "national/H 100644 x.yaml",
        "national/sub",
        "national/knowledge/名录/CN-K-0004.yaml",
    ]
)
_RECORDS = st.lists(
    st.tuples(
        st.sampled_from(["H", "H", "H", "h", "S"]),
        st.sampled_from(["100644", "100644", "100755", "120000", "160000"]),
        st.sampled_from(["0", "0", "0", "1", "2"]),
        _PATHS,
    ),
    max_size=8,
    unique_by=lambda r: r[3],
)


@given(_RECORDS)
def test_the_quick_reading_of_git_s_index_is_the_careful_one(records: list[tuple[str, str, str, str]]) -> None:
    # The one regular expression over git's output finds what taking each record apart finds.
    staged = "".join(_record(*r) for r in records)
    assert gitscan._index(staged) == gitscan._index(staged, careful=True)


def test_a_store_with_code_tables_and_hidden_folders_is_read_by_the_one_expression() -> None:
    paths = ["national/knowledge/codes/drugs.csv", "national/.hidden/CN-K-0002.yaml", "national/r/CN-R-0001.yaml"]
    staged = "".join(_record("H", "100644", "0", p) for p in paths)
    assert gitscan._common(staged)[1] == []  # nothing left to take apart
    assert gitscan._index(staged) == ({"national/r/CN-R-0001.yaml": "ab" * 20}, set())
    assert gitscan._index(staged) == gitscan._index(staged, careful=True)


def _scan_fresh(root: Path) -> gitscan.Scan | None:
    return gitscan.scan(root)  # without a kept reading: git's index read anew


def test_the_reading_of_git_s_index_is_kept_while_git_does_not_write_its_index(store: Path, tmp_path: Path) -> None:
    keep = tmp_path / "staged"
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    first = gitscan.scan(store, keep)
    assert keep.is_file() and first == _scan_fresh(store)
    law.write_text(law.read_text(encoding="utf-8") + "# 改\n", encoding="utf-8")  # an edit: git's index unchanged
    reads = gitscan.stage_reads
    edited = gitscan.scan(store, keep)
    assert gitscan.stage_reads == reads  # taken from the kept reading
    assert edited == _scan_fresh(store) and edited is not None and edited.unknown == [str(law.relative_to(store))]
    for step in (("add", "-A"), ("commit", "-qm", "改"), ("rm", "-q", "--cached", str(law.relative_to(store)))):
        git(store, *step)  # each writes git's index: read anew, and right
        assert gitscan.scan(store, keep) == _scan_fresh(store)
    assert gitscan.stage_reads > reads


def test_a_kept_reading_of_another_index_or_a_damaged_one_is_not_used(store: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(store, other)
    git(other, "rm", "-q", "--cached", "national/knowledge/laws/CN-K-0001.yaml")
    keep = tmp_path / "staged"
    assert gitscan.scan(other, keep) is not None  # kept: the other store's reading
    assert gitscan.scan(store, keep) == _scan_fresh(store)
    keep.write_bytes(b"\x00damaged")
    assert gitscan.scan(store, keep) == _scan_fresh(store)


def test_validate_after_git_add_sees_the_staged_content(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(store)
    assert _seen(store) == []
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    law.write_text(law.read_text(encoding="utf-8").replace("status: 生效", "status: 生效\nstatus: 废止"), "utf-8")
    gitscan.prestart()  # as the console script does: git asked, the kept reading read ahead
    broken = _seen(store)
    assert "TK102" in [code for code, *_ in broken] and broken == _cold(store)
    git(store, "add", "-A")
    gitscan.prestart()
    assert _seen(store) == broken
    git(store, "commit", "-qm", "坏了")
    gitscan.prestart()
    assert _seen(store) == broken
    git(store, "reset", "-q", "--hard", "HEAD~1")  # the index and the files as before: the first summary again
    gitscan.prestart()
    assert _seen(store) == []
    law.write_text(law.read_text(encoding="utf-8") + "# 注\n", encoding="utf-8")
    gitscan.prestart()
    assert _seen(store) == [] == _cold(store)
    law.unlink()
    gitscan.prestart()
    assert _seen(store) == _cold(store) != []  # what cited it finds it gone
