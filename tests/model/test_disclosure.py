"""Disclosure by schema annotation: what each audience may see of an item (第十二条)."""

from __future__ import annotations

from typing import Any

from twoku.model.disclosure import HIDDEN, at_path, visible, visible_item

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"x-twoku-disclosure": "society"},
        "contact": {"x-twoku-disclosure": "institutions"},
        "notes": {"x-twoku-disclosure": "internal"},
        "people": {
            "x-twoku-disclosure": "society",
            "items": {
                "type": "object",
                "properties": {"role": {"x-twoku-disclosure": "society"}, "name": {"x-twoku-disclosure": "internal"}},
            },
        },
        "parameters": {"x-twoku-disclosure": "society", "type": "object"},  # any key, as its parent
    },
}
DATA = {
    "name": "分解住院",
    "contact": "医保科",
    "notes": "内部",
    "people": [{"role": "主审", "name": "张三"}],
    "parameters": {"days": 10},
    "undeclared": "不在 schema 中",
}


def test_institutions_see_society_and_institutions_fields() -> None:
    assert visible(SCHEMA, DATA, "institutions") == {
        "name": "分解住院",
        "contact": "医保科",
        "people": [{"role": "主审"}],
        "parameters": {"days": 10},
    }


def test_society_sees_only_society_fields() -> None:
    assert visible(SCHEMA, DATA, "society") == {
        "name": "分解住院",
        "people": [{"role": "主审"}],
        "parameters": {"days": 10},
    }


def test_internal_value_alone_is_hidden() -> None:
    assert visible(SCHEMA["properties"]["notes"], "内部", "institutions") is HIDDEN


def test_real_schemas_keep_back_notes_digests_and_participants() -> None:
    override = {"id": "510000-O-0001", "target": "CN-R-0017", "base_digest": "sha256:" + "0" * 64, "notes": "x",
                "parameters": {"readmission_days": 10}, "reason": "本省要求", "status": "生效"}  # fmt: skip
    assert visible_item("override", override, "society") == {
        "id": "510000-O-0001", "target": "CN-R-0017", "parameters": {"readmission_days": 10},
        "reason": "本省要求", "status": "生效",
    }  # fmt: skip
    record = {"id": "CN-A-0001", "kind": "业务论证", "participants": [{"name": "张三"}], "opinions": ["意见"]}
    assert visible_item("argumentation", record, "institutions") == {"id": "CN-A-0001", "kind": "业务论证"}


def test_path_labels_and_hidden_paths() -> None:
    node, labels = at_path("rule", "parameters.readmission_days.value", "society")
    assert node is not None and labels == ["参数", "readmission_days", "取值"]
    assert at_path("rule", "basis[CN-K-0001].article", "society")[1] == ["依据", "CN-K-0001", "条款"]
    assert at_path("rule", "notes", "institutions")[0] is None
    assert at_path("override", "base_digest", "institutions")[0] is None
    assert at_path("rule", "no_such_field", "institutions")[0] is None
