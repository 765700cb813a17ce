"""Text from data in Markdown: shown as written, never read as HTML, a link or a table's edge.

Every Markdown twoku writes (``publish`` md, ``diff --format md``, the ``cover.md`` of a report) is
rendered by others, on hospital portals and in mail readers.  A rule text holding ``<script>``,
``<img onerror=…>``, ``<iframe src=javascript:…>`` or ``[点此](javascript:…)`` must arrive as those
characters, not as markup.  HTML's own character references do that in every Markdown dialect
(backslash escapes of ``<`` are CommonMark's, not Markdown.pl's or Python-Markdown's), and they keep
the raw file readable: twoku's texts are Chinese, where ``< > & [ ]`` are rare.
"""

from __future__ import annotations

from typing import Any

from twoku.model.controls import visible

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;"})


def text(value: Any) -> str:
    """``value`` as Markdown text: HTML and link syntax escaped, control characters visible; lines kept."""
    return visible(str(value), keep="\t\n").translate(_ENTITIES)


def line(value: Any) -> str:
    """``value`` on one line (a heading, a list item): as ``text``, its line breaks made spaces."""
    return " ".join(text(value).split("\n")).replace("\t", " ").strip()


def cell(value: Any) -> str:
    """``value`` in a table cell: as ``text``, a ``|`` escaped, line breaks as ``<br>``."""
    return text(value).strip().replace("|", "\\|").replace("\t", " ").replace("\n", "<br>")


def code(value: Any) -> str:
    """``value`` as inline code (a parameter or field name); escaped text where a backtick would end the span."""
    raw = visible(str(value))
    if "`" in raw or raw != str(value):
        return cell(value)
    return "`" + raw.replace("|", "\\|") + "`"
