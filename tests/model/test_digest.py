"""The content digest ignores formatting and lifecycle, and sees every normative change."""

from __future__ import annotations

from tests.storefactory import RULE, digest_of


def test_reformatting_keeps_the_digest() -> None:
    reformatted = (
        RULE.replace("scenarios: [支付审核, 稽核]", "scenarios:\n  - 稽核   # 顺序无关\n  - '支付审核'")
        .replace("name: 分解住院", 'name: "分解住院"')
        .replace("id: CN-R-0001\n", "# 注释\nid: CN-R-0001\n")
    )
    # keys in another order
    lines = reformatted.splitlines(keepends=True)
    head, rest = lines[:2], lines[2:]
    reordered = "".join([*head[::-1], *rest])
    assert digest_of(reordered) == digest_of(RULE)


def test_lifecycle_fields_do_not_change_the_digest() -> None:
    changed = RULE.replace("status: 已论证", "status: 生效").replace("effective: 2024-01-01", "effective: 2025-01-01")
    assert digest_of(changed) == digest_of(RULE)


def test_a_threshold_changes_the_digest() -> None:
    assert digest_of(RULE.replace("value: 15", "value: 14")) != digest_of(RULE)


def test_a_new_scenario_or_article_changes_the_digest() -> None:
    assert digest_of(RULE.replace("[支付审核, 稽核]", "[支付审核, 稽核, 协议考核]")) != digest_of(RULE)
    assert digest_of(RULE.replace("article: 第十五条", "article: 第十六条")) != digest_of(RULE)


def test_nfc_normalisation() -> None:
    decomposed = RULE.replace("分解住院", "分解住院\u0301")
    composed = RULE.replace("分解住院", "分解住院\u0301".replace("\u0301", "\u0301"))
    assert digest_of(decomposed) == digest_of(composed)
    assert digest_of(RULE.replace("定义。", "定义。\u00e9")) == digest_of(RULE.replace("定义。", "定义。e\u0301"))


def test_the_digest_is_documented_canonical_json() -> None:
    import hashlib
    import json

    from twoku.model.digest import content_digest

    item = {"id": "X", "status": "生效", "name": "é", "scenarios": ["稽核", "事前提醒"], "n": 14}
    text = json.dumps(
        {"n": 14, "name": "é", "scenarios": sorted(["稽核", "事前提醒"])},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    assert content_digest(item) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
