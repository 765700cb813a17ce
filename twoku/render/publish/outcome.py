"""What ``twoku publish`` did: a calm summary for people, the same facts as JSON for scripts."""

from __future__ import annotations

import json
from typing import Any

from twoku.model.disclosure import AUDIENCE_LABELS
from twoku.render.publish import common
from twoku.render.terminal import plain, styled

FORMAT_WORDS = {"html": "网页", "md": "Markdown", "xlsx": "Excel 工作簿", "json": "JSON 数据"}


def published_dict(result: Any) -> dict[str, Any]:
    pub = result.publication
    return {
        "region": pub.region,
        "region_name": pub.region_name,
        "audience": pub.audience,
        "as_of": pub.as_of,
        "revision": pub.revision,
        "tag": result.tag,
        "tagged_now": result.tagged_now,
        "since": {"tag": pub.since_tag, "revision": pub.since_revision} if pub.since_tag else None,
        "rules": len(pub.rules),
        "categories": {c: sum(1 for r in pub.rules if r.category == c) for c in pub.categories()},
        "changes": len(pub.changes),
        "warnings": result.warnings,
        "files": [
            {"format": o.format, "path": str(o.path), "bytes": o.size, "sha256": o.sha256} for o in result.outputs
        ],
    }


def published_json(result: Any) -> str:
    return json.dumps(published_dict(result), ensure_ascii=False, indent=2)


def _size(n: int) -> str:
    return f"{n / 1024:,.1f} KB" if n >= 1024 else f"{n} 字节"


def published_text(result: Any, console: Any) -> None:
    from rich.table import Table

    pub = result.publication
    console.print(styled(f"已生成{common.title(pub)}", "bold green"))
    console.print(
        styled(
            f"  {pub.as_of} 生效 · 公开对象 {AUDIENCE_LABELS[pub.audience]} · {len(pub.rules)} 条规则，"
            f"{len(pub.changes)} 条变更（{common.since_words(pub)}）"
        )
    )
    table = Table(box=None, show_header=False, padding=(0, 1, 0, 2))
    table.add_column("格式")
    table.add_column("文件", overflow="fold")
    table.add_column("大小", justify="right", style="dim")
    for o in result.outputs:
        table.add_row(FORMAT_WORDS.get(o.format, o.format), plain(o.path), _size(o.size))
    console.print(table)
    recorded = "已记录发布" if result.tagged_now else "该版本此前已记录发布"
    console.print(styled(f"  {recorded}：标签 {result.tag}（版本 {pub.revision[:12]}）", "dim"))
    if result.warnings:
        console.print(
            styled(
                f"  库中有 {result.warnings} 个警告（不阻止发布）：twoku validate --region {pub.region} 查看", "yellow"
            )
        )
