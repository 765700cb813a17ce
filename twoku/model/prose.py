"""Rule prose that states the region's values: parameter placeholders and their rendering.

A rule's words (name, definition, monitoring point, logic, violations) are what designated
institutions read (第十二条).  When they write a threshold as a number, a region that sets
another value publishes a page contradicting itself ("15天内" above a table saying 10天).
So prose refers to a parameter by a placeholder, ``{{param:readmission_days}}``, rendered with
the value in force where it is read and its unit: ``10天``, ``20%``; booleans as 是/否.

Double braces with a ``param:`` prefix: nothing in Chinese prose, an ICD code or a YAML flow
mapping writes ``{{``, and the prefix leaves room for other kinds of reference later.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The rule fields written for people to read, in which placeholders are rendered and checked.
PROSE_FIELDS: tuple[str, ...] = ("name", "definition", "monitoring_point", "logic", "violations", "suggested_threshold")
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PARAM = re.compile(r"\s*param\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
SYNTAX = "{{param:参数名}}"


@dataclass(frozen=True)
class Placeholder:
    text: str  # as written, braces included
    name: str | None  # the parameter it names; None when it is not of the form {{param:name}}


def placeholders(text: str) -> Iterator[Placeholder]:
    if "{{" not in text:
        return
    for match in PLACEHOLDER.finditer(text):
        named = _PARAM.fullmatch(match.group(1))
        yield Placeholder(match.group(0), named.group(1) if named else None)


def value_words(value: Any, unit: str | None = None) -> str:
    """A parameter's value as a reader sees it: ``10天``, ``20%``, 是/否, lists joined with 、."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(value_words(v) for v in value)
    if isinstance(value, Mapping):
        return "；".join(f"{k}：{value_words(v)}" for k, v in value.items())
    text = str(value).strip()
    return f"{text}{unit}" if unit and isinstance(value, (int, float)) else text


# 时间区间 in words (a rule's ``period``, schema 2): a window of its own, or a count of days, months, years.
_PERIOD_WORDS = {"明细": "同一明细", "日": "同一日", "就诊": "同一次就诊", "住院": "同一住院期间"}
_PERIOD_COUNTS = {"天数": "{}天内", "月": "{}个月内", "年": "{}年内"}


def period_words(period: Any) -> str | None:
    """A rule's time window as people say it: ``同一住院期间``, ``30天内``, with its note; None if not stated."""
    if not isinstance(period, Mapping) or not isinstance(period.get("unit"), str):
        return None
    unit, length, note = period["unit"], period.get("length"), period.get("note")
    words = _PERIOD_WORDS.get(unit) or unit
    if unit in _PERIOD_COUNTS and isinstance(length, int) and not isinstance(length, bool):
        words = _PERIOD_COUNTS[unit].format(length)
    return f"{words}（{note.strip()}）" if isinstance(note, str) and note.strip() else words


def parameter_words(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Each parameter's value in words, from a rule's ``parameters`` (``value`` may be any object
    with a ``.value``, as an effective rule's sourced values are)."""
    out: dict[str, str] = {}
    for name, spec in parameters.items():
        if not isinstance(spec, Mapping):
            out[str(name)] = value_words(spec)
            continue
        value = spec.get("value")
        value = getattr(value, "value", value)
        unit = spec.get("unit")
        out[str(name)] = value_words(value, unit if isinstance(unit, str) else None)
    return out


def render(text: str, words: Mapping[str, str]) -> str:
    """``text`` with each ``{{param:name}}`` replaced by the parameter's value in words; a
    placeholder naming no parameter is left as written (validate reports it, TK410)."""
    if "{{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        named = _PARAM.fullmatch(match.group(1))
        if named and named.group(1) in words:
            return words[named.group(1)]
        return match.group(0)

    return PLACEHOLDER.sub(one, text)


def own_render(text: str, data: Mapping[str, Any]) -> str:
    """``text`` rendered with the item's own parameter values (a rule as its layer wrote it): for
    names read outside any region (validate's messages, sign-off tables, diff, ls)."""
    if "{{" not in text:
        return text
    params = data.get("parameters")
    return render(text, parameter_words(params if isinstance(params, Mapping) else {}))


def render_value(value: Any, words: Mapping[str, str]) -> Any:
    """A prose field's value rendered: strings, and the strings of a list (violations)."""
    if isinstance(value, str):
        return render(value, words)
    if isinstance(value, list):
        return [render(v, words) if isinstance(v, str) else v for v in value]
    return value


def render_fields(data: Mapping[str, Any], words: Mapping[str, str]) -> dict[str, Any]:
    """The prose fields of a rule's data rendered; every other field as it is."""
    return {k: render_value(v, words) if k in PROSE_FIELDS else v for k, v in data.items()}


# --- a value written as a bare number (TK409) -----------------------------------------


def number_text(value: Any) -> str | None:
    """A parameter's value as prose would write the number; None when it is no number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return str(value)


def bare_value(text: str, value: Any, unit: str | None) -> str | None:
    """The first place ``text`` writes the number ``value`` (followed by its unit, when the
    parameter has one) outside a placeholder; None when it does not.

    Not an ordinal (第15条), not part of a longer number, code or ID (15.5, Z51.0, CN-K-0015).
    A parameter without a unit is looked for only where the number is not a list's numbering."""
    number = number_text(value)
    return None if number is None else bare_number(text, number, unit)


def bare_number(text: str, number: str, unit: str | None) -> str | None:
    """:func:`bare_value` for a number already written as text (a check asks for many texts)."""
    if number not in text:  # the usual answer, before any regex
        return None
    plain = PLACEHOLDER.sub(" ", text) if "{{" in text else text
    found = _written(number, unit).search(plain)
    return found.group(0) if found else None


@functools.lru_cache(maxsize=1024)
def _written(number: str, unit: str | None) -> re.Pattern[str]:
    after = rf"\s*{re.escape(unit)}" if unit else r"(?![.．、)）])"
    return re.compile(rf"(?<![0-9A-Za-z_.\-第]){re.escape(number)}(?![0-9]|\.[0-9]){after}")
