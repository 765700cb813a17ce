"""The command line: typer commands that parse, call one operation, render, exit.

The application (``app``, every command registered: cli/commands.py) is imported when first asked for;
``twoku validate`` with plain arguments runs without it (cli/plain.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from twoku.cli.commands import app

        return app
    raise AttributeError(f"module 'twoku.cli' has no attribute {name!r}")


def main() -> None:
    import sys

    from twoku.ops import lifetime

    lifetime.ends_with_command()
    try:
        if sys.argv[1:2] == ["validate"]:
            # git stats the store's files (twoku.store.repo.gitscan) while the checks are imported; without the
            # cache every file is read anyway, and the folders name them (ops/reading.scan).
            from twoku.cli import plain
            from twoku.store.repo import gitscan

            if "--no-cache" not in sys.argv:
                gitscan.prestart()
            plain.run_directly(sys.argv[2:])  # returns when typer must parse the arguments
        from twoku.cli.commands import app

        if sys.argv[1:] in ([], ["-h"], ["--help"]):
            # The list of commands in plain text: rendering it with rich imports and lays out more than
            # twoku needs to start (0.09 s instead of 0.17 s); each command's own help stays rich.
            app.rich_markup_mode = None
        app()
    except SystemExit as done:
        if lifetime.kept() and (done.code is None or isinstance(done.code, int)):
            _end_now(done.code or 0)
        raise


def _end_now(code: int) -> None:
    """End the process without freeing what the command left for its end (twoku.ops.lifetime): flush what
    was written, then leave; nothing else runs at exit (twoku registers no exit handler)."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``twoku validate | head``): as Python's own exit would
            code = code or 1
    os._exit(code)
