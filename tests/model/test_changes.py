"""model/changes: items paired by ID, classified per item, on parsed data."""

from __future__ import annotations

from twoku.model.changes import Version, item_changes

RULE = {"id": "CN-R-0001", "name": "分解住院", "uses": ["稽核", "支付审核"], "status": "生效"}
PATH = "national/rules/actor-supervision/CN-R-0001.yaml"


def test_same_data_in_another_order_is_no_change() -> None:
    same = {"status": "生效", "uses": ["支付审核", "稽核"], "name": "分解住院", "id": "CN-R-0001"}
    assert item_changes([Version(PATH, RULE)], [Version(PATH, same)]) == []


def test_a_file_renamed_to_another_id_is_a_removal_and_an_addition() -> None:
    other = {**RULE, "id": "CN-R-0002"}
    found = item_changes([Version(PATH, RULE)], [Version(PATH.replace("0001", "0002"), other)])
    assert [(c.id, c.change) for c in found] == [("CN-R-0002", "added"), ("CN-R-0001", "removed")]


def test_deprecation_is_not_normative_but_a_new_scenario_is() -> None:
    deprecated = {**RULE, "status": "废弃", "deprecated": {"date": "2026-01-01", "reason": "并入"}}
    (change,) = item_changes([Version(PATH, RULE)], [Version(PATH, deprecated)])
    assert change.change == "deprecated" and not change.reargue
    wider = {**RULE, "uses": [*RULE["uses"], "协议考核"]}
    (change,) = item_changes([Version(PATH, RULE)], [Version(PATH, wider)])
    assert change.change == "modified" and change.reargue
    assert [(c.path, c.kind, c.new) for c in change.changes] == [("uses", "added", "协议考核")]


def test_files_that_are_not_library_items_are_ignored() -> None:
    record = {"id": "CN-annual-2025", "status": "已完成"}
    assert item_changes([], [Version("adjustments/CN-annual-2025.yaml", record)]) == []
