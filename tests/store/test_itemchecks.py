"""Checks of one item alone run with the parse and are cached by blob: the report is the same either way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests import fakes
from tests.storefactory import DRUG_FACT, LAW
from twoku.checks import run_store_checks
from twoku.ops.validate import load_store, validate

DAY = dt.date(2026, 6, 1)


def _seen(findings: list) -> list[tuple[str, str, str, tuple]]:
    return sorted((f.code, f.path, f.message, f.pointer) for f in findings)


def test_item_checks_from_the_cache_say_what_the_whole_library_checks_say(store: Path) -> None:
    # Personal data (TK801), a name field (TK802) and dates out of order (TK601); a duplicate ID in
    # the wrong place (TK301, TK302) whose placeholder (TK607) does not count: the library holds the other file.
    (store / "national/knowledge/laws/CN-K-0009.yaml").write_text(
        LAW.replace("CN-K-0001", "CN-K-0009").replace(
            "effective: 2021-05-01", "effective: 2021-05-01\nexpires: 2020-01-01"
        )
        + f"note: 参保人 {fakes.ID}\n患者姓名: 张三\n",
        encoding="utf-8",
    )
    (store / "provincial/510000/knowledge/medical/CN-K-0002.yaml").parent.mkdir(parents=True)
    (store / "provincial/510000/knowledge/medical/CN-K-0002.yaml").write_text(
        DRUG_FACT.replace("title: 阿帕他胺片说明书要点", "title: 【待填写名称】"), encoding="utf-8"
    )
    loaded = load_store(store, use_cache=False)
    loaded.library.today = DAY.isoformat()
    whole = _seen(loaded.file_findings + run_store_checks(loaded.library))
    codes = {c for c, *_ in whole}
    assert {"TK301", "TK302", "TK601", "TK801", "TK802"} <= codes and "TK607" not in codes

    cold = validate(store, use_cache=False, today=DAY)
    assert _seen(cold.findings) == whole
    validate(store, today=DAY)  # fills the cache
    (store / "national/knowledge/medical/CN-K-0002.yaml").write_text(DRUG_FACT + "# 改\n", encoding="utf-8")
    changed = validate(store, today=DAY)
    assert 0 < changed.cached < changed.checked
    assert _seen(changed.findings) == whole
