"""``twoku init``: a new store, or this fork's own region in a clone of an upper store."""

from __future__ import annotations

from pathlib import Path

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout


@app.command("init")
@guarded
def init(
    directory: Path = typer.Argument(Path("."), metavar="DIR", help="新库的目录（不存在或为空），或上级库的克隆"),
    region: str = typer.Option(..., "--region", "-r", help="本库层级：CN，或 GB/T 2260 省、市代码，如 510000、510100"),
    upstream: str = typer.Option(
        None,
        "--upstream",
        "-u",
        help="从上级库起步：上级库的 git 地址、本机克隆或 git bundle 文件（新库含上级各层级，可接收上级的发布）",
    ),
    name: str = typer.Option(None, "--name", help="本地区名称（默认按 GB/T 2260 省名）"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """新建一个 twoku 库：twoku.yaml、schema/、各层级目录、中文 README、.gitignore，并做初始提交。

    给出 --upstream 时，新库从上级库克隆而来：含上级各层级，与上级共享 git 历史，此后上级
    twoku release 的归档用 twoku intake 接收（隔离网络中起步用上级给的 git bundle 文件）。

    在上级库的克隆中（目录中已有 twoku.yaml）运行时，不新建库，而是把本库层级登记为 --region
    （省可分出国家库，市可分出国家或本省的库），补建本层目录并提交。

    示例：

      twoku init 四川两库 --region 510000 --upstream https://git.example.org/nhsa/twoku-national.git

      twoku init 绵阳两库 --region 510700 --upstream 四川省两库.bundle

      cd twoku-510000   # 本省库的克隆

      twoku init . --region 510100 --name 成都市
    """
    from twoku.ops.init import init as run
    from twoku.render import new as render

    done = run(directory, region, upstream, name)
    if fmt is Format.json:
        emit(render.initialised_json(done))
    else:
        render.initialised_text(done, stdout())
