"""``twoku migrate``: rewrite a store of an older schema version to the current one, in one commit."""

from __future__ import annotations

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout


@app.command("migrate")
@guarded
def migrate(
    dry_run: bool = typer.Option(False, "--dry-run", help="只列出将改写的文件和行，不改文件"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """把按旧结构版本书写的库改写为本 twoku 的结构版本，作为一次提交。

    结构版本 1 → 2：规则和本地化的 scenarios（第十九条应用场景）改名为 uses，取值和位置不变，
    注释和格式保留；twoku.yaml 的 schema_version 改为 2。按文件的写法判断是否需要改写，
    所以可以重复运行，也能改写合并进结构版本 2 的库中的旧文件。内容摘要不变，论证记录不会过时。
    有无法确定如何改写的文件时，逐个列出文件和行，什么也不改（退出码 1）。

    示例：

      twoku migrate --dry-run

      twoku migrate

      twoku migrate --format json
    """
    from twoku.ops.migrate import migrate as run
    from twoku.render import migrate as render
    from twoku.store.files import find_root

    done = run(find_root(), dry_run)
    if fmt is Format.json:
        emit(render.migration_json(done))
    else:
        render.migration_text(done, stdout())
    if done.refused:
        raise typer.Exit(1)
