"""The public summary as Markdown: one section per category, one subsection per rule.

Every text from the store goes through render/markdown.py: it reaches the reader as text, never as HTML.
"""

from __future__ import annotations

from twoku.model.publication import Parameter, Publication, Rule
from twoku.render import markdown as md
from twoku.render.publish import common

_cell = md.cell


def _paragraphs(text: str | None) -> list[str]:
    lines = [line.strip() for line in md.text(text or "").split("\n") if line.strip()]
    return [p for line in lines for p in (line, "")]


def _value(p: Parameter, rule: Rule) -> str:
    note = common.suggested_words(p, rule.layer_name)
    return common.param_value(p) + (f"（{note}）" if note else "")


def _rule(rule: Rule) -> list[str]:
    out = [f"### {md.line(rule.id)} {md.line(rule.name)}", ""]
    out += [f"- 判断等级：{md.line(rule.level or '—')}", f"- 制定层级：{md.line(rule.layer_name)}"]
    if rule.framework_code:
        out.append(f"- 框架编码：{md.line(rule.framework_code)}")
    out += [f"- {label}：{md.line(words)}" for label, words in rule.scope()]
    if rule.stages:
        out.append(f"- 监管环节：{md.line('、'.join(rule.stages))}")
    if rule.effective:
        expires = f"，失效日期：{md.line(rule.expires)}" if rule.expires else ""
        out.append(f"- 生效日期：{md.line(rule.effective)}{expires}")
    out.append("")
    if rule.monitoring_point:
        out += ["**监控要点**", "", *_paragraphs(rule.monitoring_point)]
    if rule.definition and rule.definition != rule.monitoring_point:
        out += ["**定义**", "", *_paragraphs(rule.definition)]
    if rule.parameters:
        out += ["**标准（参数与阈值）**", "", "| 参数 | 说明 | 本地取值 | 设定层级 |", "|---|---|---|---|"]
        out += [
            f"| {md.code(p.name)} | {_cell(p.description or '')} | {_cell(_value(p, rule))} | {_cell(p.layer_name)} |"
            for p in rule.parameters
        ]
        out.append("")
    if rule.logic:
        out += ["**判断逻辑**", "", *_paragraphs(rule.logic)]
    if rule.violations:
        out += ["**违规情形**", "", *(f"{n}. {md.line(v)}" for n, v in enumerate(rule.violations, 1)), ""]
    if rule.basis:
        out += ["**依据**", "", *(f"- {md.line(b.id)} {md.line(common.basis_line(b))}" for b in rule.basis), ""]
    return out


def _changes(pub: Publication) -> list[str]:
    out = [f"## 变更情况（{common.since_words(pub)}）", ""]
    if not pub.changes:
        return [*out, "没有向本公开对象公开的变更。" if pub.since_tag else "本次为首次发布。", ""]
    out += ["| 编号 | 名称 | 类型 | 变更 | 内容 |", "|---|---|---|---|---|"]
    for c in pub.changes:
        kind = common.KIND_WORDS.get(c.kind, c.kind)
        cells = (c.id, c.title, kind, c.label, common.change_summary(c))
        out.append("| " + " | ".join(_cell(v) for v in cells) + " |")
    return [*out, ""]


def render(pub: Publication) -> bytes:
    out = [f"# {md.line(common.title(pub))}", "", md.text(common.subtitle(pub)), ""]
    out += [f"- {k}：{md.line(v)}" for k, v in common.facts(pub)]
    out.append("")
    for category in pub.categories():
        rules = [r for r in pub.rules if r.category == category]
        out += [f"## {md.line(category)}（{len(rules)} 条）", ""]
        for rule in rules:
            out += _rule(rule)
    if not pub.rules:
        out += ["该日没有生效的规则。", ""]
    if pub.tables:  # the rows themselves are in the xlsx, json and html formats
        out += ["## 知识点明细", ""]
        out += [
            f"- {md.line(t.id)} {md.line(t.title)}：{len(t.rows)} 行，用于 {md.line('、'.join(t.rules))}"
            for t in pub.tables
        ]
        out.append("")
    out += _changes(pub)
    text = "\n".join(out).rstrip("\n") + "\n"
    return text.encode("utf-8")
