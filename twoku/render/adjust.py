"""Rendering adjustments: what ``twoku adjust`` recorded, and the status of open adjustments."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from twoku.model.adjustments import Adjusted, AdjustStatus, Citing
from twoku.model.ids import KIND_LABELS
from twoku.render.terminal import plain, styled

DONE_LABELS = {"annual": "已记录年度调整", "instant": "已启动即时调整", "close": "已完成即时调整"}


def adjusted_json(result: Adjusted) -> str:
    return json.dumps(asdict(result), ensure_ascii=False, indent=2)


def _citing_lines(found: list[Citing], console: Any, indent: str = "  ") -> None:
    for c in found:
        line = styled(f"{indent}{c.id}  ", "bold")
        line.append(plain(c.title))
        line.append(plain(f"  [{KIND_LABELS.get(c.kind, c.kind)}]"), style="dim")
        line.append(plain(f"  引用 {c.cited}"), style="yellow")
        if c.replacement:
            line.append(plain(f" → 改为 {c.replacement}"), style="green")
        console.print(line)


def _late(data: dict[str, Any]) -> str | None:
    """第十六条 says finish by the deadline: say so when a record is already past it."""
    deadline = str(data.get("deadline") or "")
    if not deadline:
        return None
    closed = str(data.get("closed") or "")
    if closed and closed > deadline:
        return f"  注意：完成日期 {closed} 晚于完成时限 {deadline}（第十六条）"
    if not closed and str(data.get("opened") or "") > deadline:
        return f"  注意：完成时限 {deadline} 早于启动日期，已经逾期（第十六条）；twoku validate 将报 TK609"
    return None


def adjusted_text(result: Adjusted, console: Any) -> None:
    data = result.data
    console.print(styled(f"✓ {DONE_LABELS[result.action]} {result.id}", "bold green"))
    console.print(styled(f"  文件 {result.path}" + (f"，提交 {result.commit[:10]}" if result.commit else "")))
    if result.tag:
        console.print(styled(f"  标签 {result.tag}"))
    if result.action == "annual":
        for change in data.get("changes") or []:
            console.print(styled(f"  · {change}"))
    if data.get("deadline") and result.action == "instant":
        console.print(styled(f"  完成时限 {data['deadline']}（第十六条：不晚于新依据的执行起始时间）", "bold"))
    late = _late(data)
    if late:
        console.print(styled(late, "bold red"))
    if result.citing:
        console.print()
        console.print(styled(f"仍引用被替代知识的条目（{len(result.citing)} 处）：", "yellow"))
        _citing_lines(result.citing, console)
    if result.action == "instant":
        console.print()
        console.print(styled(f"调整完成后运行 twoku adjust close {result.id}", "dim"))


def status_json(result: AdjustStatus) -> str:
    return json.dumps(asdict(result), ensure_ascii=False, indent=2)


def _days(days: int | None) -> tuple[str, str]:
    if days is None:
        return "无时限", "dim"
    if days < 0:
        return f"已逾期 {-days} 天", "bold red"
    if days == 0:
        return "今天到期", "bold yellow"
    return f"还剩 {days} 天", "yellow" if days <= 30 else ""


def status_text(result: AdjustStatus, console: Any) -> None:
    head = f"调整情况（{result.region}，{result.today}）"
    if result.last_annual:
        head += f" · 上次年度调整 {result.last_annual}"
    console.print(styled(head, "bold"))
    for a in result.open:
        label, style = _days(a.days_left)
        line = styled(f"  {a.id}  ", "bold")
        line.append(plain(a.kind))
        if a.trigger:
            line.append(plain(f"  触发 {a.trigger}"))
        if a.opened:
            line.append(plain(f"  启动 {a.opened}"), style="dim")
        line.append(f"  时限 {a.deadline}  " if a.deadline else "  ")
        line.append(plain(label), style=style)
        console.print(line)
    if not result.open:
        console.print("没有进行中的调整。")
    if result.citing:
        console.print()
        console.print(styled(f"仍引用废弃或被替代知识的条目（{len(result.citing)} 处）：", "bold yellow"))
        _citing_lines(result.citing, console)
    else:
        console.print("没有条目引用废弃或被替代的知识。")
