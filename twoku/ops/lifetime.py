"""What a short-lived process may leave for its end rather than free on the way.

A cold validate of a national store builds millions of small objects (55,000 parsed files and their
items).  Freeing them one by one when the command returns took a fifth of a second of a 3.8-second
run; the operating system takes a whole process's memory back at once.  The console script
(twoku.cli.main) declares that the process ends with the command; an operation that built something
big hands it to :func:`keep` and the script ends the process without freeing it.  Under any other
caller (the tests, a program using twoku as a library) nothing is kept and memory is freed as usual.
"""

from __future__ import annotations

_kept: list[object] | None = None


def ends_with_command() -> None:
    """Declare that this process ends when the command returns (the console script does, first thing)."""
    global _kept
    _kept = []


def keep(thing: object) -> None:
    """Leave ``thing`` alive until the process ends, where it ends with the command; else do nothing."""
    if _kept is not None:
        _kept.append(thing)


def kept() -> bool:
    """Whether anything is left for the process's end (then it should end without freeing it)."""
    return bool(_kept)


def long_lived() -> None:
    """Declare that this process outlives its command (twoku serve): nothing is kept for an end that does not
    come, and what was kept so far is let go."""
    global _kept
    _kept = None
