"""Text from data on the terminal: shown as written, never read as markup or as a control sequence.

A rule name ``[/bold]`` made rich raise (MarkupError: ``ls``, ``show``, and ``intake`` after it had made
its branch); ``[link=…]`` turned a label into a hidden link; an ``\\x1b[…`` from a YAML escape or a file
name drove the terminal.  Two layers close the class:

* the console every command prints through (:func:`console`) reads no markup in strings and shows every
  control character but newline and tab as an escape (``\\x1b``), whatever renderable carries it;
* :func:`plain` (a value on one line, its line breaks escaped too: a file name, an ID, a title) is the one
  helper render/ and cli/ use for each value from data, so that a layout stays whole; :func:`styled` and
  :func:`assembled` make it a rich Text in twoku's styles, which rich never reads as markup.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from twoku.model.controls import visible

_LINES = "\t\n"


def plain(value: Any, lines: bool = False) -> str:
    """``value`` as terminal text: control characters as escapes; ``lines``: line breaks and tabs kept."""
    return visible(str(value), keep=_LINES if lines else "")


def assembled(*parts: Any) -> Any:
    """One rich Text of several parts: a ``(value, style)`` pair in its style, any other part plain; every value
    shown as :func:`plain` shows it.  Data never passes through rich's markup parser: rich's escape leaves cases
    (a backslash before a bracket, a run of them before a tag) where the text shown is not the text written."""
    from rich.text import Text

    return Text.assemble(*((plain(p[0]), p[1]) if isinstance(p, tuple) else plain(p) for p in parts))


def styled(value: Any, style: str = "", lines: bool = False) -> Any:
    """A rich Text of one value from data in one style."""
    from rich.text import Text

    return Text(plain(value, lines), style=style)


def console(**options: Any) -> Any:
    """The console of twoku's terminal output (``stderr=True`` for messages): see the module's docstring."""
    return _console_class()(**{"highlight": False, "soft_wrap": True, "markup": False, **options})


@cache
def _console_class() -> Any:
    from rich.console import Console
    from rich.segment import Segment

    class DataConsole(Console):
        """A Console whose output never carries a control character it was not made to write itself."""

        def _render_buffer(self, buffer: Any) -> str:
            # The one place every segment passes before its style's own escape codes are added (rich's, since
            # 10.0); a segment marked as control is rich's own cursor movement.
            return str(
                super()._render_buffer(
                    seg if seg.control else Segment(visible(seg.text, keep=_LINES), seg.style) for seg in buffer
                )
            )

    return DataConsole
