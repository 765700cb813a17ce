"""Rendering one item as it takes effect in a region."""

from __future__ import annotations

import io
from typing import Any

from twoku.model.library import Shown
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
    "scenarios": "应用场景",
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


def show_text(shown: Shown, console: Any) -> None:
    from rich.panel import Panel
    from rich.table import Table

    item, names = shown.item, shown.names
    head = styled(f"{item.id}  {item.title}")  # a Panel reads a str title as markup
    sub = styled(f"{shown.region} 生效视图" if shown.effective else item.path)
    table = Table(box=None, show_header=True, show_edge=False, expand=True)
    table.add_column("字段", style="bold", no_wrap=True)
    table.add_column("取值", ratio=3)
    eff = shown.effective
    if eff is None:
        for key, value in item.data.items():
            if key != "id":
                table.add_row(plain(LABELS.get(key, key)), _cell(value))
        console.print(Panel(table, title=head, subtitle=sub, title_align="left"))
        return
    table.add_column("来源", style="cyan", no_wrap=True)
    for key, sourced in eff.fields.items():
        if key in ("id",):
            continue
        table.add_row(plain(LABELS.get(key, key)), _cell(sourced.value), _origin(sourced.layer, names, sourced.source))
    console.print(Panel(table, title=head, subtitle=sub, title_align="left"))
    if eff.parameters:
        from twoku.model.bounds import describe_bounds

        params = Table(title="参数（本地取值）", title_justify="left", box=None, show_edge=False)
        for column in ("参数", "取值", "单位", "说明", "可本地化范围", "设定层级"):
            params.add_column(column)
        for name, spec in eff.parameters.items():
            value = spec["value"]
            params.add_row(
                plain(name),
                _cell(value.value),
                plain(spec.get("unit", "")),
                _cell(spec.get("description", "")),
                plain(describe_bounds(spec)),
                _origin(value.layer, names, value.source),
            )
        console.print(params)


def show_yaml(data: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.dump(data, out)
    return out.getvalue()
