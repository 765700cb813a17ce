"""A quick reader for the plain block YAML that twoku files are written in.

libyaml parses fast, but PyYAML turns every event and node into a Python object and
resolves every scalar in Python: some 90 µs for a ten-line knowledge item, most of a
cold ``validate`` over 50,000 of them.  Nearly every store file is plain block YAML:
``key: value`` lines, ``- `` lists, ``|`` text blocks, one-line quoted strings and
``[a, b]`` lists of plain values.  This module reads exactly that subset, straight to
the data as JSON sees it (a date stays its ISO text), several times faster; and as store
files repeat most of their lines, it reads each line it meets once (see _TAKEN).

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

# The YAML 1.2 core schema, as ruamel.yaml resolves plain scalars (and store.documents.yamlio's full loader does).
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
            dt.date.fromisoformat(text)
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
            dt.date.fromisoformat(text)
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
    if text.isdigit() and text.isascii():
        return int(text)  # a count or a threshold, the commonest plain value after a string: as _scalar reads it
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


# A line is taken apart with str methods, and only when the reader comes to it (never inside a text block):
# a regex over the whole text, one match per line, costs some 0.4 µs a line even for "^( *)(.*)$" (each
# group a new string), and the one this module used, which made the checks below, most of read's time.
#
# The characters that rule out a plain key when they come first (an indicator or a space), and, with those the
# core schema's patterns can start with, a plain value that may be no string.
_NOT_KEY_START = "-?:,[]{}#&*!|>'\"%@` "
_NOT_STR_START = _NOT_KEY_START + "tTfFnN~+.0123456789"
_DASHES = ("-", "- ")  # how a list item's line starts after its indent: "-" and a space, or "-" alone
# A quoted key: no escape, at most 1000 characters with its quotes (libyaml refuses a simple key over 1024).
_QUOTED_KEY = re.compile(r"""('(?:[^']|''){0,998}'|"[^"\\]{0,998}"):(?: +|$)""")

# A line as written: (indent, width of a list item's "-" and its spaces (0 if none), a key as written (quotes
# and all; "" if none), the rest of the line after the key's colon and spaces, or after the "- " or the indent).
Row = tuple[int, int, str, str]


def split_line(line: str) -> Row:
    """A line taken apart.  A plain key has no indicator first, no colon, quote or comment sign and no space
    before its colon; a quoted key no escape; either has at most 1000 characters, and a colon and a space (or
    the line's end) follow it.  YAML allows more, and the rest is declined: such a line has no key here.
    """
    body = line.lstrip(" ")
    here = len(line) - len(body)
    dash = 0
    if body[:2] in _DASHES:
        item = body[1:].lstrip(" ")
        dash = len(body) - len(item)
        body = item
    if not body:
        return here, dash, "", ""
    first = body[0]
    if first == "'" or first == '"':
        quoted = _QUOTED_KEY.match(body)
        if quoted:
            return here, dash, quoted[1], body[quoted.end() :]
    elif first not in _NOT_KEY_START:
        cut = body.find(":")
        if 0 < cut <= 1000 and body[cut + 1 : cut + 2] in ("", " "):
            key = body[:cut]
            if key[-1] != " " and "#" not in key and "'" not in key and '"' not in key:
                return here, dash, key, body[cut + 1 :].lstrip(" ")
    return here, dash, "", body


def _blank(line: str) -> bool:
    """Whether a line holds nothing but spaces, or a comment."""
    body = line.lstrip(" ")
    return not body or body[0] == "#"


class _Mark:
    """A line's value that is no scalar: the lines below hold it, or each use needs a new container."""

    __slots__ = ("header", "items")

    def __init__(self, header: str, items: tuple[Any, ...] = ()) -> None:
        self.header = header  # "|" or "|-" for a text block
        self.items = items  # a flow list's items


# Told apart by identity: a flow list is a _Mark("", items) of its own.
_NOTHING = _Mark("")  # no value on the line, or a comment: the node below, if any
_CLIP = _Mark("|")
_STRIP = _Mark("|-")
_NO_PAIRS = _Mark("")  # {}

# A line as the reader uses it: (indent, width of a list item's "-" and its spaces, the key (unquoted,
# interned; None if none), the value (a scalar, or a _Mark)).
Taken = tuple[int, int, str | None, Any]

# Store files repeat most of their lines (the same keys, statuses, dates, scenarios, units…): of the lines of
# the benchmark store, read once in order, 87 % were seen before (47 % in the shipped store).  A line is read
# once and its row reused, which holds only immutable values.  Bounded (some 5 MB): cleared when full.
_TAKEN: dict[str, Taken] = {}
_TAKEN_KEPT = 1 << 14
# Plain keys read before, as written → interned: a store has a few dozen, and a new line with one of them
# (an id, a title) needs neither the key's checks nor split_line.  Bounded, lest odd texts fill it.
_KEYS: dict[str, str] = {}
_KEYS_KEPT = 1000


def _take(line: str) -> Taken:
    """A line's key and value read, or _Decline for anything the reader leaves to the full loader.

    The reader takes only the lines it comes to (a text block's lines it reads as they stand), and every
    line it comes to is read in the end as a key or a list item, or the text is declined (a line the top
    mapping cannot take declines it): so a line's key or value may decline the text as soon as it is taken.
    """
    body = line.lstrip(" ")
    name, colon, rest = body.partition(":")
    key = _KEYS.get(name) if colon else None
    taken: Taken
    if key is not None and rest[:1] in ("", " "):
        taken = (len(line) - len(body), 0, key, _value(rest.lstrip(" ")))  # as split_line would take it apart
    else:
        taken = _take_apart(line)
    if len(_TAKEN) >= _TAKEN_KEPT:
        _TAKEN.clear()
    _TAKEN[line] = taken
    return taken


def _take_apart(line: str) -> Taken:
    """A line's key and value read, the line not being "key: …" with a key read before."""
    here, dash, key, rest = split_line(line)
    name: str | None = None
    if key:
        first = key[0]
        if first == "'":
            name = _intern(key[1:-1].replace("''", "'"))
        elif first == '"':
            name = _intern(key[1:-1])
        elif (first in _MAYBE_NOT_STR and not _is_str(key)) or (first in "<=" and key.startswith(("<<", "======="))):
            raise _Decline  # a key no string (1:, true:, 2024-01-01:), a merge key, a conflict marker
        else:
            name = _intern(key)
            if len(_KEYS) < _KEYS_KEPT:
                _KEYS[name] = name
    return here, dash, name, _value(rest)


def _value(rest: str) -> Any:
    """The value written on a key's (or list item's) own line: plain, quoted, ``[a, b]``, ``{}``, a text
    block's header, or nothing."""
    if not rest:
        return _NOTHING
    first = rest[0]
    if first not in _NOT_STR_START and ":" not in rest and "#" not in rest:  # surely a string: the common case
        rest = rest.rstrip(" ")
        return _intern(rest) if len(rest) <= _INTERN_UP_TO else rest
    if first == "#":
        return _NOTHING
    if first == "|":
        if rest == "|":
            return _CLIP
        if rest == "|-":
            return _STRIP
        raise _Decline  # "|+", "|2", a comment after the header…: left to the full loader
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
        return _Mark("", tuple(_flow(rest)))
    if first == "{":
        if rest.rstrip(" ") != "{}":
            raise _Decline  # a flow mapping: left to the full loader
        return _NO_PAIRS
    return _plain(rest)


class _Reader:
    __slots__ = ("count", "lines")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.count = len(lines)

    def node(self, i: int, parent: int, depth: int) -> tuple[Any, int]:
        """The block node below a key at indent ``parent`` whose value was left empty (None if none)."""
        lines, count, known = self.lines, self.count, _TAKEN
        while i < count:
            here, dash, key, value = known.get(lines[i]) or _take(lines[i])
            if dash or key is not None or value is not _NOTHING:
                break
            i += 1  # a blank or comment line
        else:
            return None, i
        if here > parent:
            return self.sequence(i, here, depth) if dash else self.mapping(i, here, depth)
        if here == parent and dash:
            return self.sequence(i, here, depth)  # a list at its key's own indent
        return None, i

    def mapping(self, i: int, indent: int, depth: int, out: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
        """The mapping at ``indent`` from line ``i`` (``out``: its first pair, read on a list item's line)."""
        if depth > MAX_DEPTH:
            raise _Decline
        lines, count, known = self.lines, self.count, _TAKEN
        if out is None:
            out = {}
        while i < count:
            here, dash, key, value = known.get(lines[i]) or _take(lines[i])
            if key is None:
                if not dash and value is _NOTHING:
                    i += 1  # a blank or comment line
                    continue
                if here < indent:
                    break
                raise _Decline  # not a key: deeper than its siblings, or a mistake
            if here != indent:
                if here < indent:
                    break
                raise _Decline  # deeper than its siblings: a continuation line, or a mistake
            if dash:
                raise _Decline  # a list item where a key belongs
            if key in out:
                raise _Decline  # a duplicate: the full loader names both lines
            if type(value) is _Mark:
                value, i = self.made(i, value, indent, depth)
            else:
                i += 1
            out[key] = value
        return out, i

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list[Any], int]:
        if depth > MAX_DEPTH:
            raise _Decline
        lines, count, known = self.lines, self.count, _TAKEN
        out: list[Any] = []
        while i < count:
            here, dash, key, value = known.get(lines[i]) or _take(lines[i])
            if not dash and key is None and value is _NOTHING:
                i += 1  # a blank or comment line
                continue
            if here != indent:
                if here < indent:
                    break
                raise _Decline
            if not dash:
                if key is not None:
                    break  # back to the mapping whose key this list belongs to (its own indent)
                raise _Decline
            if key is not None:
                # A mapping that starts on the item's line: its first key stands where the item's value does.
                column = here + dash
                if type(value) is _Mark:
                    value, i = self.made(i, value, column, depth + 1)
                else:
                    i += 1
                value, i = self.mapping(i, column, depth + 1, {key: value})
            elif type(value) is _Mark:
                if value is _NOTHING:
                    raise _Decline  # the item on the next line: left to the full loader
                value, i = self.made(i, value, indent, depth)
            else:
                i += 1
            out.append(value)
        return out, i

    def made(self, i: int, mark: _Mark, indent: int, depth: int) -> tuple[Any, int]:
        """What a _Mark on line ``i`` stands for, as the value of a key (or list item) at ``indent`` in a node
        at ``depth``; and the line after it."""
        if mark is _NOTHING:
            return self.node(i + 1, indent, depth + 1)
        if mark is _NO_PAIRS:
            return {}, i + 1
        if mark.header:
            return self.literal(i, mark.header, indent)
        return list(mark.items), i + 1

    def literal(self, i: int, header: str, indent: int) -> tuple[str, int]:
        """A ``|`` or ``|-`` block on line ``i``, whose key (or list item) is at ``indent``."""
        lines, count = self.lines, self.count
        start = i + 1
        if start >= count or not lines[start].strip(" "):
            raise _Decline  # leading blank lines: rare, and subtle
        first = lines[start]
        margin = len(first) - len(first.lstrip(" "))
        if margin <= indent:
            raise _Decline
        pad = " " * margin
        out = []
        j = start
        while j < count:
            line = lines[j]
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


def read(text: str) -> Any:
    """The data of a store file's text (decoded, without BOM), as JSON sees it; DECLINE when unsure."""
    if len(text) > MAX_CHARS or not text.endswith("\n") or _REFUSED.search(text):
        return DECLINE
    if text.startswith("...") or "\n..." in text:
        return DECLINE  # a document end marker, or something that looks like one
    lines = text.split("\n")
    reader = _Reader(lines)
    i = document_start(lines)
    if i >= reader.count:
        return DECLINE  # empty
    try:
        here, _, key, _ = _TAKEN.get(lines[i]) or _take(lines[i])
        if here or key is None:
            return DECLINE  # indented, a list, a scalar or a directive at the top: the full loader explains
        data, i = reader.mapping(i, 0, 1)
    except (_Decline, RecursionError, ValueError):  # ValueError: an int the full loader cannot make either
        return DECLINE
    if i < reader.count:
        return DECLINE
    return data


def document_start(lines: list[str]) -> int:
    """The first line of the document's content, past blank and comment lines and a "---"."""
    i, count = 0, len(lines)
    while i < count and _blank(lines[i]):
        i += 1
    if i < count and lines[i] == "---":
        i += 1
        while i < count and _blank(lines[i]):
            i += 1
    return i
