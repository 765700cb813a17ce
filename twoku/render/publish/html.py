"""The public summary as one self-contained HTML page: inline CSS and script, no network
(a Content-Security-Policy forbids it), a search box and filters, printable, readable on
a phone.  The page's frame is ``template.html``; its style and script are ``style.css``
and ``app.js`` beside this module, shipped in the wheel as package data."""

from __future__ import annotations

from html import escape
from importlib import resources
from string import Template

from twoku.model import enums
from twoku.model.publication import Publication, Rule
from twoku.render.publish import common


def _asset(name: str) -> str:
    return resources.files(__package__ or "twoku.render.publish").joinpath(name).read_text(encoding="utf-8")


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def _lines(text: str | None) -> str:
    return "".join(f"<p>{_e(line.strip())}</p>" for line in (text or "").splitlines() if line.strip())


def _options(values: list[str]) -> str:
    return "".join(f'<option value="{_e(v)}">{_e(v)}</option>\n' for v in values)


def _rule(rule: Rule) -> str:
    tags = [f'<span class="tag level-{_e(rule.level)}">{_e(rule.level)}</span>' if rule.level else ""]
    tags += [f'<span class="tag">{_e(s)}</span>' for s in rule.scenarios]
    tags.append(f'<span class="tag">{_e(rule.layer_name)}制定</span>')
    if rule.framework_code:
        tags.append(f'<span class="tag"><code>{_e(rule.framework_code)}</code></span>')
    parts = [
        f'<article class="rule" id="{_e(rule.id)}" data-rule data-category="{_e(rule.category)}" '
        f'data-level="{_e(rule.level)}" data-scenarios="{_e("|".join(rule.scenarios))}">',
        f'<h3><span class="rid">{_e(rule.id)}</span>{_e(rule.name)}</h3>',
        f'<div class="tags">{"".join(tags)}</div>',
    ]
    if rule.monitoring_point:
        parts.append(f'<h4>监控要点</h4><div class="point">{_lines(rule.monitoring_point)}</div>')
    if rule.definition and rule.definition != rule.monitoring_point:
        parts.append(f"<h4>定义</h4>{_lines(rule.definition)}")
    if rule.parameters:
        rows = "".join(
            f"<tr><td>{_e(p.description or p.name)}<br><code>{_e(p.name)}</code></td>"
            f"<td>{_e(common.param_value(p))}</td><td>{_e(p.layer_name)}</td></tr>"
            for p in rule.parameters
        )
        parts.append(
            '<h4>标准（参数与阈值）</h4><div class="table-wrap"><table><thead><tr><th>参数</th><th>本地取值</th>'
            f"<th>设定层级</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    if rule.logic:
        parts.append(f'<h4>判断逻辑</h4><div class="logic">{_lines(rule.logic)}</div>')
    if rule.violations:
        parts.append("<h4>违规情形</h4><ol>" + "".join(f"<li>{_e(v.strip())}</li>" for v in rule.violations) + "</ol>")
    if rule.basis:
        parts.append(
            "<h4>依据</h4><ul>" + "".join(f"<li>{_e(common.basis_line(b))}</li>" for b in rule.basis) + "</ul>"
        )
    dates = f"生效日期：{rule.effective}" if rule.effective else ""
    if rule.expires:
        dates += f"；失效日期：{rule.expires}"
    if rule.stages:
        dates += ("；" if dates else "") + "监管环节：" + "、".join(rule.stages)
    if dates:
        parts.append(f'<p class="subtitle">{_e(dates)}</p>')
    parts.append("</article>\n")
    return "".join(parts)


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
    present_scenarios = {s for r in pub.rules for s in r.scenarios}
    present_levels = {r.level for r in pub.rules if r.level}
    page = Template(_asset("template.html")).substitute(
        title=_e(common.title(pub)),
        subtitle=_e(common.subtitle(pub)),
        facts="".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>\n" for k, v in common.facts(pub)),
        category_options=_options(pub.categories()),
        scenario_options=_options([s for s in enums.SCENARIOS if s in present_scenarios]),
        level_options=_options([lv for lv in enums.LEVELS if lv in present_levels]),
        rule_count=len(pub.rules),
        rules=_rules(pub),
        changes=_changes(pub),
        revision=_e(pub.revision),
        style=_asset("style.css"),
        script=_asset("app.js"),
    )
    return page.encode("utf-8")
