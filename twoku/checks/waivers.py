"""TK7xx: the store's configuration, and waivers of findings (twoku.yaml ``waivers``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twoku.checks.registry import declare, finding, store_check
from twoku.model.findings import WARNING, Finding
from twoku.model.layout import CONFIG_FILE
from twoku.model.library import Library
from twoku.model.regions import region_problem

declare(
    "TK701",
    "waiver-expired",
    """豁免已过期：到期日期已过，问题重新计入。

    豁免是有期限的例外，而非永久的沉默。到期后请解决问题，或经审定后延长到期日期。
""",
)
declare("TK702", "waiver-unused", """豁免未匹配任何问题：问题已解决，或检查代码、条目编号写错。""", WARNING)


@store_check("TK703", "config-region")
def config_region(lib: Library) -> Iterator[Finding]:
    """twoku.yaml 中的本库层级（region）或地区名称不是有效的 GB/T 2260 代码。"""
    region = lib.config.get("region")
    if isinstance(region, str) and region_problem(region):
        yield finding(
            "TK703",
            f"本库层级 {region} 无效：{region_problem(region)}",
            CONFIG_FILE,
            ("region",),
            None,
            "国家库写 CN，省级写如 510000，市级写如 510100",
        )
    names = lib.config.get("regions")
    for code in names if isinstance(names, Mapping) else {}:
        problem = region_problem(str(code))
        if problem:
            yield finding("TK703", f"地区代码 {code} 无效：{problem}", CONFIG_FILE, ("regions", code))


def apply_waivers(findings: list[Finding], config: Mapping[str, Any], today: str) -> list[Finding]:
    """Mark the findings a current waiver covers; add findings for expired and unused waivers."""
    waivers = config.get("waivers")
    if not isinstance(waivers, list):
        return findings
    out = list(findings)
    for n, waiver in enumerate(waivers):
        if not isinstance(waiver, Mapping):
            continue
        code, item, reason = waiver.get("code"), waiver.get("id"), str(waiver.get("reason", ""))
        expires = str(waiver.get("expires", ""))
        matched = [i for i, f in enumerate(out) if f.code == code and f.item == item and f.counts]
        if expires and expires < today:
            out.append(
                finding(
                    "TK701",
                    f"对 {item} 的 {code} 豁免已于 {expires} 到期",
                    CONFIG_FILE,
                    ("waivers", n, "expires"),
                    item,
                    "解决该问题，或经审定后延长到期日期",
                )
            )
            continue
        if not matched:
            out.append(
                finding(
                    "TK702",
                    f"豁免 {code} / {item} 未匹配任何问题",
                    CONFIG_FILE,
                    ("waivers", n),
                    item,
                    "问题已解决时删除此豁免；否则核对检查代码和编号",
                )
            )
        for i in matched:
            out[i] = out[i].waive(reason or "已豁免")
    return out
