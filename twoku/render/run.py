"""Rendering rule runs and rule tests: a calm table for people, the data as JSON for machines."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from twoku.model.runs import Evaluation, ExampleOutcome, RuleTestReport, RunResult
from twoku.render.terminal import plain, styled


def per_ten_thousand(hits: int, lines: int) -> float:
    """Hits per 10,000 claim lines: the activity of 第二十一条."""
    return round(hits * 10000 / lines, 2) if lines else 0.0


def run_dict(result: RunResult) -> dict[str, Any]:
    return {
        "region": result.region.code,
        "claims": str(result.claims),
        "lines": result.lines,
        "hits": result.hits,
        "seconds": round(result.seconds, 3),
        "out": str(result.out) if result.out else None,
        "encoding": result.encoding,
        "engine": result.engine,
        "ignored_columns": list(result.ignored_columns),
        "rules": [
            {
                "id": r.rule_id,
                "name": r.name,
                "level": r.level,
                "hits": r.hits,
                "per_10000": per_ten_thousand(r.hits, result.lines),
                "parameters": r.parameters,
            }
            for r in result.rules
        ],
        "indicators_out": str(result.indicators_out) if result.indicators_out else None,
        "indicators": [
            {
                "id": i.rule_id,
                "name": i.name,
                "groups": i.groups,
                "flagged": i.flagged,
                "parameters": i.parameters,
                "flagged_sample": i.sample,
            }
            for i in result.indicators
        ],
    }


def run_json(result: RunResult) -> str:
    return json.dumps(run_dict(result), ensure_ascii=False, indent=2)


def run_text(result: RunResult, console: Any) -> None:
    from rich.table import Table

    rate = f"，每秒 {result.lines / result.seconds:,.0f} 条" if result.seconds > 0 else ""
    title = (
        f"{result.region}：{len(result.rules)} 条规则运行于 {result.lines:,} 条结算明细 · 命中 {result.hits:,} 条"
        f"（{result.seconds:.2f} 秒{rate}{'，Spark' if result.engine == 'spark' else ''}）"
    )
    table = Table(title=plain(title), title_justify="left", box=None, show_edge=False)
    for column, justify in (("编号", "left"), ("名称", "left"), ("判断等级", "left"), ("命中", "right")):
        table.add_column(column, justify=justify, no_wrap=column == "编号")  # type: ignore[arg-type]
    table.add_column("每万条", justify="right")
    table.add_column("参数", overflow="fold")
    for r in result.rules:
        params = plain("，".join(f"{k}={v}" for k, v in r.parameters.items()))
        level = styled(r.level, "red" if r.level == "明确违规" else "yellow")
        hits = styled(f"{r.hits:,}") if r.hits else styled("0", "dim")
        table.add_row(
            plain(r.rule_id), plain(r.name), level, hits, f"{per_ten_thousand(r.hits, result.lines):g}", params
        )
    console.print(table)
    if result.indicators:
        indicators_text(result, console)
    if result.encoding != "utf-8":
        console.print(f"[dim]结算明细按 {result.encoding} 编码读取。[/]")
    if result.ignored_columns:
        from rich.text import Text

        ignored = "、".join(result.ignored_columns)
        console.print(Text(f"结算明细中这些列不是结算明细的字段，已忽略：{ignored}", style="yellow"))
    if result.out:
        console.print(styled(f"命中明细已写入 {result.out}"))
    elif result.sample:
        console.print(styled("前几条命中（用 --out 写出全部）：", "dim"))
        for hit in result.sample[:5]:
            console.print(styled(f"  {hit['rule_id']}  {hit['line_id']}  {hit['evidence']}"))


def indicators_text(result: RunResult, console: Any) -> None:
    """The indicators (统计指标监测类) beside the hits: institution-periods computed and flagged, the first flagged."""
    from rich.table import Table

    table = Table(title=plain("监测指标（按机构、按统计期计算）"), title_justify="left", box=None, show_edge=False)
    for column, justify in (("编号", "left"), ("名称", "left"), ("机构-统计期", "right"), ("标记", "right")):
        table.add_column(column, justify=justify, no_wrap=column == "编号")  # type: ignore[arg-type]
    table.add_column("参数", overflow="fold")
    for i in result.indicators:
        params = plain("，".join(f"{k}={v}" for k, v in i.parameters.items()))
        flagged = styled(f"{i.flagged:,}", "yellow") if i.flagged else styled("0", "dim")
        table.add_row(plain(i.rule_id), plain(i.name), f"{i.groups:,}", flagged, params)
    console.print(table)
    if result.indicators_out:
        console.print(styled(f"各机构、各统计期的指标值已写入 {result.indicators_out}"))
        return
    shown = [row for i in result.indicators for row in i.sample][:5]
    if shown:
        console.print(styled("前几个被标记的机构-统计期（用 --out 写出全部指标值）：", "dim"))
    for row in shown:
        group = f" {row['group']}" if row["group"] else ""
        words = f"  {row['rule_id']}  {row['institution_code']}  {row['period']}{group}  指标值 {row['value']}"
        console.print(styled(f"{words}  基准 {row['baseline'] if row['baseline'] is not None else '—'}"))


def ruletest_dict(report: RuleTestReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "region": report.region,
        "passed": sum(1 for o in report.outcomes if o.passed),
        "failed": len(report.failed),
        "depends_on_local_values": len(report.localised),
        "untested": report.untested,
        "examples": [
            {
                "rule": o.rule_id,
                "name": o.name,
                "passed": o.passed,
                "expected": list(o.expected),
                "got": list(o.got),
                "missed": o.missed,
                "unexpected": o.unexpected,
                **({"error": o.error} if o.error else {}),
                **({"depends_on": [asdict(v) for v in o.depends_on]} if o.depends_on else {}),
            }
            for o in report.outcomes
        ],
    }


def _local_words(o: ExampleOutcome) -> str:
    return "；".join(
        f"{v.name} 在本地为 {v.local_value}（{v.layer_name} {v.source} 设定），用例按规则本层的 {v.rule_value} 写成"
        for v in o.depends_on
    )


def ruletest_text(report: RuleTestReport, console: Any) -> None:
    from rich.text import Text

    by_rule: dict[str, list[Any]] = {}
    for outcome in report.outcomes:
        by_rule.setdefault(outcome.rule_id, []).append(outcome)
    if report.region:
        console.print(Text(f"按 {report.region_name}（{report.region}）的生效取值运行用例", style="bold"))
    for rule_id, outcomes in by_rule.items():
        marks = styled(f"{rule_id} ")
        for o in outcomes:
            if o.passed:
                marks.append("✓", style="green")
            elif o.depends_on:
                marks.append("≈", style="yellow")
            else:
                marks.append("✗", style="bold red")
        console.print(marks)
    for o in report.localised:
        console.print(Text(f"\n≈ {o.rule_id} {o.name}", style="bold yellow"))
        console.print(Text(f"  按本地取值不成立，按规则本层的取值成立：{_local_words(o)}"))
        if o.missed:
            console.print(Text(f"  本地应命中而未命中：{'、'.join(o.missed)}"))
        if o.unexpected:
            console.print(Text(f"  本地不应命中而命中：{'、'.join(o.unexpected)}"))
        console.print(Text("  这是本地参数改变了结果，不计为失败；本地需要时另写符合本地取值的用例", style="dim"))
    for o in report.failed:
        console.print()
        console.print(styled(f"✗ {o.rule_id} {o.name}", "bold red"))
        if o.error:
            console.print(styled(f"  {o.error}", lines=True))
        if o.missed:
            console.print(styled(f"  应命中而未命中：{'、'.join(o.missed)}"))
        if o.unexpected:
            console.print(styled(f"  不应命中而命中：{'、'.join(o.unexpected)}"))
    if report.untested:
        console.print()
        console.print(styled(f"没有用例的规则：{'、'.join(report.untested)}", "yellow"))
    passed = sum(1 for o in report.outcomes if o.passed)
    style = "green" if report.ok else "bold red"
    local = f"，{len(report.localised)} 个取决于本地改变的参数" if report.localised else ""
    console.print(
        Text(f"\n{passed} 个用例通过{local}，{len(report.failed)} 个失败（{report.seconds:.2f} 秒）", style=style)
    )


def evaluation_dict(result: Evaluation) -> dict[str, Any]:
    return {
        "lines": result.lines,
        "never_fired": result.never_fired,
        "misfiring": result.misfiring,
        "unmatched_feedback": result.unmatched_feedback,
        "criteria": {"misfire_below": result.misfire_below, "min_decided": result.min_decided},
        "rules": [
            {
                "id": m.rule_id,
                "name": m.name,
                "region": m.region,
                "hits": m.hits,
                "per_10000": m.per_10000,
                "confirmed": m.confirmed,
                "rejected": m.rejected,
                "pending": m.pending,
                "unreviewed": m.unreviewed,
                "decided": m.decided,
                "precision": m.precision,
                "appealed": m.appealed,
                "appeals_upheld": m.appeals_upheld,
            }
            for m in result.rules
        ],
        "indicator_rules": result.indicator_rules,
        "indicators": [
            {
                "id": m.rule_id,
                "name": m.name,
                "groups": m.groups,
                "flagged": m.flagged,
                "flag_rate": m.flag_rate,
                "confirmed": m.confirmed,
                "rejected": m.rejected,
                "precision": m.precision,
            }
            for m in result.indicators
        ],
    }


def evaluation_text(result: Evaluation, console: Any) -> None:
    from rich.table import Table

    lines = f"{result.lines:,} 条结算明细" if result.lines else "明细条数未知（用 --lines 或 --claims 给出）"
    table = Table(title=plain(f"规则运行评估（第二十一条）· {lines}"), title_justify="left", box=None, show_edge=False)
    for column in ("编号", "名称", "地区", "命中", "每万条", "确认", "排除", "待定", "精准率", "申诉/成立"):
        table.add_column(
            column, justify="left" if column in ("编号", "名称", "地区") else "right", no_wrap=column == "编号"
        )
    for m in result.rules:
        precision = styled(f"{m.precision:.0%}" if m.precision is not None else "—")
        if m.rule_id in result.misfiring:
            precision.stylize("red")
        per = f"{m.per_10000:g}" if m.per_10000 is not None else "—"
        table.add_row(
            plain(m.rule_id), plain(m.name), plain(m.region), f"{m.hits:,}", per, str(m.confirmed), str(m.rejected),
            str(m.pending + m.unreviewed), precision, f"{m.appealed}/{m.appeals_upheld}",
        )  # fmt: skip
    console.print(table)
    if result.indicators:
        measured = Table(
            title=plain("监测指标（按机构-统计期，不按明细评估）"), title_justify="left", box=None, show_edge=False
        )
        for column in ("编号", "名称", "机构-统计期", "标记", "标记率", "确认", "排除", "精准率"):
            measured.add_column(
                column, justify="left" if column in ("编号", "名称") else "right", no_wrap=column == "编号"
            )
        for i in result.indicators:
            rate = f"{i.flag_rate:.0%}" if i.flag_rate is not None else "—"
            precision = f"{i.precision:.0%}" if i.precision is not None else "—"
            measured.add_row(
                plain(i.rule_id), plain(i.name), f"{i.groups:,}", f"{i.flagged:,}", rate, str(i.confirmed),
                str(i.rejected), precision,
            )  # fmt: skip
        console.print(measured)
    for kind, text in evaluation_notes(result):
        console.print(styled(text, "red" if kind == "misfire" else "yellow"))


def evaluation_notes(result: Evaluation) -> list[tuple[str, str]]:
    """The evidence for the next annual adjustment, as (kind, sentence): the text and HTML reports share it."""
    notes = []
    if result.never_fired:
        notes.append(("never", f"从未命中的规则：{'、'.join(result.never_fired)}"))
    if result.misfiring:
        notes.append(
            (
                "misfire",
                f"多数误判的规则（已判定 ≥ {result.min_decided} 条且精准率 < {result.misfire_below:.0%}）："
                f"{'、'.join(result.misfiring)}",
            )
        )
    if result.indicator_rules and not result.indicators:
        notes.append(
            (
                "indicators",
                f"监测指标不命中明细，不计入以上评估：{'、'.join(result.indicator_rules)}"
                "（用 --indicators 给出 twoku run 写出的指标值文件）",
            )
        )
    if result.unmatched_feedback:
        notes.append(("unmatched", f"{result.unmatched_feedback} 条处理结果对应不到任何命中"))
    return notes
