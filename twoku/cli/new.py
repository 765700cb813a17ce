"""``twoku new rule|knowledge|override``: scaffolding that passes ``validate`` at once.

Missing values are asked for at the terminal (numbered lists to choose from);
``--no-input`` never asks, for scripts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout
from twoku.errors import UsageError

T = TypeVar("T")

new = typer.Typer(
    short_help="新建规则、知识或本地化（草稿），编号取本层下一个空号。",
    help="新建规则、知识或本地化（草稿）：编号取本层下一个空号，文件放在编号决定的位置，"
    "必填字段齐全，需作者填写处标为“【待填写：…】”，并用 git 暂存。\n\n"
    "示例：twoku new rule --layer 510000；twoku new knowledge --layer CN --category 法律法规；"
    "twoku new override CN-R-0017 --layer 510100",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(new, name="new")

NO_INPUT = typer.Option(False, "--no-input", help="不提问：缺少的内容用占位符（供脚本使用）")
COMMIT = typer.Option(False, "--commit", help="同时提交（默认只暂存）")
FORMAT = typer.Option(Format.text, "--format", "-f", help="输出格式")


def _ask(prompt: Callable[[], T]) -> T:
    try:
        return prompt()
    except typer.Abort as abort:
        # click turns both Ctrl-C and the end of input into Abort; Ctrl-C is an interruption (exit 130)
        if isinstance(abort.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise UsageError(
            "没有读到输入，未新建任何文件", hint="在脚本中请加 --no-input，并用选项给出所需内容（见 --help）"
        ) from None


def _menu(title: str, options: Sequence[str]) -> None:
    from twoku.render.terminal import plain  # the options are titles from the store

    typer.echo(plain(title), err=True)
    for n, option in enumerate(options, 1):
        typer.echo(f"  {n:>2}. {plain(option)}", err=True)


def _plain(text: str) -> str:
    from twoku.render.terminal import plain

    return plain(text)


def _split(answer: str) -> list[str]:
    return [part for part in re.split(r"[,，、\s]+", answer.strip()) if part]


def pick_one(title: str, labels: Sequence[str], shown: Sequence[str] | None = None, default: str | None = None) -> str:
    """One of ``labels``, chosen by number or by name."""
    _menu(title, shown or labels)
    while True:
        answer = str(
            _ask(lambda: typer.prompt("请输入序号", default=default or "", show_default=bool(default), err=True))
        ).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(labels):
            return labels[int(answer) - 1]
        if answer in labels:
            return answer
        typer.echo(f"“{_plain(answer)}”不在列表中，请输入 1 至 {len(labels)} 的序号。", err=True)


def pick_many(title: str, labels: Sequence[str], shown: Sequence[str] | None = None, default: str = "") -> list[str]:
    """Several of ``labels`` (numbers or names, separated by commas or spaces); ``ID:条款`` keeps its article."""
    _menu(title, shown or labels)
    while True:
        answer = _ask(
            lambda: typer.prompt(
                "请输入序号，可多个，用逗号分隔", default=default, show_default=bool(default), err=True
            )
        )
        chosen: list[str] = []
        bad: list[str] = []
        for part in _split(answer):
            head, sep, tail = part.replace("：", ":").partition(":")
            if head.isdigit() and 1 <= int(head) <= len(labels):
                head = labels[int(head) - 1]
            (chosen if head in labels else bad).append(head + sep + tail)
        if chosen and not bad:
            return list(dict.fromkeys(chosen))
        typer.echo(f"请从列表中选择（无法识别：{_plain('、'.join(bad))}）。" if bad else "至少选择一项。", err=True)


def _text(label: str) -> str:
    return str(
        _ask(lambda: typer.prompt(f"{label}（可留空，稍后在文件中填写）", default="", show_default=False, err=True))
    )


def _done(created: Any, fmt: Format) -> None:
    from twoku.render import new as render

    if fmt is Format.json:
        emit(render.created_json(created))
    else:
        render.created_text(created, stdout())


@new.command("rule")
@guarded
def rule(
    layer: str = typer.Option(None, "--layer", "-l", help="所属层级：CN、省代码或市代码（默认本库层级）"),
    category: str = typer.Option(None, "--category", "-c", help="规则分类（二级分类名称或英文简称，如 drug-policy）"),
    name: str = typer.Option(None, "--name", "-n", help="规则名称"),
    level: str = typer.Option(None, "--level", help="判断等级：明确违规 或 可疑（默认 可疑）"),
    scenarios: list[str] = typer.Option(
        None,
        "--scenario",
        "-s",
        help="应用场景（第十九条），可重复；默认 支付审核；写就医场景（门诊、住院…）则记入 scenarios",
    ),
    basis: list[str] = typer.Option(None, "--basis", "-b", help="依据的知识编号，可写 编号:条款，可重复；至少一条"),
    no_input: bool = NO_INPUT,
    commit: bool = COMMIT,
    fmt: Format = FORMAT,
) -> None:
    """新建一条规则（草稿），写到编号决定的位置并暂存。

    在终端中逐项提问：名称、分类（列表选择）、判断等级、应用场景、依据（列出本层级链中的知识）。
    选项都给出时不提问；--no-input 从不提问。依据至少一条（第八条：规则基于知识库产生）。

    示例：

      twoku new rule --layer 510000

      twoku new rule --layer CN --category 行为主体监管类 --name 分解住院 --level 可疑
        --scenario 支付审核 --scenario 稽核 --basis CN-K-0003:第十五条 --no-input --commit
    """
    from twoku.model import enums
    from twoku.ops import new as op
    from twoku.store.files import find_root

    ctx = op.context(find_root(), layer)
    scenarios, basis = list(scenarios or []), list(basis or [])
    if not no_input:
        if name is None:
            name = _text("规则名称")
        if category is None:
            shown = [f"{rc.label}（{rc.group}）" for rc in enums.RULE_CATEGORIES]
            category = pick_one("规则分类：", enums.labels(enums.RULE_CATEGORIES), shown)
        if level is None:
            level = pick_one("判断等级：", list(enums.LEVELS), default="2")
        if not scenarios:
            scenarios = pick_many("应用场景（第十九条）：", list(enums.USES), default="3")
        if not basis:
            offers = [o.id for o in ctx.knowledge]
            if not offers:
                raise UsageError(
                    f"{ctx.layer} 的层级链中还没有知识，规则无从依据", hint="先用 twoku new knowledge 新建知识"
                )
            shown = [f"{o.id}  {o.title}（{o.category}）" for o in ctx.knowledge]
            basis = pick_many("依据（第八条），可写 序号:条款，如 1:第十五条：", offers, shown)
    elif category is None:
        raise UsageError("--no-input 时须给出 --category", hint="如 --category 行为主体监管类")
    _done(op.new_rule(ctx, category, basis, name, level, scenarios, commit), fmt)


@new.command("knowledge")
@guarded
def knowledge(
    layer: str = typer.Option(None, "--layer", "-l", help="所属层级：CN、省代码或市代码（默认本库层级）"),
    category: str = typer.Option(None, "--category", "-c", help="知识类别（第七条）：名称或英文简称，如 laws"),
    title: str = typer.Option(None, "--title", "-t", help="文件或知识的正式名称"),
    no_input: bool = NO_INPUT,
    commit: bool = COMMIT,
    fmt: Format = FORMAT,
) -> None:
    """新建一条知识（草稿）：法律法规、政策规范、医药学知识、医保信息业务编码或管理规范（第七条）。

    示例：

      twoku new knowledge --layer 510000

      twoku new knowledge --layer CN --category 法律法规 --title 医疗保障基金使用监督管理条例 --no-input
    """
    from twoku.model import enums
    from twoku.ops import new as op
    from twoku.store.files import find_root

    ctx = op.context(find_root(), layer)
    if not no_input:
        if category is None:
            shown = [f"{t.label}：{t.gloss}" for t in enums.KNOWLEDGE_CATEGORIES]
            category = pick_one("知识类别（第七条）：", enums.labels(enums.KNOWLEDGE_CATEGORIES), shown)
        if title is None:
            title = _text("标题")
    elif category is None:
        raise UsageError("--no-input 时须给出 --category", hint="如 --category 法律法规")
    _done(op.new_knowledge(ctx, category, title, commit), fmt)


@new.command("override")
@guarded
def override(
    rule_id: str = typer.Argument(..., metavar="RULE-ID", help="要本地化的上级规则编号，如 CN-R-0017"),
    layer: str = typer.Option(None, "--layer", "-l", help="本地化所属层级：省或市代码（默认本库层级）"),
    reason: str = typer.Option(None, "--reason", help="本地化理由"),
    no_input: bool = NO_INPUT,
    commit: bool = COMMIT,
    fmt: Format = FORMAT,
) -> None:
    """新建一条本地化（草稿）：预先填好上级规则的可本地化参数（当前取值，注释中注明允许范围）
    和上级规则现行的内容摘要 base_digest。

    只能本地化本层级链上级的规则（市：本省或国家；省：国家）。

    示例：

      twoku new override CN-R-0017 --layer 510000

      twoku new override CN-R-0017 --layer 510100 --reason 本市协议管理要求 --no-input
    """
    from twoku.ops import new as op
    from twoku.store.files import find_root

    ctx = op.context(find_root(), layer)
    op.upper_rule(ctx, rule_id)  # refuse before asking anything
    if not no_input and reason is None:
        reason = _text("本地化理由")
    _done(op.new_override(ctx, rule_id, reason, commit), fmt)


@app.command("renumber")
@guarded
def renumber(
    old: str = typer.Argument(..., metavar="OLD", help="原编号，如 CN-R-0031"),
    new_id: str = typer.Argument(..., metavar="NEW", help="新编号（同层级、同类别，未被使用），如 CN-R-0034"),
    path: str = typer.Option(None, "--path", help="原编号重复时，指定要改号的文件"),
    commit: bool = COMMIT,
    fmt: Format = FORMAT,
) -> None:
    """给条目改号：按新编号移动文件（git mv）、修改 id，并更新全库对它的引用。

    引用包括依据（basis）、本地化目标（target）、被替代为（superseded_by）、替代条目（replaced_by）、
    论证对象、调整范围与触发知识、豁免；文件的注释和格式保持不变。两人在不同分支新建了同一编号时，
    合并后 twoku validate 报 TK301，用本命令给后来者改号（重复时引用指向哪一个无法判断，只列出不修改）。

    示例：

      twoku renumber CN-R-0031 CN-R-0034 --path national/rules/drug-policy/CN-R-0031.yaml

      twoku renumber 510000-K-0004 510000-K-0007 --commit
    """
    from twoku.ops.renumber import renumber as run
    from twoku.render import new as render
    from twoku.store.files import find_root

    done = run(find_root(), old, new_id, path, commit)
    if fmt is Format.json:
        emit(render.renumbered_json(done))
    else:
        render.renumbered_text(done, stdout())
