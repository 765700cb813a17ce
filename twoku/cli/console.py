"""The terminal: rich consoles, machine output, error messages and crash logs, without typer.

``twoku validate`` with plain arguments runs without typer (cli/plain.py); typer's commands use the
same pieces through cli/application.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twoku import __version__
from twoku.errors import TwokuError


def stderr() -> Any:
    from twoku.render.terminal import console

    return console(stderr=True)


def stdout() -> Any:
    """The console of a command's output: text from data in it is shown as written (render/terminal.py)."""
    from twoku.render.terminal import console

    return console()


def emit(text: str) -> None:
    """Machine output: the data and nothing else, on stdout.  JSON (twoku's only output that starts with ``{`` or
    ``[``) with its C1 and bidirectional controls as ``\\u`` escapes too, as json.dumps writes C0 ones: the same
    data, and nothing that drives a terminal it is read on."""
    if text[:1] in ("{", "["):
        from twoku.model.controls import json_escaped

        text = json_escaped(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def crash_log() -> Path:
    folder = Path(os.environ.get("TWOKU_LOG_DIR") or tempfile.gettempdir())
    fd, name = tempfile.mkstemp(prefix="twoku-crash-", suffix=".log", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"twoku {__version__}, Python {sys.version}\nargv: {sys.argv}\n\n")
        fh.write(traceback.format_exc())
    return Path(name)


def report_error(error: TwokuError) -> None:
    from twoku.render.terminal import plain, styled

    console = stderr()
    where = ""
    if error.path:
        where = f"{plain(error.path)}:{error.line}: " if error.line else f"{plain(error.path)}: "
    console.print(styled(f"错误：{where}{plain(error.message, lines=True)}", style="bold red", lines=True))
    if error.hint:
        console.print(styled(f"  → {error.hint}", style="dim", lines=True))


def interrupted() -> int:
    stderr().print("已中断。", style="yellow")
    return 130


def crashed() -> int:
    """Say that twoku failed (its own bug), where the traceback is: the exit code of a crash."""
    log = crash_log()
    stderr().print(
        f"twoku 内部错误（这是 twoku 的缺陷，不是您的数据问题）。详细信息已写入 {log}，报告问题时请附上该文件。",
        style="bold red",
    )
    return 3


def outcome(run: Callable[[], int]) -> int:
    """The exit code of ``run``, twoku's errors said as messages (as application.guarded does for typer)."""
    try:
        return run()
    except TwokuError as error:
        report_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        return interrupted()
    except Exception:
        return crashed()


class _Notices(logging.Handler):
    """What the layers below log for the user (a write undone after a killed command), on stderr as it is
    when the record comes: a test's or a pipe's."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(record.getMessage() + "\n")
            sys.stderr.flush()


def show_notices() -> None:
    """Show the warnings of the logger ``twoku`` on stderr (once, however often asked)."""
    logger = logging.getLogger("twoku")
    if not any(isinstance(h, _Notices) for h in logger.handlers):
        logger.addHandler(_Notices(logging.WARNING))
        logger.propagate = False
