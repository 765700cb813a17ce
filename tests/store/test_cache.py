"""The validate cache: an unchanged store is answered from it, any change is seen."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from twoku.ops.validate import validate

DAY = dt.date(2026, 6, 1)


def _codes(root: Path) -> list[tuple[str, str, int | None]]:
    return sorted((f.code, f.path, f.line) for f in validate(root, today=DAY).findings if f.counts)


def test_an_unchanged_store_is_answered_from_the_cache(shipped: Path) -> None:
    cold = validate(shipped, use_cache=False, today=DAY)
    validate(shipped, today=DAY)
    warm = validate(shipped, today=DAY)
    assert warm.cached == warm.checked == cold.checked
    assert warm.findings == cold.findings and warm.counts == cold.counts
    narrowed = validate(shipped, [shipped / "provincial"], region="510000", today=DAY)
    assert narrowed.checked < cold.checked and set(narrowed.counts) == {"510000"}


def test_an_edit_of_the_same_size_right_after_a_run_is_seen(shipped: Path) -> None:
    path = shipped / "national/knowledge/laws/CN-K-0004.yaml"
    assert _codes(shipped) == []
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: 生效", "status: 生笑", 1), encoding="utf-8")  # same byte count
    assert ("TK201", "national/knowledge/laws/CN-K-0004.yaml", 8) in _codes(shipped)


def test_an_edit_keeping_size_and_mtime_of_an_old_file_is_not_trusted_blindly(shipped: Path) -> None:
    path = shipped / "national/knowledge/laws/CN-K-0004.yaml"
    old = 1_600_000_000_000_000_000
    os.utime(path, ns=(old, old))
    assert _codes(shipped) == []
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: 生效", "status: 生笑", 1), encoding="utf-8")
    os.utime(path, ns=(old + 1, old + 1))  # another tick: a real edit always moves mtime
    assert [c for c, p, _ in _codes(shipped) if p.endswith("CN-K-0004.yaml")] == ["TK201"]


def test_a_changed_code_table_is_seen_though_no_yaml_changed(shipped: Path) -> None:
    assert _codes(shipped) == []
    table = shipped / "national/knowledge/codes/CN-K-0038.csv"
    table.write_text(table.read_text(encoding="utf-8") + "不是代码,x,\n", encoding="utf-8")
    assert "TK406" in [c for c, _, _ in _codes(shipped)]


def test_a_damaged_cache_is_no_cache(shipped: Path) -> None:
    before = _codes(shipped)
    for part in Path(os.environ["TWOKU_CACHE_DIR"]).iterdir():
        part.write_bytes(b"\x00garbage")
    assert _codes(shipped) == before
