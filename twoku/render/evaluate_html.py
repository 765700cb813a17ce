"""The evaluation of 第二十一条 as one self-contained HTML page: a table and two bar charts.

Inline SVG drawn here (no script, no style sheet or font fetched from anywhere), so the
file can be mailed, archived with the annual adjustment or opened offline.  One bar per
rule in each chart: activity (hits per 10,000 claim lines) and precision (confirmed ÷
decided); a rule present in several regions is summed over them in the charts and shown
per region in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from twoku.model.runs import Evaluation
from twoku.render.run import evaluation_notes

BAR_HEIGHT = 22
LABEL_WIDTH = 260
CHART_WIDTH = 420
VALUE_WIDTH = 90


@dataclass(frozen=True)
class RuleBar:
    rule_id: str
    name: str
    hits: int
    per_10000: float | None
    confirmed: int
    decided: int

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def rule_bars(result: Evaluation) -> list[RuleBar]:
    """One entry per rule, summed over its regions."""
    by_rule: dict[str, RuleBar] = {}
    for m in result.rules:
        old = by_rule.get(m.rule_id)
        hits = m.hits + (old.hits if old else 0)
        confirmed = m.confirmed + (old.confirmed if old else 0)
        decided = m.decided + (old.decided if old else 0)
        per = round(hits * 10000 / result.lines, 2) if result.lines else None
        by_rule[m.rule_id] = RuleBar(m.rule_id, m.name, hits, per, confirmed, decided)
    return list(by_rule.values())


def _chart(title: str, kind: str, bars: list[RuleBar], values: list[float | None], label: list[str]) -> str:
    top = max((v for v in values if v is not None), default=0.0) or 1.0
    height = BAR_HEIGHT * len(bars) + 10
    width = LABEL_WIDTH + CHART_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for n, (bar, value, text) in enumerate(zip(bars, values, label, strict=True)):
        y = 5 + n * BAR_HEIGHT
        length = 0.0 if value is None else max(1.0, CHART_WIDTH * value / top) if value > 0 else 0.0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(bar.rule_id)} '
            f"{escape(bar.name[:14])}</text>"
        )
        parts.append(
            f'<rect class="bar bar-{kind}" data-rule="{escape(bar.rule_id)}" x="{LABEL_WIDTH}" y="{y + 3}" '
            f'width="{length:.1f}" height="{BAR_HEIGHT - 6}">'
            f"<title>{escape(bar.rule_id)}：{escape(text)}</title></rect>"
        )
        parts.append(f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg>")
    return f"<h2>{escape(title)}</h2>\n" + "\n".join(parts)


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; white-space: nowrap; }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
.misfire { color: #b00020; font-weight: bold; }
.chart text { font-size: 13px; fill: #333; }
.bar-activity { fill: #3b6ea5; }
.bar-precision { fill: #2e8b57; }
.note { color: #666; }
"""


def evaluation_html(result: Evaluation) -> str:
    """The whole page, as text."""
    bars = rule_bars(result)
    activity = _chart(
        "规则活跃度（每万条明细命中数）",
        "activity",
        bars,
        [b.per_10000 if b.per_10000 is not None else float(b.hits) for b in bars],
        [f"{b.per_10000:g}" if b.per_10000 is not None else f"{b.hits} 条命中" for b in bars],
    )
    precision = _chart(
        "响应精准性（确认 ÷ 已判定）",
        "precision",
        bars,
        [b.precision for b in bars],
        [f"{b.precision:.0%}（{b.confirmed}/{b.decided}）" if b.precision is not None else "未判定" for b in bars],
    )
    lines = f"{result.lines:,} 条结算明细" if result.lines else "明细条数未知"
    rows = []
    for m in result.rules:
        misfire = m.rule_id in result.misfiring
        precision_text = f"{m.precision:.0%}" if m.precision is not None else "—"
        cells = [
            escape(m.rule_id),
            escape(m.name),
            escape(m.region),
            f"{m.hits:,}",
            f"{m.per_10000:g}" if m.per_10000 is not None else "—",
            str(m.confirmed),
            str(m.rejected),
            str(m.pending + m.unreviewed),
            f'<span class="misfire">{precision_text}</span>' if misfire else precision_text,
            f"{m.appealed}/{m.appeals_upheld}",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("编号", "名称", "地区", "命中", "每万条", "确认", "排除", "待定", "精准率", "申诉/成立")
    )
    notes = [
        f'<p class="misfire">{escape(text)}</p>' if kind == "misfire" else f"<p>{escape(text)}</p>"
        for kind, text in evaluation_notes(result)
    ]
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>规则运行评估（第二十一条）</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>规则运行评估（第二十一条）</h1>
<p class="note">{escape(lines)} · {len(bars)} 条规则 · 精准率 = 确认违规 ÷（确认违规 + 不予认定），处理中的命中不计</p>
{activity}
{precision}
<h2>明细</h2>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{chr(10).join(notes)}
</body>
</html>
"""
