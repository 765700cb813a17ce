"""The public summary as one self-contained HTML page: inline CSS and script, no network
(a Content-Security-Policy forbids it), a search box and filters, printable, readable on
a phone.  The page's frame is ``template.html``; its style and script are ``style.css``
and ``app.js`` beside this module, shipped in the wheel as package data."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from importlib import resources
from string import Template

from twoku.model import enums
from twoku.model.publication import Parameter, Publication, Rule
from twoku.render.publish import common

FOOTER_FACTS = ("库版本", "上次发布")  # for whoever checks the copy, not for the reader of the rules


def _asset(name: str) -> str:
    return resources.files(__package__ or "twoku.render.publish").joinpath(name).read_text(encoding="utf-8")


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def _lines(text: str | None) -> str:
    return "".join(f"<p>{_e(line.strip())}</p>" for line in (text or "").splitlines() if line.strip())


def _options(values: list[str]) -> str:
    return "".join(f'<option value="{_e(v)}">{_e(v)}</option>\n' for v in values)


def _meta(rule: Rule) -> str:
    """The rule's particulars, each with its label: a reader should never guess what a badge means."""
    level = f'<span class="level level-{_e(rule.level)}">{_e(rule.level)}</span>' if rule.level else "—"
    local = _in_order_unique(p.layer_name for p in rule.parameters if p.layer != rule.layer)
    made = f"{rule.layer_name}制定" + (f"，{'、'.join(local)}本地化参数" if local else "")
    rows = [("判断等级", level)]
    rows += [(label, _e(words)) for label, words in rule.scope()] if rule.uses else [("应用场景", "—")]
    if rule.stages:
        rows.append(("监管环节", _e("、".join(rule.stages))))
    rows.append(("制定", _e(made)))
    dates = rule.effective or "—"
    if rule.expires:
        dates += f" 至 {rule.expires}（不含）"
    rows.append(("生效日期", _e(dates)))
    if rule.framework_code:
        rows.append(("框架编码", f"<code>{_e(rule.framework_code)}</code>"))
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _in_order_unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _suggested(p: Parameter, rule: Rule) -> str:
    note = common.suggested_words(p, rule.layer_name)
    return f'<span class="suggested">{_e(note)}</span>' if note else ""


def _standard(rule: Rule) -> str:
    rows = "".join(
        f'<tr><td>{_e(p.description or p.name)}<span class="pname">{_e(p.name)}</span></td>'
        f'<td class="value">{_e(common.param_value(p))}{_suggested(p, rule)}</td><td>{_e(p.layer_name)}</td></tr>'
        for p in rule.parameters
    )
    return (
        '<h4>标准（参数与阈值）</h4><div class="table-wrap"><table class="standard"><thead><tr><th>参数</th>'
        f"<th>在本地区的取值</th><th>设定单位</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _basis(rule: Rule) -> str:
    items = "".join(f'<li><span class="kid">{_e(b.id)}</span>{_e(common.basis_line(b))}</li>' for b in rule.basis)
    return f'<h4>依据</h4><ul class="basis">{items}</ul>'


def _rule(rule: Rule) -> str:
    parts = [
        f'<article class="rule" id="{_e(rule.id)}" data-rule data-category="{_e(rule.category)}" '
        f'data-level="{_e(rule.level)}" data-uses="{_e("|".join(rule.uses))}" '
        f'data-settings="{_e("|".join(rule.scenarios))}">',
        f'<h3><span class="rid">{_e(rule.id)}</span>{_e(rule.name)}</h3>',
        _meta(rule),
    ]
    if rule.monitoring_point:
        parts.append(f'<h4>监控要点</h4><div class="point">{_lines(rule.monitoring_point)}</div>')
    if rule.definition and rule.definition != rule.monitoring_point:
        parts.append(f"<h4>定义</h4>{_lines(rule.definition)}")
    if rule.parameters:
        parts.append(_standard(rule))
    if rule.logic:
        parts.append(f'<h4>判断逻辑</h4><div class="logic">{_lines(rule.logic)}</div>')
    if rule.violations:
        parts.append("<h4>违规情形</h4><ol>" + "".join(f"<li>{_e(v.strip())}</li>" for v in rule.violations) + "</ol>")
    if rule.basis:
        parts.append(_basis(rule))
    parts.append("</article>\n")
    return "".join(parts)


def _legend(pub: Publication) -> str:
    """How to read a rule, in the words of the measures (第八条 elements, 第二十条 procedure)."""
    ask = "请按监控要点在病历等材料中如实记录，以备说明。" if pub.audience == "institutions" else ""
    return (
        '<p class="legend"><b>如何阅读：</b>每条规则先写<b>监控要点</b>（医保部门关注什么），再写<b>标准</b>'
        "（本地区执行的参数与阈值，注明由哪一级设定）和<b>违规情形</b>。判断等级为"
        '<span class="level level-明确违规">明确违规</span>的，按规则即可认定；为'
        '<span class="level level-可疑">可疑</span>的，只列为疑点，经初审、复审、申诉和调查核实后才认定'
        f"（第二十条）。{ask}</p>"
    )


def _toc(pub: Publication) -> str:
    """Contents: every rule by category, linked; a printed copy gets it on its first page."""
    out = []
    for category in pub.categories():
        links = "".join(
            f'<li><a href="#{_e(r.id)}"><span class="rid">{_e(r.id)}</span>{_e(r.name)}</a></li>'
            for r in pub.rules
            if r.category == category
        )
        out.append(f"<li><b>{_e(category)}</b><ul>{links}</ul></li>")
    return "".join(out)


def _rules(pub: Publication) -> str:
    out = []
    for category in pub.categories():
        rules = [r for r in pub.rules if r.category == category]
        out.append(f'<section data-category-section="{_e(category)}"><h2>{_e(category)}（{len(rules)} 条）</h2>\n')
        out += [_rule(r) for r in rules]
        out.append("</section>\n")
    if not pub.rules:
        out.append('<p class="none">该日没有生效的规则。</p>\n')
    return "".join(out)


def _tables(pub: Publication) -> str:
    """The knowledge tables the rules are judged against: one collapsible list each, searchable as it is typed."""
    if not pub.tables:
        return ""
    out = ['<section class="tables"><h2>知识点明细</h2>\n']
    for t in pub.tables:
        head = "".join(f"<th>{_e(title or name)}</th>" for name, title in t.columns) + "<th>来源层级</th>"
        rows = "".join(
            "<tr>"
            + "".join(f"<td>{_e(cell)}</td>" for cell in row)
            + f"<td>{_e(pub.names.get(layer, layer))}</td></tr>\n"
            for row, layer in zip(t.rows, t.layers, strict=True)
        )
        used = "、".join(t.rules)
        out.append(
            f'<details class="table" id="{_e(t.id)}"><summary>{_e(t.id)} {_e(t.title)}（{len(t.rows)} 行；'
            f"用于 {_e(used)}）</summary>\n"
            '<input type="search" class="table-filter" placeholder="输入代码或名称筛选" '
            f'aria-label="筛选 {_e(t.id)}">\n'
            f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table></div>'
            "</details>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _changes(pub: Publication) -> str:
    head = f"<h2>变更情况（{_e(common.since_words(pub))}）</h2>\n"
    if not pub.changes:
        words = "没有向本公开对象公开的变更。" if pub.since_tag else "本次为首次发布。"
        return head + f"<p>{words}</p>\n"
    rows = "".join(
        f"<tr><td>{_e(c.id)}</td><td>{_e(c.title)}</td><td>{_e(common.KIND_WORDS.get(c.kind, c.kind))}</td>"
        f"<td>{_e(c.label)}</td><td>{'<br>'.join(_e(common.field_line(f)) for f in c.fields)}</td></tr>\n"
        for c in pub.changes
    )
    return (
        head + '<div class="table-wrap"><table><thead><tr><th>编号</th><th>名称</th><th>类型</th><th>变更</th>'
        f"<th>内容</th></tr></thead><tbody>\n{rows}</tbody></table></div>\n"
    )


def render(pub: Publication) -> bytes:
    present_uses = {s for r in pub.rules for s in r.uses}
    present_settings = {s for r in pub.rules for s in r.scenarios}
    present_levels = {r.level for r in pub.rules if r.level}
    page = Template(_asset("template.html")).substitute(
        title=_e(common.title(pub)),
        subtitle=_e(common.subtitle(pub)),
        facts="".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>\n" for k, v in common.facts(pub) if k not in FOOTER_FACTS),
        toc=_toc(pub),
        built=_e("；".join(f"{k}：{v}" for k, v in common.facts(pub) if k in FOOTER_FACTS)),
        legend=_legend(pub),
        category_options=_options(pub.categories()),
        scenario_options=_options([s for s in enums.USES if s in present_uses]),
        setting_options=_options([s for s in enums.CARE_SETTINGS if s in present_settings]),
        level_options=_options([lv for lv in enums.LEVELS if lv in present_levels]),
        rule_count=len(pub.rules),
        rules=_rules(pub),
        changes=_changes(pub),
        tables=_tables(pub),
        style=_asset("style.css"),
        script=_asset("app.js"),
    )
    return page.encode("utf-8")
