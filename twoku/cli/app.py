"""The typer application, the error guard and the shared options.

Exit codes (README):  0 ok · 1 findings or a user error · 2 usage error ·
3 internal bug (a log with the traceback is written) · 130 interrupted.
Heavy modules are imported inside the commands, so ``twoku --help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup

from twoku import __version__
from twoku.errors import TwokuError

F = TypeVar("F", bound=Callable[..., Any])

# The order `twoku --help` lists the commands in: a bureau's work from start to finish.
COMMAND_ORDER = (
    "init", "new", "validate", "checks", "ls", "show", "diff", "signoff", "adjust", "publish",
    "report-upstream", "release", "intake", "override", "renumber", "run", "compile", "test", "evaluate",
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
    add_completion=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"


def stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def emit(text: str) -> None:
    """Machine output: the data and nothing else, on stdout."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _crash_log() -> Path:
    folder = Path(os.environ.get("TWOKU_LOG_DIR") or tempfile.gettempdir())
    fd, name = tempfile.mkstemp(prefix="twoku-crash-", suffix=".log", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"twoku {__version__}, Python {sys.version}\nargv: {sys.argv}\n\n")
        fh.write(traceback.format_exc())
    return Path(name)


def report_error(error: TwokuError) -> None:
    from rich.text import Text

    console = stderr()
    where = ""
    if error.path:
        where = f"{error.path}:{error.line}: " if error.line else f"{error.path}: "
    console.print(Text(f"错误：{where}{error.message}", style="bold red"))
    if error.hint:
        console.print(Text(f"  → {error.hint}", style="dim"))


def guarded(fn: F) -> F:
    """Turn twoku's errors into a message and an exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TwokuError as error:
            report_error(error)
            raise typer.Exit(error.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            stderr().print("已中断。", style="yellow")
            raise typer.Exit(130) from None
        except Exception:
            log = _crash_log()
            stderr().print(
                f"twoku 内部错误（这是 twoku 的缺陷，不是您的数据问题）。详细信息已写入 {log}，"
                "报告问题时请附上该文件。",
                style="bold red",
            )
            raise typer.Exit(3) from None

    return wrapper  # type: ignore[return-value]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"twoku {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="显示版本后退出"),
) -> None:
    """两库管理工具。"""
