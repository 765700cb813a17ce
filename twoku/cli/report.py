"""``twoku report-upstream``, ``twoku release`` and ``twoku intake``: changes travel as one archive file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from twoku.cli.application import LISTS, Format, app, emit, guarded, listed, stdout


@app.command("report-upstream", context_settings=LISTS)
@guarded
def report_upstream(
    ctx: typer.Context,
    since: str = typer.Option(
        None,
        "--since",
        "-s",
        help="起点：last-report（默认，上次报送的标签；从未报送则为从上级复制时的分叉点）或任意 git 版本",
        show_default=False,
    ),
    propose: list[str] = typer.Option(
        [], "--propose", "-p", help="建议上级采纳的本层规则或知识编号（第十四条第三项）：--propose A B（或重复）"
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="归档文件路径（默认 twoku-report-<地区>-<日期>.tar.gz）", show_default=False
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """把本层自上次报送以来新增和调整的知识、规则打成一个归档，报送上级（第五条）。

    归档（.tar.gz）内有：只含本层文件的补丁（git format-patch）、同一范围的 git bundle、
    清单 manifest.json（每个条目的内容摘要和论证记录、建议采纳的条目）和中文说明 cover.md。
    只改上级或其他地区文件的提交不会带上，并在清单中列出。生成后打标签 report/<上级>/<日期>，
    下次报送从这里开始。没有新内容时只提示，不生成文件。

    示例：

      twoku report-upstream

      twoku report-upstream --propose 510000-R-0001 --out 四川省报送.tar.gz

      twoku report-upstream --since HEAD~5 --format json
    """
    from twoku.model.exchange import REPORT

    _build(REPORT, since, listed(ctx, propose, "--propose"), out, fmt)


@app.command()
@guarded
def release(
    out: Path = typer.Option(..., "--out", "-o", help="归档文件路径，如 国家两库2025年度调整.tar.gz"),
    since: str = typer.Option(
        None, "--since", "-s", help="起点：last-annual（默认，上次年度调整完成时）或任意 git 版本", show_default=False
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """把本层（国家或省）的调整打成一个归档，发给下级库用 twoku intake 接收。

    归档与 report-upstream 的相同：只含本层文件的补丁、git bundle、清单和中文说明。
    下级接收时只改动上级层级的文件，并指出下级须复核的本地化和引用。

    示例：

      twoku release --out 国家两库2025年度调整.tar.gz

      twoku release --since annual/2024 --out 调整.tar.gz --format json
    """
    from twoku.model.exchange import RELEASE

    _build(RELEASE, since, (), out, fmt)


def _build(kind: str, since: str | None, propose: Sequence[str], out: Path | None, fmt: Format) -> None:
    """Build a report or a release archive and say what went into it."""
    from twoku.ops.report import build
    from twoku.render import report as render
    from twoku.store.files import find_root

    result = build(find_root(), kind, since, propose, out)
    if fmt is Format.json:
        emit(render.built_json(result))
    else:
        render.built_text(result, stdout())


@app.command()
@guarded
def intake(
    file: Path = typer.Argument(..., help="下级报送或上级发布的归档文件（.tar.gz）"),
    branch: str = typer.Option(
        None, "--branch", "-b", help="接收到的分支名（默认 intake/<地区>/<日期>）", show_default=False
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """接收下级的报送或上级的发布：先整体校验，再放到一个待审阅的分支上。

    校验（任何一项不通过即拒绝，库中不留下任何文件、分支或引用）：归档成员安全；补丁与清单
    一致；每个补丁只改发送方自己层级的文件（省不能借报送改动国家或其他省的文件；上级发布
    不会改动本库自己的层级）；git bundle verify 通过；补丁产生的内容摘要与清单一致。
    通过后用 git am 把补丁应用到新分支 intake/<地区>/<日期>（不切换当前分支、不动工作区），
    在该分支上运行 validate，并列出收到的条目；上级发布时列出本库须复核的本地化（TK506
    目标已变、TK505 参数超出新范围）和引用了已废弃知识的本地规则（TK403）。同一归档再次
    接收时提示“已接收过”。

    示例：

      twoku intake 四川省报送.tar.gz

      twoku intake 国家两库2025年度调整.tar.gz --branch 接收/2025年度调整

      twoku intake 报送.tar.gz --format json
    """
    from twoku.ops.intake import intake as run
    from twoku.render import report as render
    from twoku.store.files import find_root

    result = run(find_root(), file, branch)
    if fmt is Format.json:
        emit(render.intake_json(result))
    else:
        render.intake_text(result, stdout())
