"""Rendering one item as it takes effect in a region."""

from __future__ import annotations

import io
from typing import Any

from twoku.model.library import Shown
from twoku.model.prose import PROSE_FIELDS, parameter_words, period_words, render, render_value, value_words
from twoku.model.regions import Layer, layer_name
from twoku.render.terminal import plain, styled

LABELS = {
    "name": "规则名称",
    "title": "标题",
    "category": "类别",
    "framework_code": "框架编码",
    "definition": "定义",
    "monitoring_point": "监控要点",
    "logic": "逻辑",
    "uses": "应用场景",
    "scenarios": "就医场景",
    "period": "时间区间",
    "institutions": "医疗机构级别/类型",
    "insurance_types": "参保险种",
    "supervised": "监管对象",
    "suggested_threshold": "建议阈值",
    "stages": "监管环节",
    "level": "判断等级",
    "violations": "具体违规情形",
    "basis": "依据",
    "focus": "论证重点",
    "status": "状态",
    "effective": "生效日期",
    "expires": "失效日期",
    "deprecated": "废弃信息",
    "issuer": "发布机关",
    "doc_number": "文号",
    "issued": "发布日期",
    "summary": "摘要",
    "articles": "条款",
    "pattern": "编码规则",
    "table": "代码表",
    "source": "来源",
    "superseded_by": "被替代为",
    "facts": "要点",
    "target": "目标规则",
    "reason": "理由",
    "parameters": "参数",
    "notes": "内部备注",
    "base_digest": "基准摘要",
    "condition": "可执行条件",
    "examples": "用例",
}


def _entry(value: dict[str, Any]) -> str:
    """A list entry on one line: a cited article as “CN-K-0003 第十五条”, others as key: value."""
    if "id" in value and set(value) <= {"id", "article", "digest"}:
        return " ".join(str(value[k]) for k in ("id", "article") if k in value)
    if "ref" in value:
        return f"{value['ref']}：{value.get('text') or value.get('gist', '')}"
    return "，".join(f"{k}: {_fmt(w)}" for k, w in value.items())


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(_entry(v) if isinstance(v, dict) else _fmt(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value).strip()


def _origin(layer: Layer, names: dict[str, str], source: str) -> str:
    return plain(f"{layer_name(layer, names)} · {source}")


def _cell(value: Any) -> str:
    """A field's value in its table cell: its lines kept, every other control character escaped."""
    return plain(_fmt(value), lines=True)


# Left to ``show --all``: the machine condition (the logic says it in words; twoku compile shows
# it as SQL) and the rule's tests (synthetic claim lines), long and not what people read.
DETAILS = ("condition", "examples")


def _value(key: str, value: Any) -> Any:
    """A cell for one field: text wrapped as Chinese is; a condition or examples as compact YAML; a knowledge
    table summarised (its rows are for ``twoku table``)."""
    from twoku.render.tables import Prose

    if key == "table":
        return Prose(_table_summary(value))
    if key == "period" and (words := period_words(value)) is not None:
        return Prose(words)
    if key == "institutions" and isinstance(value, dict):
        said = [f"{label}：{_fmt(value[k]).replace(chr(10), '、')}" for k, label in _INSTITUTIONS if k in value]
        return Prose("；".join(said))
    return Prose(_compact_yaml(value) if key in DETAILS else _fmt(value))


_INSTITUTIONS = (("levels", "级别"), ("types", "类型"))


def _table_summary(value: Any) -> str:
    from twoku.model.tables import COLUMN_TYPES, spec_of

    spec = spec_of({"table": value})
    if spec is None:
        return _fmt(value)
    if spec.legacy:
        return f"{spec.file}（旧式代码表声明，未封存）"
    rows = f"{spec.rows} 行" if spec.rows is not None else "未封存"
    columns = "、".join(f"{c.title or c.name} {c.name}：{COLUMN_TYPES.get(c.type, c.type)}" for c in spec.columns)
    lower = "、".join(w for w, ok in (("增加", spec.add), ("删除", spec.remove)) if ok) or "不可增删"
    head = f"{spec.file}：{rows}；键 {'、'.join(spec.key)}；下级{lower}行"
    return f"{head}\n列：{columns}\n各行：twoku table 编号 [--region 代码]"


def _compact_yaml(value: Any) -> str:
    """A structure as its file writes it: blocks, with the innermost mappings and lists on one line."""
    from ruamel.yaml import YAML

    out = io.StringIO()
    yaml = YAML(typ="rt")  # keys in the file's order
    yaml.allow_unicode = True
    yaml.default_flow_style = None
    yaml.width = 10_000  # the table wraps
    yaml.dump(value, out)
    return out.getvalue().rstrip("\n")


def _left_out(data: Any, everything: bool) -> list[str]:
    if everything:
        return []
    return [
        LABELS.get(k, k) + (f"（{len(v)} 个）" if isinstance(v, list) else "") for k, v in data.items() if k in DETAILS
    ]


def show_text(shown: Shown, console: Any, everything: bool = False) -> None:
    """One item as a panel of its fields; ``everything`` shows its examples too."""
    from rich.panel import Panel
    from rich.table import Table

    from twoku.render.tables import add_text_column

    item, names = shown.item, shown.names
    eff = shown.effective
    # Rule prose names its parameters by placeholder: shown with the values in force in the region.
    words = parameter_words(eff.parameters) if eff is not None else {}
    name = item.data.get("name")  # as written: Item.title renders it with the rule's own values
    head = f"{item.id}  {render(name, words) if isinstance(name, str) and words else item.title}"
    if item.kind == "override":  # its title would be its reason, a paragraph
        head = f"{item.id}  本地化 {item.data.get('target', '')}"
    sub = styled(f"{shown.region} 生效视图" if shown.effective else item.path)
    head = styled(head)  # a Panel reads a str title as markup
    table = Table(box=None, show_header=True, show_edge=False, expand=True)
    table.add_column("字段", style="bold", no_wrap=True)
    add_text_column(table, "取值", ratio=3)
    hidden = _left_out(item.data, everything)
    if eff is None:
        for key, value in item.data.items():
            if key != "id" and (everything or key not in DETAILS):
                table.add_row(plain(LABELS.get(key, key)), _value(key, value))
        console.print(Panel(table, title=head, subtitle=sub, title_align="left"))
        _hint(console, hidden)
        return
    add_text_column(table, "来源", ratio=1, style="cyan")
    for key, sourced in eff.fields.items():
        if key == "id" or (key in DETAILS and not everything):
            continue
        value = render_value(sourced.value, words) if key in PROSE_FIELDS else sourced.value
        table.add_row(plain(LABELS.get(key, key)), _value(key, value), _origin(sourced.layer, names, sourced.source))
    console.print(Panel(table, title=head, subtitle=sub, title_align="left"))
    _hint(console, hidden)
    if eff.parameters:
        from twoku.model.bounds import describe_bounds
        from twoku.render.tables import Prose

        params = Table(title="参数（本地取值）", title_justify="left", box=None, show_edge=False)
        params.add_column("参数", no_wrap=True)
        params.add_column("取值", no_wrap=True)
        for column, ratio in (("说明", 3), ("可本地化范围", 1), ("设定层级", 1)):
            add_text_column(params, column, ratio=ratio)
        for name, spec in eff.parameters.items():
            value = spec["value"]
            params.add_row(
                plain(name),
                value_words(value.value, spec.get("unit") if isinstance(spec.get("unit"), str) else None),
                Prose(str(spec.get("description", ""))),
                Prose(describe_bounds(spec)),
                Prose(_origin(value.layer, names, value.source)),
            )
        console.print(params)


def _hint(console: Any, hidden: list[str]) -> None:
    if hidden:
        console.print(styled(f"未显示：{'、'.join(hidden)}；用 --all 显示", "dim"))


def show_yaml(data: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.dump(data, out)
    return out.getvalue()
