"""``twoku table``: a knowledge item's table (知识点明细) — see it, seal it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from twoku.cli.application import Format, app, emit, guarded, stdout
from twoku.errors import UsageError


class _ShowByDefault(TyperGroup):
    """``twoku table CN-K-0030`` means ``twoku table show CN-K-0030``: an ID is not a subcommand."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args.insert(0, "show")
        return super().resolve_command(ctx, args)


table = typer.Typer(
    cls=_ShowByDefault,
    help="知识点明细表：查看某地区生效的表格，修改后封存。\n\n"
    "示例：twoku table CN-K-0030；twoku table CN-K-0030 --format csv > 代码.csv；twoku table seal CN-K-0030",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(table, name="table")


class TableFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


@table.command("show")
@guarded
def show(
    item_id: str = typer.Argument(..., metavar="ID", help="知识条目编号，如 CN-K-0030"),
    region: str | None = typer.Option(
        None, "--region", "-r", help="地区代码：显示该地区生效的表格（国家 + 本省 + 本市）"
    ),
    fmt: TableFormat = typer.Option(TableFormat.text, "--format", "-f", help="输出格式：text、csv、json、xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="写到文件（xlsx 必须指定）"),
) -> None:
    """显示知识条目的表格：每行及其来源层级；终端只显示前 200 行，csv、json、xlsx 输出全部。

    示例：

      twoku table CN-K-0030

      twoku table CN-K-0030 --region 510100 --format csv > 成都市代码表.csv

      twoku table CN-K-0030 --format xlsx --out 代码表.xlsx
    """
    from twoku.ops.table import view
    from twoku.render import table as render
    from twoku.store.files import find_root

    if fmt is TableFormat.xlsx and out is None:
        raise UsageError("--format xlsx 须用 --out 指定文件", hint="如 --out 代码表.xlsx")
    from twoku.store.documents.edit import atomic_write

    shown = view(find_root(), item_id, region)
    if fmt is TableFormat.xlsx:
        assert out is not None
        atomic_write(out, render.view_xlsx(shown))
        return
    text = {TableFormat.csv: render.view_csv, TableFormat.json: render.view_json}.get(fmt)
    if text is None:
        render.view_text(shown, stdout())
    elif out is not None:
        atomic_write(out, text(shown).encode("utf-8"))
    else:
        emit(text(shown))


@table.command("seal")
@guarded
def seal(
    item_id: str = typer.Argument(..., metavar="ID", help="知识条目编号，如 CN-K-0030"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """封存表格：按键排序、以 UTF-8 规范格式重写，并把行数和内容摘要记入条目（table.rows、table.digest）。

    封存后条目的内容摘要涵盖表格各行：修改表格会在 twoku diff 中逐行显示，使论证记录过时，并提示
    下级本地化复核。修改表格而未封存时 twoku validate 报错（TK429）。旧式声明（table: 文件名.csv）
    封存时改为完整声明。有错误（表头、列数、重复或冲突的键）的表格不封存。

    示例：

      twoku table seal CN-K-0030 && git add national/knowledge/codes/CN-K-0030.*
    """
    from twoku.ops.table import seal as run
    from twoku.render import table as render
    from twoku.store.files import find_root

    done = run(find_root(), item_id)
    if fmt is Format.json:
        emit(render.sealed_json(done))
    else:
        render.sealed_text(done, stdout())
