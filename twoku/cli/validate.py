"""``twoku validate`` and ``twoku checks``."""

from __future__ import annotations

from pathlib import Path

import typer

from twoku.cli.application import app, emit, guarded, stdout
from twoku.cli.plain import ReportFormat, report

__all__ = ["ReportFormat", "list_checks", "validate"]


@app.command()
@guarded
def validate(
    paths: list[Path] = typer.Argument(None, help="只检查这些文件或目录（默认整个库）", show_default=False),
    region: str = typer.Option(None, "--region", "-r", help="只检查该地区的生效库：国家 + 本省 + 本市，如 510100"),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="输出格式"),
    strict: bool = typer.Option(False, "--strict", help="有警告也以失败退出"),
    no_cache: bool = typer.Option(False, "--no-cache", help="不使用缓存，全部重新检查"),
) -> None:
    """检查库中每个文件：YAML 语法、JSON Schema、编号与路径、引用、层级、生命周期与论证。

    报告全部问题（不止第一个），每个问题带文件、行号、检查代码和处理建议。
    没有错误时退出码为 0，有错误为 1（--strict 时警告也算）。

    示例：

      twoku validate

      twoku validate provincial/510000 --region 510000

      twoku validate --format sarif > twoku.sarif
    """
    raise typer.Exit(report(paths or [], region, fmt, strict, no_cache))


@app.command("checks")
@guarded
def list_checks(
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="输出格式（text 或 json）"),
) -> None:
    """列出全部检查代码及其说明（代码一经发布不改变含义）。

    示例：

      twoku checks

      twoku checks --format json
    """
    import json

    from twoku.checks import CHECKS

    if fmt is not ReportFormat.text:
        emit(
            json.dumps(
                [{"code": c.code, "name": c.name, "severity": c.severity, "doc": c.doc} for c in CHECKS.values()],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    from rich.table import Table

    from twoku.render.tables import Prose, add_text_column

    table = Table(box=None, show_edge=False, expand=True)
    table.add_column("代码", no_wrap=True)
    table.add_column("名称", no_wrap=True)  # a stable English name: read whole
    table.add_column("级别", no_wrap=True)
    add_text_column(table, "说明", ratio=3)
    for code in sorted(CHECKS):
        c = CHECKS[code]
        level = {"error": "错误", "warning": "警告"}.get(c.severity, c.severity)
        table.add_row(c.code, c.name, level, Prose(c.summary))
    stdout().print(table)
