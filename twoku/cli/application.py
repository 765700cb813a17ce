"""The typer application, the error guard and the shared options.

Exit codes (README):  0 ok · 1 findings or a user error · 2 usage error ·
3 internal bug (a log with the traceback is written) · 130 interrupted.
Heavy modules are imported inside the commands, so ``twoku --help`` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup

from twoku import __version__
from twoku.cli import zh
from twoku.cli.console import crashed, emit, interrupted, report_error, show_notices, stderr, stdout
from twoku.errors import TwokuError

__all__ = ["LISTS", "Format", "app", "emit", "guarded", "listed", "report_error", "stderr", "stdout"]

F = TypeVar("F", bound=Callable[..., Any])
zh.install()  # click's and typer's own messages (help headings, usage errors) in Chinese

# The order `twoku --help` lists the commands in: a bureau's work from start to finish.
COMMAND_ORDER = (
    "init", "new", "validate", "checks", "ls", "show", "diff", "signoff", "adjust", "publish",
    "report-upstream", "release", "intake", "override", "renumber", "table", "import", "run", "compile", "test",
    "evaluate", "migrate", "serve",
)  # fmt: skip


class _Ordered(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: n for n, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))


app = typer.Typer(
    name="twoku",
    cls=_Ordered,
    help="两库（医保基金智能审核和监控知识库、规则库）管理工具 — 依据医保发〔2022〕12号。\n\n"
    "常用：twoku validate 检查整个库；twoku ls rules --region 510100 查看某地生效的规则；"
    "twoku show CN-R-0017 --region 510100 查看一条规则在当地的取值及其来源。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
)


class Format(StrEnum):
    text = "text"
    json = "json"


def guarded(fn: F) -> F:
    """Turn twoku's errors into a message and an exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        show_notices()
        try:
            return fn(*args, **kwargs)
        except TwokuError as error:
            report_error(error)
            raise typer.Exit(error.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(interrupted()) from None
        except Exception:
            raise typer.Exit(crashed()) from None

    return wrapper  # type: ignore[return-value]


# A command whose list option may be written as the README shows it (``--rules A B C``): typer gives an
# option one value each time, so the values after the first arrive as extra arguments (listed() takes them).
LISTS = {"allow_extra_args": True}


def listed(ctx: typer.Context, given: list[str] | None, flag: str) -> list[str]:
    """The values of a list option written ``flag A B C``, ``flag A flag B`` or ``flag A,B``, in order."""
    import re

    from twoku.errors import UsageError

    extra = [str(a) for a in ctx.args]
    if extra and not given:
        raise UsageError(f"多出了参数（{' '.join(extra)}）", hint=f"要列出多个编号，写在 {flag} 之后：{flag} A B C")
    return [value for part in [*(given or ()), *extra] for value in re.split(r"[,，、\s]+", part) if value]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"twoku {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="显示版本后退出"),
) -> None:
    """两库管理工具。"""
