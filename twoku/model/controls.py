"""Control characters in text from data, and their visible form.

A YAML string may hold any character through an escape (``"\\e"``, ``"\\f"``, ``"\\x9b"``), and a file
name may hold a newline or ESC.  Written raw, they drive a terminal (colours, a cleared screen, a hidden
link), break a line-oriented output, or are refused by a format (xlsx).  Validate reports them in data
(TK110); every output that shows data writes them as visible escapes (``\\x1b``), never raw.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls (0x9b is a one-byte CSI), and the bidirectional overrides and isolates that
# reorder what a reader sees ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What data may hold: tab and newline are text.  Everything else _CONTROL matches is a finding in data.
TEXT_CONTROLS = "\t\n"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` written as an escape (``\\x1b``)."""
    if _CONTROL.search(text) is None:  # the common case: one scan, no copy
        return text
    if not keep:
        return _CONTROL.sub(_escape, text)
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def controls_in(text: str) -> list[str]:
    """The control characters of ``text`` that data may not hold, as escapes, each once, in order."""
    found: dict[str, None] = {}
    for match in _CONTROL.finditer(text):
        if match.group() not in TEXT_CONTROLS:
            found[_escape(match)] = None
    return list(found)


_SHELL_SAFE = re.compile(r"[\w@%+=:,./-]+", re.ASCII)


def shell_word(text: str) -> str:
    """``text`` as one word of a shell command a user may copy (a path in a ``git mv`` hint): as it is when
    plain, in single quotes when it holds spaces or shell characters, and in bash's ``$'…'`` with escapes when
    it holds a control character (a newline, ESC), which then is neither printed raw nor breaks the line."""
    if _SHELL_SAFE.fullmatch(text):
        return text
    if _CONTROL.search(text) is None:
        return "'" + text.replace("'", "'\"'\"'") + "'"
    # bash's \xHH is a byte: a character past ASCII is \uHHHH, which bash writes in the locale's encoding
    body = _CONTROL.sub(_shell_escape, text.replace("\\", "\\\\").replace("'", "\\'"))
    return f"$'{body}'"


def _shell_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


_JSON_UNESCAPED = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # what json.dumps leaves raw


def json_escaped(text: str) -> str:
    """JSON text (json.dumps with ensure_ascii=False) with the controls it leaves raw written as ``\\u`` escapes:
    they can only stand inside its strings, where an escape means the same character."""
    if _JSON_UNESCAPED.search(text) is None:
        return text
    return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
