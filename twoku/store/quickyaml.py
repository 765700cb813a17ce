"""A quick reader for the plain block YAML that twoku files are written in.

libyaml parses fast, but PyYAML turns every event and node into a Python object and
resolves every scalar in Python: some 90 µs for a ten-line knowledge item, most of a
cold ``validate`` over 50,000 of them.  Nearly every store file is plain block YAML:
``key: value`` lines, ``- `` lists, ``|`` text blocks, one-line quoted strings and
``[a, b]`` lists of plain values.  This module reads exactly that subset, straight to
the data as JSON sees it (a date stays its ISO text), several times faster.

It never decides anything hard.  A text with anything outside the subset (an anchor, a
tag, a flow mapping, a multi-line plain or quoted scalar, an escape, a tab, a duplicate
key, an impossible date, a non-string key, an odd indentation, a control character)
makes :func:`read` return :data:`DECLINE`, and the caller reads the file with the full
loader, which gives the same data or the exact error.  Tests compare both readers over
every shipped and generated file, over random documents and over mutated texts.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any

DECLINE: Any = object()  # read() could not be sure: use the full loader

MAX_CHARS = 256 * 1024  # a bigger file (a mistake, or an attack on the node limit) goes to the full loader
MAX_DEPTH = 38  # below the full loader's MAX_DEPTH (40), counting a list item and its mapping

# Anything the subset leaves to the full loader, seen anywhere in the text: a tab, a carriage return,
# Unicode line breaks libyaml honours (NEL, LS, PS), a byte-order mark, characters YAML does not allow
# (C0/C1 controls, DEL, surrogates, U+FFFE/U+FFFF).
_REFUSED = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")

# A plain scalar's first character: not an indicator, or "-" before a non-space.
_PLAIN_START = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@` ]|-[^ ]")
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *")
_DOUBLE = re.compile(r'"([^"\\]*)"(?: +#.*)? *')
_FLOW_ITEM = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@` ][^,\[\]{}#:'\"]*|-[0-9.][^,\[\]{}#:'\"]*")

# The YAML 1.2 core schema, as ruamel.yaml resolves plain scalars (and store.yamlio's full loader does).
_FLOAT = re.compile(
    r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))""",
    re.X,
)
_INT = re.compile(r"(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)")
_TIMESTAMP = re.compile(
    r"""(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)""",
    re.X,
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAYBE_NOT_STR = frozenset("tTfF-+0123456789.~nN")
_WORD_START = frozenset("tTfFnN~")  # of those, the first characters of _WORDS alone
_ODD_KEY_START = _MAYBE_NOT_STR | frozenset("'\"<=")  # a key that needs a closer look
_WORDS: dict[str, bool | None] = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_WORDS.update(dict.fromkeys(("~", "null", "Null", "NULL"), None))
_INTERN_UP_TO = 24
_intern = sys.intern


class _Decline(Exception):
    pass


def int_of(text: str) -> int:
    """An int of the YAML 1.2 core schema as ruamel.yaml reads it (both readers use this: 0x, 0o, 0b, 1_000)."""
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text)


def _scalar(text: str) -> Any:
    """A plain scalar's value: resolved in the order PyYAML tries the core schema's patterns."""
    if not text:
        return None
    if text[0] not in _MAYBE_NOT_STR:
        return _intern(text) if len(text) <= _INTERN_UP_TO else text
    if text in _WORDS:
        return _WORDS[text]
    first = text[0]
    if text.isdigit() and text.isascii():
        return int(text)  # a decimal integer (no float, octal or timestamp is digits alone): the common case
    if len(text) == 10 and _DATE.fullmatch(text):  # a date (no float, int or other timestamp looks like one)
        try:
            dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            raise _Decline from None  # the full loader says why it is no date
        return text
    if first in "-+0123456789." and _FLOAT.fullmatch(text):
        raise _Decline  # floats are rare in the store; the full loader constructs them
    if first in "-+0123456789" and _INT.fullmatch(text):
        return int_of(text)
    if first in "0123456789" and _TIMESTAMP.fullmatch(text):
        if not _DATE.fullmatch(text):
            raise _Decline  # a date with a time
        try:
            dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            raise _Decline from None  # the full loader says why it is no date
        return text  # as JSON sees a date: its ISO text, which this is
    return _intern(text) if len(text) <= _INTERN_UP_TO else text


def _is_str(text: str) -> bool:
    """Whether a plain scalar is a string (the core schema's patterns all start with one of a few characters)."""
    first = text[0]
    if first not in _MAYBE_NOT_STR:
        return True
    if text in _WORDS:
        return False
    if first in _WORD_START:
        return True  # title, name, notes…: no number or timestamp starts with a letter or "~"
    return not any(p.fullmatch(text) for p in (_FLOAT, _INT, _TIMESTAMP))


def _plain(text: str) -> Any:
    """A one-line plain scalar in block context (``text`` has no leading spaces)."""
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut]
    text = text.rstrip(" ")
    if not _PLAIN_START.match(text) or ": " in text or text.endswith(":"):
        raise _Decline
    return _scalar(text)


def _flow(text: str) -> list[Any]:
    """``[a, b]``: a one-line flow list of plain scalars."""
    text = text.rstrip(" ")
    if not text.endswith("]"):
        raise _Decline
    inner = text[1:-1].strip(" ")
    if not inner:
        return []
    out = []
    for part in inner.split(","):
        part = part.strip(" ")
        if not _FLOW_ITEM.fullmatch(part):
            raise _Decline
        out.append(_scalar(part))
    return out


# One line of the text: (whole line, indent, "- " of a list item, a key, a plain value that is surely a string,
# else the rest of the line after "key: ").  A plain key has no indicator first, no colon, quote or comment sign
# and no space before its colon; a quoted key no line break and no escape; either has at most 1000 characters
# (libyaml refuses a simple key over 1024).  YAML allows more, and the rest is declined.  A "surely string"
# value starts with none of the characters an indicator or a core-schema pattern can start with, and holds no
# colon and no comment sign.  Possessive runs (*+, {0,999}+) and a look back at the last character spare the
# regex engine from backtracking over every character of a line that turns out to hold no key or no string.
_LINE = re.compile(
    r"""^(([ ]*)(-(?:\ +|$))?
    (?:([^-?:,\[\]{}#&*!|>'"%@`\ \n](?:[^:#'"\n]{0,999}+(?<!\ ))?
        |'(?:[^'\n]|''){0,998}'|"[^"\\\n]{0,998}"):(?:\ +|$))?
    (?:([^-?:,\[\]{}#&*!|>'"%@`\ \ntTfFnN~+.0-9][^:#\n]*+(?<!\ )
        |[^-?:,\[\]{}#&*!|>'"%@`\ \ntTfFnN~+.0-9](?:[^:#\n]*[^:#\n\ ])?)\ *$|(.*)$))""",
    re.M | re.X,
)
Row = tuple[str, str, str, str, str, str]


def _blank(row: Row) -> bool:
    return not row[2] and not row[3] and not row[4] and (not row[5] or row[5][0] == "#")


class _Reader:
    __slots__ = ("count", "rows")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.count = len(rows)

    def node(self, i: int, parent: int, depth: int) -> tuple[Any, int]:
        """The block node below a key at indent ``parent`` whose value was left empty (None if none)."""
        rows, count = self.rows, self.count
        while i < count and _blank(rows[i]):
            i += 1
        if i >= count:
            return None, i
        _, indent, dash, _, _, _ = rows[i]
        here = len(indent)
        if here > parent:
            return self.sequence(i, here, depth) if dash else self.mapping(i, here, depth)
        if here == parent and dash:
            return self.sequence(i, here, depth)  # a list at its key's own indent
        return None, i

    def mapping(self, i: int, indent: int, depth: int) -> tuple[dict[str, Any], int]:
        if depth > MAX_DEPTH:
            raise _Decline
        rows, count = self.rows, self.count
        out: dict[str, Any] = {}
        intern = _intern
        while i < count:
            _, spaces, dash, key, simple, rest = rows[i]
            if not key:
                if not dash and not simple and (not rest or rest[0] == "#"):
                    i += 1  # a blank or comment line
                    continue
                if len(spaces) < indent:
                    break
                raise _Decline  # not a key: deeper than its siblings, or a mistake
            here = len(spaces)
            if here != indent:
                if here < indent:
                    break
                raise _Decline  # deeper than its siblings: a continuation line, or a mistake
            if dash:
                raise _Decline  # not a key
            first = key[0]
            if first in _ODD_KEY_START:
                if first == "'":
                    key = key[1:-1].replace("''", "'")
                elif first == '"':
                    key = key[1:-1]
                elif (first in _MAYBE_NOT_STR and not _is_str(key)) or (
                    first in "<=" and key.startswith(("<<", "======="))
                ):
                    raise _Decline  # a key no string (1:, true:, 2024-01-01:), a merge key, a conflict marker
            key = intern(key)
            if key in out:
                raise _Decline  # a duplicate: the full loader names both lines
            if simple:
                out[key] = intern(simple) if len(simple) <= _INTERN_UP_TO else simple
                i += 1
            elif not rest or rest[0] == "#":
                out[key], i = self.node(i + 1, indent, depth + 1)
            elif rest[0] == "|":
                out[key], i = self.literal(i, rest, indent)
            else:
                out[key] = _inline(rest)
                i += 1
        return out, i

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list[Any], int]:
        if depth > MAX_DEPTH:
            raise _Decline
        rows, count = self.rows, self.count
        out: list[Any] = []
        while i < count:
            raw, spaces, dash, key, simple, rest = rows[i]
            if not key and not dash and not simple and (not rest or rest[0] == "#"):
                i += 1
                continue
            here = len(spaces)
            if here != indent:
                if here < indent:
                    break
                raise _Decline
            if not dash:
                if key:
                    break  # back to the mapping whose key this list belongs to (its own indent)
                raise _Decline
            if key:
                # A mapping that starts on the item's line: read it as if its first key stood alone.
                column = here + len(dash)
                rows[i] = (raw, " " * column, "", key, simple, rest)
                value: Any
                value, i = self.mapping(i, column, depth + 1)
            elif simple:
                value = _intern(simple) if len(simple) <= _INTERN_UP_TO else simple
                i += 1
            elif not rest or rest[0] == "#":
                raise _Decline  # the item on the next line: left to the full loader
            elif rest[0] == "|":
                value, i = self.literal(i, rest, indent)
            else:
                value = _inline(rest)
                i += 1
            out.append(value)
        return out, i

    def literal(self, i: int, header: str, indent: int) -> tuple[str, int]:
        """A ``|`` or ``|-`` block on row ``i``, whose key (or list item) is at ``indent``."""
        if header not in ("|", "|-"):
            raise _Decline
        rows, count = self.rows, self.count
        start = i + 1
        if start >= count or not rows[start][0].strip(" "):
            raise _Decline  # leading blank lines: rare, and subtle
        first = rows[start][0]
        margin = len(first) - len(first.lstrip(" "))
        if margin <= indent:
            raise _Decline
        pad = " " * margin
        out = []
        j = start
        while j < count:
            line = rows[j][0]
            if line.startswith(pad):
                part = line[margin:]
                if part and not part.strip(" "):
                    raise _Decline  # a line of spaces: content or not depends on details
                out.append(part)
            elif not line:
                out.append("")
            elif not line.strip(" "):
                raise _Decline
            else:
                break
            j += 1
        while not out[-1]:  # trailing empty lines belong to no one (clip and strip drop them)
            out.pop()
        text = "\n".join(out)
        return (text if header == "|-" else text + "\n"), j


def _inline(rest: str) -> Any:
    """The value written on the key's (or list item's) own line: quoted, ``[a, b]`` or plain."""
    first = rest[0]
    if first == "'":
        matched = _SINGLE.fullmatch(rest)
        if not matched:
            raise _Decline
        return matched.group(1).replace("''", "'")
    if first == '"':
        matched = _DOUBLE.fullmatch(rest)
        if not matched:
            raise _Decline
        return matched.group(1)
    if first == "[":
        return _flow(rest)
    if first == "{":
        if rest.rstrip(" ") != "{}":
            raise _Decline  # a flow mapping: left to the full loader
        return {}
    return _plain(rest)


def read(text: str) -> Any:
    """The data of a store file's text (decoded, without BOM), as JSON sees it; DECLINE when unsure."""
    if len(text) > MAX_CHARS or not text.endswith("\n") or _REFUSED.search(text):
        return DECLINE
    if text.startswith("...") or "\n..." in text:
        return DECLINE  # a document end marker, or something that looks like one
    rows: list[Row] = _LINE.findall(text)
    reader = _Reader(rows)
    i = 0
    while i < reader.count and _blank(rows[i]):
        i += 1
    if i < reader.count and rows[i][0] == "---":
        i += 1
        while i < reader.count and _blank(rows[i]):
            i += 1
    if i >= reader.count or rows[i][1] or not rows[i][3]:
        return DECLINE  # empty, indented, a list, a scalar or a directive at the top: the full loader explains
    try:
        data, i = reader.mapping(i, 0, 1)
    except (_Decline, RecursionError, ValueError):  # ValueError: an int the full loader cannot make either
        return DECLINE
    if i < reader.count:
        return DECLINE
    return data


def locate(text: str, pointer: tuple[str | int, ...]) -> tuple[int, int] | None:
    """1-based (line, column) of ``pointer`` in a text the quick reader reads, as ruamel.yaml's round-trip
    loader places it (a key where the step is a key, an item's value where it is an index; where a step
    does not resolve, the last one that did); None when the text is not plain block YAML.

    Findings are located after every check, one file at a time: ruamel.yaml takes some 25 ms for a long
    record; this looks along the lines the reader has already vouched for.
    """
    if read(text) is DECLINE:
        return None
    rows: list[Row] = _LINE.findall(text)
    count = len(rows)
    start = 0
    while start < count and _blank(rows[start]):
        start += 1
    if start < count and rows[start][0] == "---":
        start += 1
    where = (1, 1)
    kind, indent, inline = "map", 0, False  # the container the next step looks in, and where it starts
    for step in pointer:
        if kind == "map" and isinstance(step, str):
            found = _key_row(rows, start, indent, inline, step)
            if found is None:
                break
            where = (found + 1, indent + 1)
            _, _, _, _, simple, rest = rows[found]
            if simple or (rest and rest[0] != "#"):
                if rest.startswith("["):
                    return None  # items of a flow list: ruamel places them within the line
                kind = "scalar"
                continue
            kind, start, indent, inline = _below(rows, found + 1, indent)
        elif kind == "seq" and isinstance(step, int) and not isinstance(step, bool):
            found, column = _item_row(rows, start, indent, step)
            if found is None:
                break
            where = (found + 1, column + 1)
            _, _, _, key, _, _ = rows[found]
            if key:
                kind, start, indent, inline = "map", found, column, True
            else:
                kind = "scalar"
        else:
            break
    return where


def _key_row(rows: list[Row], start: int, indent: int, inline: bool, key: str) -> int | None:
    """The row of ``key`` in the mapping at ``indent`` from row ``start`` (``inline``: its first key follows
    a list item's "- " on that row)."""
    for i in range(start, len(rows)):
        row = rows[i]
        if _blank(row):
            continue
        _, spaces, dash, name, _, _ = row
        first = inline and i == start
        here = len(spaces) + (len(dash) if first else 0)
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
    while i < len(rows) and _blank(rows[i]):
        i += 1
    if i >= len(rows):
        return "scalar", i, 0, False
    _, spaces, dash, _, _, _ = rows[i]
    here = len(spaces)
    if here > indent:
        return ("seq" if dash else "map"), i, here, False
    if here == indent and dash:
        return "seq", i, here, False
    return "scalar", i, 0, False


def _item_row(rows: list[Row], start: int, indent: int, index: int) -> tuple[int | None, int]:
    """The row of the ``index``-th item of the list at ``indent`` from row ``start``, and its value's column."""
    n = 0
    for i in range(start, len(rows)):
        if _blank(rows[i]):
            continue
        _, spaces, dash, _, _, _ = rows[i]
        here = len(spaces)
        if here < indent or (here == indent and not dash):
            break
        if here == indent:
            if n == index:
                return i, here + len(dash)
            n += 1
    return None, 0
