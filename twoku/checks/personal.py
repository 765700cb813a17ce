"""TK8xx: personal data — 第二十二条 forbids leaking data; the libraries hold none."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from twoku.checks.registry import finding, item_check, text_of, walk
from twoku.model.findings import WARNING, Finding
from twoku.model.library import Item
from twoku.model.personal import NAME_KEYS, might_be_personal, personal_data

# Two words that every name key contains (patient_name, 参保人姓名…): two searches of an item's words
# instead of one per key, before looking for the keys themselves.
_NAME_HINTS: tuple[str, ...] = ("姓名", "_name")
if not all(any(hint in key for hint in _NAME_HINTS) for key in NAME_KEYS):
    _NAME_HINTS = tuple(NAME_KEYS)


@item_check("TK801", "personal-data", WARNING)
def personal_values(item: Item) -> Iterator[Finding]:
    """文件中出现疑似个人信息：居民身份证号码、手机号码（第二十二条：不得非法提供、公布数据）。

    两库只存知识和规则，不存参保人的数据；示例请用虚构且不可识别的值。
    全角数字（１３８…）、带国家代码（+86、0086）或分段书写（1XX-XXXX-XXXX、1XX XXXX XXXX）的号码同样识别。
    坏：``violations: [参保人 <校验位正确的 18 位身份证号码> 重复住院]``
    好：``violations: [同一参保人出院后 15 天内再次入院]``
    """
    if item.kind == "argumentation":
        return  # participants are recorded on purpose, as internal data
    if not might_be_personal(text_of(item.data)):
        return
    for pointer, value in walk(item.data):  # rare: only an item whose text has an ID's or a number's shape
        kind = personal_data(value) if isinstance(value, str) else None
        if kind:
            yield finding(
                "TK801", f"疑似{kind}", item.path, pointer, item.id, "删除个人信息；示例请用虚构、不可识别的值"
            )


@item_check("TK802", "personal-name-field", WARNING)
def name_fields(item: Item) -> Iterator[Finding]:
    """条目中有患者或参保人姓名字段（如 患者姓名、patient_name）。两库不应保存可识别个人的数据。"""
    if item.kind == "argumentation":
        return
    text = text_of(item.data)
    if not any(hint in text for hint in _NAME_HINTS):
        return
    for pointer, value in walk(item.data):
        if isinstance(value, Mapping):
            for key in value:
                if key in NAME_KEYS:
                    yield finding(
                        "TK802",
                        f"字段 “{key}” 可能保存个人姓名",
                        item.path,
                        (*pointer, key),
                        item.id,
                        "删除该字段；规则示例只需性别、年龄等非识别信息",
                    )
