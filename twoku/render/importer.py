"""Rendering what ``twoku import`` did: the table written, its rows added, removed and changed, the cells mended."""

from __future__ import annotations

import json
from typing import Any

from twoku.model.importing import Imported


def imported_json(result: Imported) -> str:
    return json.dumps(result.as_json(), ensure_ascii=False, indent=2)


def imported_text(result: Imported, console: Any) -> None:
    from rich.text import Text

    what = f"{result.what}（{result.code}）" if result.code else result.what
    if result.dry_run:
        head, style = f"试运行（--dry-run），未写入任何文件：{what}", "bold yellow"
    elif result.unchanged:
        head, style = f"✓ {what}：与库中的表格相同，没有变化，未写入", "bold green"
    else:
        head, style = f"✓ 已导入 {what}", "bold green"
    console.print(Text(head, style=style))
    console.print(Text(f"  来源 {'、'.join(result.files)}（{result.layout}）"))
    console.print(Text(f"  知识条目 {result.item}（{result.item_path}），表格 {result.table_path}：{result.rows} 行"))
    if result.batch_id:
        console.print(Text(f"  批次记为政策规范知识 {result.batch_id}，表格条目的依据（basis）引用它"))
    counts = f"  新增 {result.added} 行，删除 {result.removed} 行，修改 {result.changed} 行"
    console.print(Text(counts, style="bold"))
    for label, kind, style in (("+", "added", "green"), ("-", "removed", "red"), ("~", "changed", "yellow")):
        for row in result.samples[kind]:
            console.print(Text(f"    {label} " + "，".join(f"{k}={v}" for k, v in row.items() if v), style=style))
    if result.restored:
        shown = "、".join(f"{a} → {b}" for a, b in result.restored_samples)
        console.print(Text(f"  恢复了 {result.restored} 个被表格软件去掉前导零的代码（按编码规则的位数）：{shown}"))
    for note in result.notes:
        console.print(Text(f"  注意：{note}", style="yellow"))
    if result.commit:
        console.print(Text(f"  已提交 {result.commit[:10]}；git show {result.commit[:10]} 查看逐行变化"))
    if result.adjustment:
        console.print(
            Text(f"  已启动即时调整 {result.adjustment}，完成时限 {result.deadline}（第十五、十六条）", style="bold")
        )
