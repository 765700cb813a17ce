"""A compiled fast path for the JSON Schemas: is a file valid, yes or no.

fastjsonschema compiles each schema once into plain Python, some ten times faster
than ``jsonschema`` walking it.  It only answers "valid or not"; a file it refuses is
handed to ``jsonschema`` (store/schemas.py), which explains every problem in the
author's words.  The two formats the schemas use (date, regex) are judged here as
jsonschema judges them; a conformance test runs both over every shipped file, the
generated store, every case of tests/checks and a list of odd dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

from twoku.store.schemas import load_schema


def _formats(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            yield schema["format"]
        for value in schema.values():
            yield from _formats(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _formats(value)


def _is_date(value: Any) -> bool:
    """A full-date of RFC 3339 (what JSON Schema's "date" format means): YYYY-MM-DD, a real day."""
    if not isinstance(value, str):
        return True
    if _DATE.fullmatch(value) is None:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_regex(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The formats twoku's schemas use, judged as jsonschema judges them (tests/store/test_fastschema.py compares
# both on every date and pattern of the tests); without importing jsonschema, a third of a re-check's time.
_FORMATS: dict[str, Callable[[Any], bool]] = {"date": _is_date, "regex": _is_regex}


@cache
def _compiled(kind: str) -> Callable[[Any], Any]:
    import fastjsonschema

    schema = load_schema(kind)
    formats = {name: _FORMATS.get(name) or _jsonschema_format(name) for name in set(_formats(schema))}
    try:
        # Without the details of each refusal (jsonschema gives those): the rule schema compiles in a
        # fifth of the time (20 ms, not 95), and the answer is the same.
        compiled = fastjsonschema.compile(schema, formats=formats, use_default=False, detailed_exceptions=False)
    except Exception:  # fastjsonschema cannot write some keywords (const) without their details
        compiled = fastjsonschema.compile(schema, formats=formats, use_default=False)
    return compiled  # type: ignore[no-any-return]


def _jsonschema_format(name: str) -> Callable[[Any], bool]:
    """A format twoku's own checks do not cover, judged by jsonschema's format checker itself."""
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    if name not in checker.checkers:
        return lambda value: True
    func, raises = checker.checkers[name]

    def check(value: Any) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False

    return check


def prepare(kinds: Iterable[str]) -> None:
    """Compile the schemas of ``kinds`` now (before worker processes fork, so that each need not)."""
    for kind in kinds:
        _compiled(kind)


def valid(kind: str, data: Any) -> bool:
    """True when ``data`` surely satisfies the schema of ``kind``; False means: ask jsonschema."""
    check = _compiled(kind)  # imports fastjsonschema
    try:
        check(data)
    except _refused():
        return False
    return True


@cache
def _refused() -> type[Exception]:
    import fastjsonschema

    return fastjsonschema.JsonSchemaException  # type: ignore[no-any-return]
