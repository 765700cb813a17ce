"""A progress bar on stderr while a long command runs, on a terminal only (ops/progress.py tells it how far).

It appears only after a moment (TWOKU_PROGRESS_DELAY seconds, 0.5 by default), so quick runs stay as quiet
as before; it is redrawn only when told, never from a thread of its own: a cold validate forks its
workers, and a thread drawing at that moment would be copied into them mid-write.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from twoku.ops import progress


@contextlib.contextmanager
def shown() -> Iterator[None]:
    """Draw what the operation tells while the block runs, when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("TWOKU_PROGRESS") == "0":
        yield
        return
    try:
        delay = float(os.environ.get("TWOKU_PROGRESS_DELAY", "0.5"))
    except ValueError:
        delay = 0.5
    started = time.monotonic()
    state: dict[str, Any] = {}

    def told(what: str, done: int, total: int) -> None:
        if time.monotonic() - started < delay and "bar" not in state:
            return
        if "bar" not in state:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                auto_refresh=False,
            )
            bar.start()
            state["bar"], state["tasks"] = bar, {}
        bar, tasks = state["bar"], state["tasks"]
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done, total=total)
        bar.refresh()

    before = progress.listen(told)
    try:
        yield
    finally:
        progress.listen(before)
        if "bar" in state:
            state["bar"].stop()
