"""The registry of checks: every kind of problem has a stable code, a name and a docstring.

Codes never change meaning once shipped (sqlfluff's habit).  ``TK1xx`` syntax,
``TK2xx`` schema, ``TK3xx`` identity and paths, ``TK4xx`` references, ``TK5xx``
layering, ``TK6xx`` lifecycle and sign-offs, ``TK7xx`` the store's configuration.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from twoku.model.findings import ERROR, Check, Finding, Pointer

CHECKS: dict[str, Check] = {}
STORE_CHECKS: list[Callable[..., Iterator[Finding]]] = []
STORE_CODES: set[str] = set()  # the codes of STORE_CHECKS: findings that relate items to each other
ITEM_CHECKS: list[Callable[..., Iterator[Finding]]] = []  # on the item the library holds by each ID
EVERY_ITEM_CHECKS: list[Callable[..., Iterator[Finding]]] = []  # on every item with an ID, duplicates too


def declare(code: str, name: str, doc: str, severity: str = ERROR) -> Check:
    """Register a code whose findings are produced elsewhere (the YAML reader)."""
    check = Check(code, name, severity, inspect.cleandoc(doc))
    if code in CHECKS:
        raise ValueError(f"check code {code} declared twice")
    CHECKS[code] = check
    return check


def store_check(code: str, name: str, severity: str = ERROR) -> Callable[[Any], Any]:
    """Register a function ``(library) -> findings`` as the check ``code``."""

    def wrap(fn: Callable[..., Iterator[Finding]]) -> Callable[..., Iterator[Finding]]:
        declare(code, name, fn.__doc__ or name, severity)
        STORE_CHECKS.append(fn)
        STORE_CODES.add(code)
        return fn

    return wrap


def item_check(code: str, name: str, severity: str = ERROR, every: bool = False) -> Callable[[Any], Any]:
    """Register a function ``(item) -> findings`` as the check ``code``: a pure function of one item's data.

    It runs on every item the library holds by its ID (``every``: on duplicates of an ID too);
    its findings depend on that file alone, so validate computes them while parsing and keeps
    them with the file's cached entry.
    """

    def wrap(fn: Callable[..., Iterator[Finding]]) -> Callable[..., Iterator[Finding]]:
        declare(code, name, fn.__doc__ or name, severity)
        (EVERY_ITEM_CHECKS if every else ITEM_CHECKS).append(fn)
        return fn

    return wrap


def finding(
    code: str,
    message: str,
    path: str,
    pointer: tuple[str | int, ...] = (),
    item: str | None = None,
    hint: str | None = None,
    severity: str | None = None,
) -> Finding:
    """A finding of a registered check, with its default severity unless told otherwise."""
    return Finding(code, severity or CHECKS[code].severity, message, path, pointer, item, hint)


def walk(value: Any, pointer: Pointer = ()) -> Iterator[tuple[Pointer, Any]]:
    """Every value inside an item's data with its pointer, the item itself first."""
    yield pointer, value
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from walk(sub, (*pointer, key))
    elif isinstance(value, list):
        for n, sub in enumerate(value):
            yield from walk(sub, (*pointer, n))


_last_text: tuple[Any, str] = (None, "")


def text_of(data: Any) -> str:
    """Every string and key inside ``data``, one per line: a quick first look for the checks that search
    an item's words (walk() then finds where, for the rare item that has what they look for).  Item
    checks run one item after another, so the last answer is kept for the next check of the same item."""
    global _last_text
    if _last_text[0] is data:
        return _last_text[1]
    out: list[str] = []
    _words(data, out)
    text = "\n".join(out)
    _last_text = (data, text)
    return text


def _words(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):  # dict first: nearly every container is one
        for key, sub in value.items():
            if isinstance(key, str):
                out.append(key)
            if type(sub) is str:
                out.append(sub)
            elif sub is not None and type(sub) is not int:
                _words(sub, out)
    elif isinstance(value, list):
        for sub in value:
            if type(sub) is str:
                out.append(sub)
            elif sub is not None and type(sub) is not int:
                _words(sub, out)
