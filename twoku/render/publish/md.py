"""The public summary as Markdown: one section per category, one subsection per rule."""

from __future__ import annotations

from twoku.model.publication import Parameter, Publication, Rule
from twoku.render.publish import common


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _paragraphs(text: str | None) -> list[str]:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return [p for line in lines for p in (line, "")]


def _value(p: Parameter, rule: Rule) -> str:
    note = common.suggested_words(p, rule.layer_name)
    return common.param_value(p) + (f"（{note}）" if note else "")


def _rule(rule: Rule) -> list[str]:
    out = [f"### {rule.id} {rule.name}", ""]
    out += [f"- 判断等级：{rule.level or '—'}", f"- 制定层级：{rule.layer_name}"]
    if rule.framework_code:
        out.append(f"- 框架编码：{rule.framework_code}")
    if rule.scenarios:
        out.append(f"- 应用场景：{'、'.join(rule.scenarios)}")
    if rule.stages:
        out.append(f"- 监管环节：{'、'.join(rule.stages)}")
    if rule.effective:
        out.append(f"- 生效日期：{rule.effective}" + (f"，失效日期：{rule.expires}" if rule.expires else ""))
    out.append("")
    if rule.monitoring_point:
        out += ["**监控要点**", "", *_paragraphs(rule.monitoring_point)]
    if rule.definition and rule.definition != rule.monitoring_point:
        out += ["**定义**", "", *_paragraphs(rule.definition)]
    if rule.parameters:
        out += ["**标准（参数与阈值）**", "", "| 参数 | 说明 | 本地取值 | 设定层级 |", "|---|---|---|---|"]
        out += [
            f"| `{p.name}` | {_cell(p.description or '')} | {_cell(_value(p, rule))} | {_cell(p.layer_name)} |"
            for p in rule.parameters
        ]
        out.append("")
    if rule.logic:
        out += ["**判断逻辑**", "", *_paragraphs(rule.logic)]
    if rule.violations:
        out += ["**违规情形**", "", *(f"{n}. {v.strip()}" for n, v in enumerate(rule.violations, 1)), ""]
    if rule.basis:
        out += ["**依据**", "", *(f"- {b.id} {common.basis_line(b)}" for b in rule.basis), ""]
    return out


def _changes(pub: Publication) -> list[str]:
    out = [f"## 变更情况（{common.since_words(pub)}）", ""]
    if not pub.changes:
        return [*out, "没有向本公开对象公开的变更。" if pub.since_tag else "本次为首次发布。", ""]
    out += ["| 编号 | 名称 | 类型 | 变更 | 内容 |", "|---|---|---|---|---|"]
    for c in pub.changes:
        kind = common.KIND_WORDS.get(c.kind, c.kind)
        out.append(f"| {c.id} | {_cell(c.title)} | {kind} | {c.label} | {_cell(common.change_summary(c))} |")
    return [*out, ""]


def render(pub: Publication) -> bytes:
    out = [f"# {common.title(pub)}", "", common.subtitle(pub), ""]
    out += [f"- {k}：{v}" for k, v in common.facts(pub)]
    out.append("")
    for category in pub.categories():
        rules = [r for r in pub.rules if r.category == category]
        out += [f"## {category}（{len(rules)} 条）", ""]
        for rule in rules:
            out += _rule(rule)
    if not pub.rules:
        out += ["该日没有生效的规则。", ""]
    out += _changes(pub)
    text = "\n".join(out).rstrip("\n") + "\n"
    return text.encode("utf-8")
