"""Words and value formatting shared by every format of the public summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twoku.model.disclosure import AUDIENCE_LABELS
from twoku.model.publication import Basis, Change, FieldChange, Parameter, Publication

KIND_WORDS = {"rule": "规则", "knowledge": "知识", "override": "本地化"}


def title(pub: Publication) -> str:
    return f"{pub.region_name}医疗保障基金智能监控规则公开摘要"


def subtitle(pub: Publication) -> str:
    return f"监控要点与标准 · {pub.as_of} 生效 · 公开对象：{AUDIENCE_LABELS[pub.audience]}"


def facts(pub: Publication) -> list[tuple[str, str]]:
    """The publication's own particulars: what, for whom, as of when, from which revision."""
    since = (
        f"{pub.since_tag}（版本 {pub.since_revision[:12]}）"
        if pub.since_tag and pub.since_revision
        else "无（首次发布）"
    )
    return [
        ("地区", f"{pub.region_name}（{pub.region}）"),
        ("公开对象", AUDIENCE_LABELS[pub.audience]),
        ("生效日期", f"{pub.as_of}（收录该日生效的规则）"),
        ("规则数", f"{len(pub.rules)} 条"),
        ("公开内容", scope(pub)),
        ("库版本", pub.revision),
        ("上次发布", since),
        ("依据", "《医疗保障基金智能审核和监控知识库、规则库管理办法（试行）》（医保发〔2022〕12号）第十二条"),
    ]


def scope(pub: Publication) -> str:
    """What this audience is shown (第十二条): society the monitoring points and standards, the
    institutions also how each rule judges in detail."""
    shown = "监控要点、定义、标准（参数与阈值）、应用场景、判断等级、违规情形及依据"
    if pub.audience == "institutions":
        return shown + "，以及判断逻辑"
    return shown + "；判断逻辑只向辖区定点医药机构公开"


def value(v: Any) -> str:
    """A value as a reader sees it: 是/否 for booleans, lists joined with 、."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Mapping):
        return "；".join(f"{k}：{value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "、".join(value(x) for x in v)
    return str(v).strip()


def param_value(p: Parameter) -> str:
    return f"{value(p.value)}{p.unit or ''}" if p.unit and not isinstance(p.value, (bool, list)) else value(p.value)


def suggested_words(p: Parameter, rule_layer_name: str) -> str:
    """The rule's own value beside a localised one: the monitoring point's prose may quote it."""
    if p.suggested is None:
        return ""
    shown = (
        f"{value(p.suggested)}{p.unit or ''}"
        if p.unit and not isinstance(p.suggested, (bool, list))
        else value(p.suggested)
    )
    return f"{rule_layer_name}建议值 {shown}"


def param_line(p: Parameter, rule_layer_name: str = "") -> str:
    note = suggested_words(p, rule_layer_name)
    return f"{p.description or p.name}：{param_value(p)}（{p.layer_name}设定{'；' + note if note else ''}）"


def basis_line(b: Basis) -> str:
    head = f"《{b.title}》" if b.title else b.id
    doc = f"（{b.doc_number}）" if b.doc_number else ""
    article = b.article or ""
    return f"{head}{doc}{article}"


def _structured(v: Any) -> bool:
    if isinstance(v, Mapping):
        return not isinstance(v.get("id"), str)  # a cited basis reads as “CN-K-0003 第十五条”
    return isinstance(v, (list, tuple)) and any(isinstance(x, (Mapping, list, tuple)) for x in v)


def field_line(f: FieldChange) -> str:
    """One changed field in a sentence; a structure (a condition) is named, never spelled out."""
    if _structured(f.old) or _structured(f.new) or f.path.startswith("condition"):
        return f"{f.label.split(' › ', 1)[0]}：已修改（详见规则）"
    if f.kind == "added":
        return f"{f.label} 新增：{value(f.new)}"
    if f.kind == "removed":
        return f"{f.label} 删除：{value(f.old)}"
    return f"{f.label}：{value(f.old)} → {value(f.new)}"


def change_summary(c: Change) -> str:
    """The changes of an item a reader is told of: not the rule's tests (examples), each structure once."""
    lines = [field_line(f) for f in c.fields if not f.path.startswith("examples")]
    return "；".join(dict.fromkeys(lines))


def since_words(pub: Publication) -> str:
    if pub.since_tag:
        return f"自上次发布（{pub.since_tag}）以来"
    return "首次发布，没有可比较的上次发布"
