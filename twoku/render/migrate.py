"""Output of ``twoku migrate``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from twoku.render.terminal import styled

WORDS = {"rule": "规则", "override": "本地化", "config": "库配置"}


def migration_json(migration: Any) -> str:
    data = asdict(migration)
    data["nothing_to_do"] = migration.nothing_to_do
    return json.dumps(data, ensure_ascii=False, indent=2)


def migration_text(m: Any, console: Any) -> None:
    if m.refused:
        console.print(styled(f"有 {len(m.refused)} 个文件无法确定如何改写，未改动任何文件：", "bold red"))
        for r in m.refused:
            console.print(styled(f"  {r.path}:{r.line}  {r.message}"))
            console.print(styled(f"    提示：{r.hint}", "dim"))
        return
    if m.nothing_to_do:
        console.print(styled(f"本库已是结构版本 {m.to_version}，没有需要改写的文件。"))
        return
    steps = f"结构版本 {m.from_version} → {m.to_version}" if m.config else f"结构版本 {m.to_version} 的库中的旧文件"
    counts = "、".join(f"{WORDS[k]} {n} 条" for k, n in m.counts.items() if n) or "无规则或本地化需改写"
    console.print(styled(f"{steps}：{counts}"))
    for r in (*((m.config,) if m.config else ()), *m.files):
        console.print(styled(f"  {r.path}:{r.line}  {r.change}"))
    if m.dry_run:
        console.print("（--dry-run：未修改文件）")
    elif m.commit:
        console.print(styled(f"已改写并提交 {m.commit[:10]}；内容摘要不变，论证记录仍然现行。下一步：twoku validate"))
    else:
        console.print(styled("已改写（本库不是 git 仓库，未提交）。下一步：twoku validate"))
