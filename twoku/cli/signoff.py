"""``twoku signoff record|status|show``: argumentation records (第九条 to 第十一条)."""

from __future__ import annotations

from pathlib import Path

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout

signoff = typer.Typer(
    help="论证记录（第九条至第十一条）：记录学术、业务、行业论证，查看每条规则的论证是否齐全、现行。\n\n"
    "论证记录以内容摘要绑定所论证的条目：条目的规范性内容此后被修改，记录即过时，需要重新论证。\n\n"
    "示例：twoku signoff status --region 510000；twoku signoff show CN-A-0001",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(signoff, name="signoff")


@signoff.command("record")
@guarded
def record(
    ids: list[str] = typer.Argument(..., metavar="ID...", help="所论证的规则、知识或本地化的编号"),
    kind: str = typer.Option(..., "--kind", "-k", help="论证形式：学术论证、业务论证或行业论证"),
    date: str = typer.Option(..., "--date", "-d", help="论证日期，YYYY-MM-DD"),
    organizer: str = typer.Option(..., "--organizer", "-o", help="组织论证的单位"),
    participants: list[str] = typer.Option(
        ..., "--participant", "-p", help="参加人员：“姓名|单位|领域[|单位类型]”，可重复；单位类型缺省时由单位名称推断"
    ),
    conclusion: str = typer.Option(..., "--conclusion", "-c", help="论证结论：通过、修改后通过或不通过"),
    opinions: Path = typer.Option(None, "--opinions", help="主要意见文件（UTF-8 文本，每行一条）", show_default=False),
    minutes: Path = typer.Option(
        None, "--minutes", help="会议纪要文件（须在库中）：记录其路径，未提交时随记录一并提交", show_default=False
    ),
    layer: str = typer.Option(None, "--layer", "-l", help="记录归属的层级（对象分属多个层级时必填），如 510000"),
    no_commit: bool = typer.Option(False, "--no-commit", help="只写文件，不提交"),
) -> None:
    """记录一次论证：写入 argumentation/<层级>-A-<序号>.yaml 并提交。

    每个论证对象按其已提交内容的内容摘要绑定；参加人员须符合第十条（学术论证：学会协会、
    高等院校、科研院所的专家；业务论证：医保行政部门、经办机构的医保管理、经办人员；
    行业论证：卫生健康、中医药管理部门及定点医药机构的专家）。不符合时拒绝并说明原因，不写任何文件。

    领域可选：医保管理、经办、医疗卫生、临床医学、药学、中医药、卫生健康管理、法律、信息技术、其他。

    示例：

      twoku signoff record CN-R-0001 CN-R-0002 --kind 业务论证 --date 2025-11-20
        --organizer 国家医疗保障局基金监管司
        --participant "张三|某省医疗保障局|医保管理"
        --participant "李四|某市医疗保障事务中心|经办"
        --conclusion 通过 --opinions 意见.txt

      twoku signoff record CN-R-0017 --kind 学术论证 --date 2025-11-21 --organizer 中国医疗保险研究会
        --participant "王五|某大学公共卫生学院|卫生健康管理"
        --participant "赵六|某某联合会|法律|学会协会" --conclusion 修改后通过
    """
    from twoku.ops.signoff import record as run
    from twoku.store.files import find_root

    done = run(
        find_root(),
        ids,
        kind,
        date,
        organizer,
        participants,
        conclusion,
        opinions,
        minutes,
        layer,
        commit=not no_commit,
    )
    subjects = "、".join(s["id"] for s in done.data["subjects"])
    where = f"，已提交 {done.commit[:10]}" if done.commit else "（未提交）"
    from twoku.render.terminal import styled

    stdout().print(styled(f"已写入 {done.path}{where}：{done.data['kind']} {subjects}，结论 {done.data['conclusion']}"))


@signoff.command("status")
@guarded
def status(
    region: str = typer.Option(None, "--region", "-r", help="地区代码：查看 国家 + 本省 + 本市 生效库中的规则"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """逐条规则列出所需的论证形式，以及每种论证是现行、已过时（并说明改了什么）、未通过还是缺失。

    所需论证由 twoku.yaml 的 argumentation 设定（默认每条规则须业务论证，标注第十一条论证重点的规则须三种论证）。

    示例：

      twoku signoff status

      twoku signoff status --region 510100

      twoku signoff status --format json
    """
    from twoku.ops.signoff import status as run
    from twoku.render import signoff as render
    from twoku.store.files import find_root

    result = run(find_root(), region)
    if fmt is Format.json:
        emit(render.status_json(result))
    else:
        render.status_text(result, stdout())


@signoff.command("show")
@guarded
def show(
    record_id: str = typer.Argument(..., metavar="RECORD-ID", help="论证记录编号，如 CN-A-0001"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """显示一条论证记录：对象及其是否仍与论证时一致、参加人员、结论和意见。

    示例：

      twoku signoff show CN-A-0001

      twoku signoff show 510000-A-0001 --format json
    """
    from twoku.ops.signoff import show as run
    from twoku.render import signoff as render
    from twoku.store.files import find_root

    view = run(find_root(), record_id)
    if fmt is Format.json:
        emit(render.record_json(view))
    else:
        render.record_text(view, stdout())
