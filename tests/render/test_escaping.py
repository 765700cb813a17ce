"""The escaping helpers hold for any text, not only the attacks tests/test_hostile_data.py writes out."""

from __future__ import annotations

import subprocess

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from twoku.engine.sql import comment
from twoku.model.controls import shell_word, visible
from twoku.render import markdown as md
from twoku.render.terminal import assembled, plain

# Text an attacker would write: markup, HTML, SQL and shell syntax, controls of every kind, and Chinese.
_HOSTILE = st.text(
    alphabet=st.sampled_from(
        [*"<>&[]()|`'\"\\/*-=;#!:$ \n\r\tabcjs分解住院", "\x1b", "\x07", "\x9b", "\u202e", "\x00"]
    ),
    max_size=40,
)


@given(_HOSTILE)
def test_markdown_text_never_becomes_markup(text: str) -> None:
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    for written in (md.text(text), md.line(text), "| a |\n|---|\n| " + md.cell(text) + " |", md.code(text)):
        page = renderer.render(written)
        assert "<a " not in page and "<img" not in page and "<script" not in page
        assert not any(c in written for c in "\x1b\x07\x9b\u202e\x00")
    assert "\n" not in md.line(text) and "\n" not in md.cell(text)


@given(_HOSTILE)
def test_terminal_text_holds_no_control_and_no_markup(text: str) -> None:
    from rich.text import Text

    for shown in (plain(text), visible(text, keep="\t\n")):
        assert not any(c in shown for c in "\x1b\x07\x9b\u202e\x00\r")
    assert "\n" not in plain(text)
    # among twoku's own styled parts, the text shows as plain() shows it, whatever brackets and backslashes it holds
    shown = assembled(("[dim]", "dim"), text, ("x[/bold]", "bold"))
    assert isinstance(shown, Text) and shown.plain == "[dim]" + plain(text) + "x[/bold]"


@settings(max_examples=60)
@given(_HOSTILE)
def test_a_sql_comment_never_ends_early(text: str) -> None:
    sql = comment(text) + "\nSELECT 1 AS x"
    for dialect in ("duckdb", "spark", "trino"):
        [select] = sqlglot.parse(sql, read=dialect)
        assert isinstance(select, sqlglot.exp.Select) and select.sql(comments=False) == "SELECT 1 AS x"


@settings(max_examples=40, deadline=None)
@given(_HOSTILE.filter(lambda t: "\x00" not in t))
def test_a_shell_word_reads_back_as_itself(text: str) -> None:
    command = ["bash", "-c", f"printf %s {shell_word(text)}"]
    echoed = subprocess.run(command, capture_output=True, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    assert echoed.stdout.decode("utf-8") == text and "\n" not in shell_word(text)  # (bytes: no newline translation)
