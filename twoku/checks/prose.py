"""Rule prose names its parameters by placeholder, so what institutions read states the region's values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twoku.checks.registry import finding, item_check
from twoku.model.findings import WARNING, Finding, Pointer
from twoku.model.library import Item
from twoku.model.prose import PROSE_FIELDS, SYNTAX, bare_number, number_text, placeholders


def _texts(data: Mapping[str, Any]) -> Iterator[tuple[Pointer, str]]:
    for key in PROSE_FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            yield (key,), value
        elif isinstance(value, list):
            for n, entry in enumerate(value):
                if isinstance(entry, str):
                    yield (key, n), entry


def _parameters(data: Mapping[str, Any]) -> Mapping[str, Any]:
    params = data.get("parameters")
    return params if isinstance(params, Mapping) else {}


@item_check("TK409", "prose-bare-parameter-value", WARNING)
def prose_bare_value(item: Item) -> Iterator[Finding]:
    """规则的文字（名称、定义、监控要点、逻辑、违规情形）把参数的取值直接写成数字，而不是引用参数。

    定点医药机构读到的文字须与本地取值一致（第十二条）：下级本地化参数后，写死的数字就与本地标准矛盾。
    文字中用占位符 ``{{param:参数名}}`` 引用参数，show、publish 和变更公告按地区的生效取值及单位显示。
    坏：``monitoring_point: 出院后15天内又因同一疾病住院的……``（readmission_days 为 15 天）
    好：``monitoring_point: 出院后{{param:readmission_days}}内又在本院住院的……``
    """
    if item.kind != "rule":
        return
    numeric = []
    for name, spec in _parameters(item.data).items():
        number = number_text(spec.get("value")) if isinstance(spec, Mapping) else None
        if number is not None:
            unit = spec.get("unit")
            numeric.append((name, number, unit if isinstance(unit, str) else None))
    if not numeric:
        return
    for pointer, text in _texts(item.data):
        for name, number, unit in numeric:
            written = bare_number(text, number, unit) if number in text else None
            if written is not None:
                yield finding(
                    "TK409",
                    f"文字中的“{written}”是参数 {name} 的取值，下级本地化后与本地标准不符",
                    item.path,
                    pointer,
                    item.id,
                    f"改写为 {{{{param:{name}}}}}，显示时按地区的生效取值和单位代入",
                )


@item_check("TK410", "prose-unknown-parameter")
def prose_unknown_placeholder(item: Item) -> Iterator[Finding]:
    """规则文字中的占位符没有指向本规则的参数：参数名拼错、参数已删除，或不是 {{param:参数名}} 的写法。

    这样的占位符无法代入取值，会原样出现在公开摘要中。
    坏：``logic: 间隔少于{{param:min_interval_day}}的……``（参数名为 min_interval_days）
    好：``logic: 间隔少于{{param:min_interval_days}}的……``
    """
    if item.kind != "rule":
        return
    params = _parameters(item.data)
    for pointer, text in _texts(item.data):
        for placeholder in placeholders(text):
            if placeholder.name is None:
                message, hint = f"占位符 {placeholder.text} 不是 {SYNTAX} 的写法", f"写成 {SYNTAX}"
            elif placeholder.name not in params:
                known = "、".join(str(k) for k in params) or "（本规则没有参数）"
                message, hint = (
                    f"占位符 {placeholder.text} 引用的参数 {placeholder.name} 不存在",
                    f"本规则的参数：{known}",
                )
            else:
                continue
            yield finding("TK410", message, item.path, pointer, item.id, hint)
