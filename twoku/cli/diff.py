"""``twoku diff``: what changed in the libraries, per item, between two revisions."""

from __future__ import annotations

from enum import StrEnum

import typer

from twoku.cli.application import app, emit, guarded, stdout
from twoku.cli.publish import Audience


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


@app.command()
@guarded
def diff(
    since: str = typer.Option(
        None,
        "--since",
        "-s",
        help="起点：任意 git 版本，或 last-annual、last-instant、last-report、last-publish"
        "（默认 last-annual，没有则为第一次提交）",
        show_default=False,
    ),
    until: str = typer.Option(
        None,
        "--until",
        "-u",
        help="终点：任意 git 版本或 WORKTREE（含未提交的修改）；默认 HEAD，有未提交修改时为 WORKTREE",
        show_default=False,
    ),
    region: str = typer.Option(None, "--region", "-r", help="只看该地区的生效库：国家 + 本省 + 本市，如 510100"),
    layer: str = typer.Option(None, "--layer", "-l", help="只看一层：CN 或地区代码，如 510000"),
    fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", "-f", help="输出格式；md 为可发布的变更公告"),
    audience: Audience = typer.Option(
        Audience.society,
        "--audience",
        "-a",
        help="md 变更公告的公开对象，与 twoku publish 相同：society 社会公众（默认），institutions 定点医药机构",
    ),
) -> None:
    """按条目（而非按行）列出两个版本之间知识库、规则库的变更。

    变更分为 新增、修改、废弃、删除（应以废弃保留，会被标出）和 移动；修改列出每个字段的
    路径与 旧值 → 新值。本地化参数对照其目标规则显示。规范性内容有变、又没有针对现行内容的
    论证记录的条目标为“需重新论证”（与 twoku signoff status 一致）。只读取变更的文件，重新缩进
    或改引号不算变更。

    md 格式是可以公开的变更公告：与 twoku publish 一样按 schema 的 x-twoku-disclosure 只给公开
    对象可见的字段，不含草稿；规则文字按 --region 地区的生效取值代入参数。

    示例：

      twoku diff

      twoku diff --since last-annual --region 510100

      twoku diff --since annual/2025 --until HEAD --format md --region 510100 > 变更公告.md

      twoku diff --since HEAD~1 --until WORKTREE --layer 510000 --format json
    """
    from twoku.ops.diff import diff as run
    from twoku.render import diff as render
    from twoku.store.files import find_root

    result = run(find_root(), since, until, region, layer)
    if fmt is DiffFormat.json:
        emit(render.to_json(result))
    elif fmt is DiffFormat.md:
        emit(render.to_md(result, audience.value))
    else:
        render.to_text(result, stdout())
