"""``twoku publish --public-summary``: the monitoring points and standards a region discloses."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout


class Audience(StrEnum):
    institutions = "institutions"
    society = "society"


@app.command()
@guarded
def publish(
    public_summary: bool = typer.Option(
        False, "--public-summary", help="生成公开摘要：监控要点、标准、应用场景、判断等级、违规情形及依据"
    ),
    region: str = typer.Option(
        None, "--region", "-r", help="地区代码：国家 CN，省如 510000，市如 510100（默认本库层级）", show_default=False
    ),
    audience: Audience = typer.Option(
        Audience.institutions,
        "--audience",
        "-a",
        help="公开对象：institutions 定点医药机构（可见 社会 与 机构 两级字段），society 社会公众（只见 社会 级字段）",
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="生效日期 YYYY-MM-DD：只收录该日生效的规则（默认今天）", show_default=False
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="输出目录（默认 ./public-summary-<地区>-<日期>）", show_default=False
    ),
    formats: str = typer.Option("html,md,xlsx,json", "--format", "-f", help="输出格式，逗号分隔：html,md,xlsx,json"),
    report: Format = typer.Option(
        Format.text,
        "--report",
        help="终端报告的格式：json 时标准输出只有所写文件（路径、大小、sha256）、条数、标签和版本",
    ),
) -> None:
    """向定点医药机构或社会公开某地区的监控要点和标准（第十二条）。

    按国家 + 本省 + 本市的生效库，收录 --as-of 当日生效的规则：编号、名称、分类、定义、
    监控要点、在本地执行的参数与阈值及其设定层级、应用场景、判断等级、违规情形、所依据的知识
    （标题、文号、条款），以及自上次发布以来的变更。哪些字段可公开由 schema 的
    x-twoku-disclosure 标注决定；论证人员、内部备注等内部字段从不输出。疑似身份证号、
    手机号的取值会使发布被拒绝。

    发布前先检查（同 twoku validate --region）：该地区适用的各层级有错误时拒绝发布，不写文件、
    不打标签；警告不阻止发布，只在报告中提示。

    只从已提交的版本发布；发布后打标签 publish/<地区>/<日期>（twoku diff --since last-publish
    可用）。同一版本、同一日期重复发布，得到逐字节相同的文件。

    示例：

      twoku publish --public-summary --region 510100 --as-of 2026-01-01

      twoku publish --public-summary --region 510000 --audience society --format html,xlsx --out 公开

      twoku publish --public-summary --region CN --format json --out build/ --report json
    """
    import datetime as dt

    from twoku.errors import UsageError
    from twoku.ops.publish import parse_formats
    from twoku.ops.publish import publish as run
    from twoku.store.files import find_root

    if not public_summary:
        raise UsageError("请指明发布内容", hint="目前可发布公开摘要：twoku publish --public-summary --region 510100")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise UsageError(f"--as-of {as_of} 不是日期", hint="写成 YYYY-MM-DD，如 2026-01-01") from None
    from twoku.render.publish import outcome

    result = run(find_root(), region, audience.value, day, out, parse_formats(formats))
    if report is Format.json:
        emit(outcome.published_json(result))
    else:
        outcome.published_text(result, stdout())
