"""``twoku adjust annual|instant|close|status``: annual and instant adjustments (第十三条 to 第十六条)."""

from __future__ import annotations

from pathlib import Path

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout

adjust = typer.Typer(
    help="两库调整（第十三条至第十六条）：年度调整与即时调整的记录、时限和标签。\n\n"
    "年度调整原则上每年一次（第十四条）；即时调整在所依据的法律法规、政策文件等变化时启动，"
    "不晚于新依据的执行起始时间完成（第十五、十六条）。调整记录写入 adjustments/，完成时打标签 "
    "annual/<地区>/<年份> 或 instant/<地区>/<日期>-<简称>，twoku diff --since last-annual 由此比较。\n\n"
    "示例：twoku adjust status；twoku adjust annual --year 2026 --plan 调整计划.txt",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(adjust, name="adjust")


@adjust.command("annual")
@guarded
def annual(
    year: int = typer.Option(..., "--year", "-y", help="调整年度，如 2026"),
    plan: Path = typer.Option(
        None, "--plan", "-p", help="调整计划（第十四条，征求意见后形成）：UTF-8 文本文件", show_default=False
    ),
    date: str = typer.Option(None, "--date", "-d", help="完成日期，YYYY-MM-DD（默认今天）", show_default=False),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """记录本层的年度调整：写入 adjustments/<层级>-annual-<年份>.yaml（已完成），提交并打标签 annual/<地区>/<年份>。

    调整范围和内容取自上次年度调整（last-annual，没有则为第一次提交）以来本层条目的变更，
    与 twoku diff --since last-annual --layer <本层> 相同。两库文件须已全部提交。
    提交或标签任一失败时，不留下文件、提交或标签。

    示例：

      twoku adjust annual --year 2026 --plan 2026年度调整计划.txt

      twoku adjust annual --year 2026 --date 2026-12-20 --format json
    """
    from twoku.ops.adjust import annual as run
    from twoku.render import adjust as render
    from twoku.store.files import find_root

    result = run(find_root(), year, plan, date)
    if fmt is Format.json:
        emit(render.adjusted_json(result))
    else:
        render.adjusted_text(result, stdout())


@adjust.command("instant")
@guarded
def instant(
    trigger: str = typer.Option(..., "--trigger", "-t", help="引起调整的知识编号，如被替代的旧法规 CN-K-0014"),
    slug: str = typer.Option(..., "--slug", "-s", help="简称：小写字母、数字和连字符，如 drug-list-2026"),
    deadline: str = typer.Option(
        None,
        "--deadline",
        help="完成时限 YYYY-MM-DD；默认为替代它的新依据（superseded_by）的施行日期，触发知识本身是新依据时为其施行日期",
        show_default=False,
    ),
    kind: str = typer.Option(None, "--kind", "-k", help="第十五条情形：法律法规政策调整（默认）、技术更新升级、其他"),
    date: str = typer.Option(None, "--date", "-d", help="启动日期，YYYY-MM-DD（默认今天）", show_default=False),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """启动一次即时调整：写入 adjustments/<层级>-instant-<日期>-<简称>.yaml（状态 进行中）并提交。

    第十六条：即时调整不晚于相关法律法规、政策文件的执行起始时间完成。得不出时限又未给出 --deadline 时拒绝。
    同时列出仍引用被替代知识的规则和知识，即需要调整的条目。

    示例：

      twoku adjust instant --trigger CN-K-0014 --slug drug-list-2025

      twoku adjust instant --trigger 510000-K-0002 --slug local-policy --deadline 2026-09-01 --kind 其他
    """
    from twoku.ops.adjust import instant as run
    from twoku.render import adjust as render
    from twoku.store.files import find_root

    result = run(find_root(), trigger, slug, deadline, kind, date)
    if fmt is Format.json:
        emit(render.adjusted_json(result))
    else:
        render.adjusted_text(result, stdout())


@adjust.command("close")
@guarded
def close(
    adjustment_id: str = typer.Argument(None, metavar="[ID]", help="调整记录编号；只有一个进行中的即时调整时可省略"),
    date: str = typer.Option(None, "--date", "-d", help="完成日期，YYYY-MM-DD（默认今天）", show_default=False),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """完成进行中的即时调整：状态改为 已完成并写明完成日期，提交并打标签 instant/<地区>/<日期>-<简称>。

    提交或标签任一失败时，记录恢复原样，不留下提交或标签。

    示例：

      twoku adjust close

      twoku adjust close CN-instant-20260301-drug-list-2025 --date 2026-03-20
    """
    from twoku.ops.adjust import close as run
    from twoku.render import adjust as render
    from twoku.store.files import find_root

    result = run(find_root(), adjustment_id, date)
    if fmt is Format.json:
        emit(render.adjusted_json(result))
    else:
        render.adjusted_text(result, stdout())


@adjust.command("status")
@guarded
def status(fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式")) -> None:
    """列出进行中的调整及其完成时限（剩余天数），以及仍引用废弃或被替代知识的规则和知识。

    示例：

      twoku adjust status

      twoku adjust status --format json
    """
    from twoku.ops.adjust import status as run
    from twoku.render import adjust as render
    from twoku.store.files import find_root

    result = run(find_root())
    if fmt is Format.json:
        emit(render.status_json(result))
    else:
        render.status_text(result, stdout())
