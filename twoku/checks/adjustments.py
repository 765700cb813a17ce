"""TK608–TK609: adjustment deadlines (第十六条) — an open instant adjustment must be finished
no later than the day the new law, policy or norm takes effect; TK612: a rule an adjustment added is not
in force before that adjustment."""

from __future__ import annotations

from collections.abc import Iterator

from twoku.checks.registry import finding, store_check
from twoku.model.adjustments import NEAR_DAYS, date_of, is_open
from twoku.model.findings import WARNING, Finding
from twoku.model.library import Item, Library


def _days_left(lib: Library, item: Item) -> int | None:
    today, deadline = date_of(lib.today), date_of(item.data.get("deadline"))
    if today is None or deadline is None or not is_open(item):
        return None
    return (deadline - today).days


def _close_hint(item: Item) -> str:
    return f"完成调整后运行 twoku adjust close {item.id}；twoku adjust status 列出仍引用被替代知识的条目"


@store_check("TK608", "adjustment-deadline-near", WARNING)
def deadline_near(lib: Library) -> Iterator[Finding]:
    """进行中的调整距完成时限不足 30 天。

    第十六条：即时调整应不晚于相关法律法规、政策文件的执行起始时间完成。

    坏：``status: 进行中``、``deadline`` 在今天之后 30 天内
    好：按时完成并 ``twoku adjust close``（状态 已完成）
    """
    for item in lib.of_kind("adjustment"):
        left = _days_left(lib, item)
        if left is not None and 0 <= left <= NEAR_DAYS:
            when = "今天到期" if left == 0 else f"还剩 {left} 天"
            yield finding(
                "TK608",
                f"调整 {item.id} 的完成时限 {item.data.get('deadline')} {when}",
                item.path,
                ("deadline",),
                item.id,
                _close_hint(item),
            )


@store_check("TK609", "adjustment-deadline-passed")
def deadline_passed(lib: Library) -> Iterator[Finding]:
    """进行中的调整已超过完成时限（第十六条：不晚于新依据的执行起始时间）。

    坏：``status: 进行中``、``deadline: 2026-05-01``，而今天是 2026-06-01
    好：在时限前完成调整并 ``twoku adjust close``
    """
    for item in lib.of_kind("adjustment"):
        left = _days_left(lib, item)
        if left is not None and left < 0:
            yield finding(
                "TK609",
                f"调整 {item.id} 已超过完成时限 {item.data.get('deadline')}（逾期 {-left} 天）",
                item.path,
                ("deadline",),
                item.id,
                _close_hint(item),
            )


@store_check("TK612", "in-force-before-adjustment")
def in_force_before_adjustment(lib: Library) -> Iterator[Finding]:
    """调整记录列为新增（added）的规则，施行日期早于该调整完成的日期（进行中的调整：早于启动日期）：
    规则在产生它的调整之前就已生效（第十三条至第十五条：调整应在征求意见、论证后实施）。

    坏：年度调整 ``opened: 2025-09-01``、``closed: 2025-12-20``、``added: [CN-R-0024]``，而 CN-R-0024
    ``effective: 2025-01-01``
    好：CN-R-0024 ``effective: 2026-01-01``（调整完成之后）
    """
    for adjustment in lib.of_kind("adjustment"):
        added = adjustment.data.get("added")
        closed = date_of(adjustment.data.get("closed"))
        opened = date_of(adjustment.data.get("opened"))
        until, what = (closed, "完成") if closed is not None else (opened, "启动")
        if until is None or not isinstance(added, list):
            continue
        for k, item_id in enumerate(added):
            rule = lib.get(str(item_id), "rule")
            start = date_of(rule.data.get("effective")) if rule is not None else None
            if rule is None or start is None or not (rule.active or rule.deprecated) or start >= until:
                continue
            yield finding(
                "TK612",
                f"新增的规则 {rule.id} 施行日期 {start}，早于本调整{what}的日期 {until}",
                adjustment.path,
                ("added", k),
                adjustment.id,
                f"规则不能在产生它的调整之前生效：核对本调整的日期，或把 {rule.path} 的施行日期改为不早于 {until}",
            )
