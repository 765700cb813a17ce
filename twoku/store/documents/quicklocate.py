"""Where a pointer into a file's data stands in its text, for the files store.documents.quickyaml reads.

Findings are located after every check, one file at a time: ruamel.yaml takes some 25 ms for a long
record; this looks along the lines the quick reader has already vouched for, and places each step as
ruamel.yaml's round-trip loader does (tests/store/test_quickyaml.py compares both on every pointer of
the shipped and generated stores).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from twoku.store.documents.quickyaml import DECLINE, Row, document_start, read, split_line


def locate(text: str, pointer: tuple[str | int, ...]) -> tuple[int, int] | None:
    """1-based (line, column) of ``pointer`` in a text the quick reader reads, as ruamel.yaml's round-trip
    loader places it (a key where the step is a key, an item's value where it is an index; where a step
    does not resolve, the last one that did); None when the text is not plain block YAML.

    Findings are located after every check, one file at a time: ruamel.yaml takes some 25 ms for a long
    record; this looks along the lines the reader has already vouched for.
    """
    found = locator(text)
    return found(pointer) if found is not None else None


def locator(text: str) -> Callable[[tuple[str | int, ...]], tuple[int, int] | None] | None:
    """locate() for many pointers of one text, which is read and taken apart once; None when the text is not
    plain block YAML (a long record with dozens of findings took a millisecond a finding)."""
    if read(text) is DECLINE:
        return None
    lines = text.split("\n")
    return partial(_located, [split_line(line) for line in lines], document_start(lines))


def _located(rows: list[Row], start: int, pointer: tuple[str | int, ...]) -> tuple[int, int] | None:
    where = (1, 1)
    kind, indent, inline = "map", 0, False  # the container the next step looks in, and where it starts
    for step in pointer:
        if kind == "map" and isinstance(step, str):
            found = _key_row(rows, start, indent, inline, step)
            if found is None:
                break
            where = (found + 1, indent + 1)
            rest = rows[found][3]
            if rest and rest[0] != "#":
                if rest[0] == "[":
                    return None  # items of a flow list: ruamel places them within the line
                kind = "scalar"
                continue
            kind, start, indent, inline = _below(rows, found + 1, indent)
        elif kind == "seq" and isinstance(step, int) and not isinstance(step, bool):
            found, column = _item_row(rows, start, indent, step)
            if found is None:
                break
            where = (found + 1, column + 1)
            if rows[found][2]:
                kind, start, indent, inline = "map", found, column, True
            else:
                kind = "scalar"
        else:
            break
    return where


def _empty(row: Row) -> bool:
    """Whether a row holds nothing but spaces, or a comment."""
    _, dash, key, rest = row
    return not dash and not key and (not rest or rest[0] == "#")


def _key_row(rows: list[Row], start: int, indent: int, inline: bool, key: str) -> int | None:
    """The row of ``key`` in the mapping at ``indent`` from row ``start`` (``inline``: its first key follows
    a list item's "- " on that row)."""
    for i in range(start, len(rows)):
        row = rows[i]
        if _empty(row):
            continue
        spaces, dash, name, _ = row
        first = inline and i == start
        here = spaces + (dash if first else 0)
        if here < indent:
            break
        if here > indent or (dash and not first):
            continue  # within a value: deeper, or a list at its key's own indent
        if name and _unquoted(name) == key:
            return i
    return None


def _unquoted(key: str) -> str:
    if key[0] == "'":
        return key[1:-1].replace("''", "'")
    if key[0] == '"':
        return key[1:-1]
    return key


def _below(rows: list[Row], i: int, indent: int) -> tuple[str, int, int, bool]:
    """The container under a key at ``indent`` whose value starts on row ``i`` or later."""
    while i < len(rows) and _empty(rows[i]):
        i += 1
    if i >= len(rows):
        return "scalar", i, 0, False
    here, dash, _, _ = rows[i]
    if here > indent:
        return ("seq" if dash else "map"), i, here, False
    if here == indent and dash:
        return "seq", i, here, False
    return "scalar", i, 0, False


def _item_row(rows: list[Row], start: int, indent: int, index: int) -> tuple[int | None, int]:
    """The row of the ``index``-th item of the list at ``indent`` from row ``start``, and its value's column."""
    n = 0
    for i in range(start, len(rows)):
        if _empty(rows[i]):
            continue
        here, dash, _, _ = rows[i]
        if here < indent or (here == indent and not dash):
            break
        if here == indent:
            if n == index:
                return i, here + dash
            n += 1
    return None, 0
