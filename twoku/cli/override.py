"""``twoku override rebase``: re-bind a localisation after reviewing its upper rule's change."""

from __future__ import annotations

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout

override = typer.Typer(
    help="本地化（override）的维护：上级规则修改后，复核并重新绑定。\n\n示例：twoku override rebase 510000-O-0001",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(override, name="override")


@override.command("rebase")
@guarded
def rebase(
    override_id: str = typer.Argument(..., metavar="ID", help="本地化编号，如 510000-O-0001"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只显示上级规则的修改，不改文件"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """显示上级规则自本地化编写以来改了什么，然后把 base_digest 更新为上级规则现行的内容摘要。

    本地参数超出上级修改后的范围（或上级已删除该参数）时拒绝，并说明现在允许的范围；
    本地化的是知识点明细表时，列出本地增删的行中上级已改动的（上级已删除本地要删的行、
    上级已有本地增补的行）。文件的注释和格式保持不变。更新后请复核并提交。

    示例：

      twoku override rebase 510000-O-0001 --dry-run

      twoku override rebase 510000-O-0001
    """
    from twoku.ops.override import rebase as run
    from twoku.render import new as render
    from twoku.store.files import find_root

    done = run(find_root(), override_id, dry_run)
    if fmt is Format.json:
        emit(render.rebased_json(done))
    else:
        render.rebased_text(done, stdout())
