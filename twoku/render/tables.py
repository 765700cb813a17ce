"""Terminal tables that never cut what they show: IDs whole, long Chinese text wrapped.

rich wraps a cell at spaces and cuts a longer "word" with an ellipsis; Chinese prose has no
spaces, so a definition or a logic was cut to one line per paragraph ("…").  ``Prose`` wraps
text the way Chinese is set: between any two Chinese characters, never inside a Latin word,
code or ID (``CN-K-0037``, ``readmission_days``), and never before closing punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from twoku.render.terminal import plain

# A Latin word, number, code or ID is one unit; every other character is one, with the opening
# punctuation before it and the closing punctuation after it (a line never starts with "，" or
# "）", nor ends with "（").
_CLOSING = "，。、；：？！）」』”’》〉】,.;:!?)%"
_OPENING = "（「『“‘《〈【("
_UNIT = "(?:(?<=[0-9])(?:小时|人次|[天日月年岁周次个人家元]))?"  # "10天" stays on one line
_TOKEN = re.compile(rf"\s+|[{_OPENING}]*(?:[A-Za-z0-9_\-./:%+=#@'\"]+{_UNIT}|.)[{_CLOSING}]*")
ID_MIN = 13  # cells of the longest ID (510100-R-0001)


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return int(cell_len(text))


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells (a unit longer than a line is chopped)."""
    width = max(width, 1)
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0
        for match in _TOKEN.finditer(paragraph):
            token = match.group(0)
            size = _cells(token)
            if token.isspace():
                if line or match.start() == 0:  # kept between words and as indentation, not at a wrap
                    line, used = line + token, used + size
                continue
            if used + size > width and line.strip():
                out.append(line.rstrip())
                line, used = "", 0
            while size > width:  # a unit wider than the column: chopped, never cut
                head = _fit(token, width - used)
                out.append(line + head)
                token, line, used = token[len(head) :], "", 0
                size = _cells(token)
            line, used = line + token, used + size
        out.append(line.rstrip())
    return out


def _fit(token: str, width: int) -> str:
    taken = ""
    for char in token:
        if _cells(taken + char) > width and taken:
            break
        taken += char
    return taken


class Prose:
    """A table cell of text wrapped as Chinese is: use it for names, definitions, logic, reasons."""

    def __init__(self, text: str, style: str = "") -> None:
        self.text = plain(text, lines=True)  # from data: its control characters shown as escapes, before wrapping
        self.style = style

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        lines = self.text.splitlines() or [""]
        widest = max(_cells(line) for line in lines)
        units = [_cells(t) for t in _TOKEN.findall(self.text) if not t.isspace()]
        # A column may shrink to its longest Latin unit (an ID, a check's name stays whole), not below 8 cells.
        least = min(max([8, *(u for u in units if u <= 32)]), widest)
        return Measurement(min(least, options.max_width), min(widest, options.max_width))

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text

        yield Text("\n".join(wrap(self.text, options.max_width)), style=self.style, no_wrap=True, overflow="fold")


def add_id_column(table: Any, header: str, ids: Iterable[str] = (), **options: Any) -> None:
    """A column of IDs: never wrapped, never cut, as wide as the longest."""
    width = max([ID_MIN, *(_cells(i) for i in ids)])
    table.add_column(header, no_wrap=True, min_width=width, **options)


def add_text_column(table: Any, header: str, ratio: int | None = None, **options: Any) -> None:
    """A column of text that wraps (its cells should be ``Prose``), taking its share of the width."""
    table.add_column(header, ratio=ratio, overflow="fold", **options)
