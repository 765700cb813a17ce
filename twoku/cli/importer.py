"""``twoku import nhsa|codes``: NHSA's 知识点明细 workbooks and national code database exports, into tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from twoku.cli.application import Format, app, emit, guarded, stderr, stdout

importer = typer.Typer(
    help="导入国家医保局发布的知识点明细工作簿和国家代码数据库，写成受变更控制的知识点明细表。\n\n"
    "示例：twoku import nhsa 第十批.xlsx --class 药品区分性别使用 --batch 第十批 --effective 2026-03-01；"
    "twoku import codes 西药代码.csv --system CN-K-0030",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(importer, name="import")


@contextmanager
def _progress(show: bool) -> Iterator[Callable[[str], None]]:
    """Stages of a long import on stderr (a spinner on a terminal); stdout stays for the result."""
    console = stderr()
    if not show or not console.is_terminal:
        yield lambda _: None
        return
    with console.status("导入中 …") as status:
        yield lambda text: status.update(text)


@importer.command("nhsa")
@guarded
def nhsa(
    workbooks: list[Path] = typer.Argument(..., metavar="WORKBOOK…", help="同一批次的工作簿：.xlsx、.xls 或 .csv"),
    rule_class: str = typer.Option(
        ..., "--class", "-c", help="规则类别名称或框架编码，如 药品区分性别使用、GZ10000301004000"
    ),
    layer: str = typer.Option(
        None, "--layer", "-l", help="写入的层级：CN 或地区代码（默认本库层级）", show_default=False
    ),
    batch: str = typer.Option(None, "--batch", "-b", help="批次，如 第十批", show_default=False),
    published: str = typer.Option(
        None, "--published", help="公布日期 YYYY-MM-DD（记入批次知识的发布日期）", show_default=False
    ),
    effective: str = typer.Option(
        None,
        "--effective",
        help="执行日期 YYYY-MM-DD：给出时启动即时调整并以它为完成时限（第十六条）",
        show_default=False,
    ),
    source: str = typer.Option(None, "--source", help="来源，如公告网址", show_default=False),
    keep: bool = typer.Option(
        False, "--keep", help="补充批次：保留库中表格里工作簿没有列出的行（默认工作簿即该类别的完整清单）"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查并显示将有的变化，不写入"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """导入一个批次的知识点明细工作簿，写成该规则类别在本层的知识点明细表，校验、封存并提交。

    按表头名称找到表头（可在标题行、合并单元格之下）；支持“知识点明细”单表（代码在一列中，一格多个代码亦可）、
    知识点表加“知识点对应药品代码”表（按对应知识点序号关联）、以及项目A/项目B成对的格式。代码一律作文本：
    被表格软件存成数字而丢了前导零的代码按编码规则的位数补回并说明；全角字母数字和多余空格规范化；
    限定性别、支付不超过N天、限二级及以上、限工伤/生育保险等规整的限定写成单独的列，原文保留在“限定条件”列。

    每行按代码（项目对按两个代码）为键：同一工作簿导入两次不会有变化，下一批次显示为新增、删除、修改的行。
    批次记为一条政策规范知识（标题、公布日期、来源），表格条目引用它；给出 --effective 时启动即时调整（第十五条），
    完成时限为执行日期（第十六条）。遇到不认识的表头即停止，列出读到的和认识的表头，不写入任何文件。

    示例：

      twoku import nhsa 第十批.xlsx --class 药品区分性别使用 --batch 第十批 --published 2026-02-01
      --effective 2026-03-01 --source https://…

      twoku import nhsa 重复收费.xls --class GZ10000102012000 --dry-run

      twoku import nhsa 第十批.xlsx --class 药品儿童专用 --format json > 结果.json
    """
    from twoku.ops.importer import nhsa as run
    from twoku.render import importer as render
    from twoku.store.files import find_root

    with _progress(fmt is Format.text) as progress:
        result = run(
            find_root(), workbooks, rule_class, layer, batch, published, effective, source, dry_run, progress, keep
        )
    if fmt is Format.json:
        emit(render.imported_json(result))
    else:
        render.imported_text(result, stdout())


@importer.command("codes")
@guarded
def codes(
    export: Path = typer.Argument(..., metavar="FILE", help="国家代码数据库的导出文件：.csv、.xlsx 或 .xls"),
    system: str = typer.Option(..., "--system", "-s", help="编码体系的知识编号，如 CN-K-0030（医保药品分类与代码）"),
    mapping: str = typer.Option(
        None,
        "--map",
        "-m",
        help="列名=表头，逗号分隔，如 code=药品代码,name=注册名称（默认按列的中文标题）",
        show_default=False,
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查并显示将有的变化，不写入"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """把国家代码数据库的导出文件导入为编码体系的代码表：代码须符合编码规则，校验、封存并提交。

    示例：

      twoku import codes 医保药品分类与代码.csv --system CN-K-0030 --map code=药品代码,name=注册名称,note=备注

      twoku import codes 医疗服务项目.xlsx --system CN-K-0033 --dry-run
    """
    from twoku.ops.importer import codes as run
    from twoku.render import importer as render
    from twoku.store.files import find_root

    with _progress(fmt is Format.text) as progress:
        result = run(find_root(), export, system, mapping, dry_run, progress)
    if fmt is Format.json:
        emit(render.imported_json(result))
    else:
        render.imported_text(result, stdout())
