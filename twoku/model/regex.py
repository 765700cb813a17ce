"""Regular expressions written in store data, run in linear time.

A code system's ``pattern`` and a condition's ``matches`` come from files that other bureaus and
service providers write.  Python's ``re`` backtracks: ``^(\\d+)+$`` against 34 digits and a letter
takes longer than anyone waits.  RE2 (google-re2, the engine DuckDB's ``regexp_matches`` uses too)
matches in time linear in the text and refuses what it cannot bound: backreferences, lookaround,
and patterns whose automaton would exceed its memory budget.  A pattern it refuses is a finding
(TK408), never something to try with another engine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MAX_MEM = 8 << 20  # bytes of RE2 automaton per pattern: ample for a code system, bounds a{1000}{1000}


class UnsafePattern(ValueError):
    """A pattern RE2 cannot run in linear time (or at all); the message says why, in Chinese."""


def _options() -> Any:
    import re2  # a C extension, imported when a pattern is first run, not when the checks are

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error to stderr; the finding says it
    options.max_mem = MAX_MEM
    return options


@lru_cache(maxsize=256)
def compile_linear(pattern: str) -> Any:
    """The compiled pattern, ASCII classes as ``re.ASCII`` (``\\d`` is 0-9); UnsafePattern when RE2 refuses it."""
    return _compile(pattern, pattern)


@lru_cache(maxsize=256)
def compile_bytes(pattern: str) -> Any:
    """:func:`compile_linear` for UTF-8 bytes: the same matches (RE2 reads text as UTF-8 either way), without the
    wrapper's work of turning byte offsets into character offsets: for a yes or no over megabytes of text."""
    return _compile(pattern.encode("utf-8"), pattern)


def _compile(source: str | bytes, pattern: str) -> Any:
    import re2

    try:
        return re2.compile(source, _options())
    except re2.error as exc:
        why = exc.args[0] if exc.args else exc
        why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        raise UnsafePattern(f"正则表达式 {pattern} 无法保证在线性时间内执行（{why}）") from None
