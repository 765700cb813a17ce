"""Parameter placeholders in rule prose (model/prose.py): rendering and the bare-number search."""

from __future__ import annotations

import pytest

from twoku.model.prose import bare_value, parameter_words, placeholders, render, render_fields, value_words


def test_values_read_as_words_booleans_as_shi_fou() -> None:
    assert value_words(10, "天") == "10天"
    assert value_words(20, "%") == "20%"
    assert value_words(True) == "是"
    assert value_words(False, "天") == "否"
    assert value_words("季度") == "季度"
    assert value_words(["月", "年"]) == "月、年"


def test_render_uses_each_parameters_value_and_unit() -> None:
    words = parameter_words({"readmission_days": {"value": 10, "unit": "天"}, "same_diagnosis_only": {"value": False}})
    text = "出院后{{param:readmission_days}}内（仅限同一疾病：{{ param: same_diagnosis_only }}）"
    assert render(text, words) == "出院后10天内（仅限同一疾病：否）"


def test_a_placeholder_naming_no_parameter_stays_as_written() -> None:
    assert render("少于{{param:nope}}", {"days": "14天"}) == "少于{{param:nope}}"
    assert [p.name for p in placeholders("{{param:a}} {{a}} {{param:}}")] == ["a", None, None]


def test_render_fields_renders_prose_and_violations_only() -> None:
    data = {"name": "少于{{param:d}}", "violations": ["间隔{{param:d}}"], "reason": "{{param:d}}"}
    assert render_fields(data, {"d": "21天"}) == {
        "name": "少于21天",
        "violations": ["间隔21天"],
        "reason": "{{param:d}}",
    }


@pytest.mark.parametrize(
    ("text", "value", "unit", "found"),
    [
        ("出院后15天内又住院", 15, "天", "15天"),
        ("增长超过20%的", 20, "%", "20%"),
        ("出院后 24 小时内", 24, "小时", "24 小时"),
        ("出院后{{param:d}}内", 15, "天", None),  # the placeholder is the fix
        ("第15天及以后", 15, "天", None),  # an ordinal, not the threshold
        ("参照 CN-K-0015 的规定", 15, "天", None),  # part of an ID
        ("住院115天", 15, "天", None),  # part of a longer number
        ("住院15.5天", 15, "天", None),
        ("间隔15日", 15, "天", None),  # another unit: not this parameter's value
        ("上限为 3", 3, None, "3"),  # no unit: the number alone
        ("3. 统计次数", 3, None, None),  # …but not a list's numbering
        ("是否排除", True, None, None),  # booleans are words, not numbers
    ],
)
def test_bare_value(text: str, value: object, unit: str | None, found: str | None) -> None:
    assert bare_value(text, value, unit) == found


def test_prose_reworded_to_name_its_parameter_is_no_public_change() -> None:
    import datetime as dt

    from twoku.model.changes import Version, item_changes
    from twoku.model.publication import public_change

    path = "national/rules/service-rational-use/CN-R-0030.yaml"
    old = {
        "id": "CN-R-0030",
        "name": "间隔少于14天",
        "monitoring_point": "14天内重复检查的，将被标记。",
        "parameters": {"days": {"value": 14, "unit": "天"}},
        "status": "生效",
    }
    new = {**old, "name": "间隔少于{{param:days}}", "monitoring_point": "{{param:days}}内重复检查的，将被标记。"}
    (change,) = item_changes([Version(path, old)], [Version(path, new)])
    assert change.reargue  # the text changed, so the digest did
    assert public_change(change, "society", dt.date(2026, 1, 1)) is None  # but readers read the same
    local = public_change(change, "society", dt.date(2026, 1, 1), {"days": "21天"})
    assert local is not None and local.title == "间隔少于21天"
    assert [(f.path, f.old, f.new) for f in local.fields] == [
        ("name", "间隔少于14天", "间隔少于21天"),
        ("monitoring_point", "14天内重复检查的，将被标记。", "21天内重复检查的，将被标记。"),
    ]
