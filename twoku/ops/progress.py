"""How far a long operation has got, for whoever shows it (the CLI, on a terminal); told to no one by default.

An operation says ``tell("读取并检查文件", done, total)`` between pieces of its work; the CLI listens while a
command runs (cli/progress.py) and draws a bar on stderr.  Nothing here imports rich or writes anything.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, int, int], None]  # (what, done, total)
_listener: Listener | None = None


def listen(listener: Listener | None) -> Listener | None:
    """Make ``listener`` the one told (None: no one); the one it replaces."""
    global _listener
    before, _listener = _listener, listener
    return before


def tell(what: str, done: int, total: int) -> None:
    if _listener is not None:
        _listener(what, done, total)
