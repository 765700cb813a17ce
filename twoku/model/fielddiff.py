"""Field-level differences between two versions of an item, on the parsed data.

Re-indentation or quoting is no change.  Lists of scalars whose order means nothing
(:data:`~twoku.model.digest.SET_FIELDS`) compare as sets; lists of mappings with an
``id`` (``basis``) or ``ref`` (``articles``) compare by that key; maps compare by key.
A file written for schema 1 is compared as schema 2 reads it (model/versions.py): the
migration of a file, a key renamed, is no change of its content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twoku.model.digest import NON_NORMATIVE, SET_FIELDS, canonical
from twoku.model.personal import masked
from twoku.model.versions import upgraded

_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One changed field: ``path`` like ``parameters.readmission_days.value``."""

    path: str
    kind: str  # changed | added | removed
    old: Any = None
    new: Any = None

    def describe(self) -> str:
        if self.kind == "added":
            return f"{self.path} 新增 {_short(self.new)}"
        if self.kind == "removed":
            return f"{self.path} 删除 {_short(self.old)}"
        return f"{self.path}：{_short(self.old)} → {_short(self.new)}"


def _short(value: Any) -> str:
    """A value in a sentence that says what changed (validate's TK604 and TK506, signoff, override rebase, diff,
    an adjustment record): on one line, shortened, an ID or mobile number in it masked, before it is cut
    (第二十二条: a change that removed one must not repeat it)."""
    if isinstance(value, bool):  # a yes/no parameter reads as people say it, never True/False
        return "是" if value else "否"
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (list, dict)) else str(value)
    text = masked(str(text).replace("\n", " "))
    return text if len(text) <= 60 else text[:57] + "…"


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    for key in ("id", "ref", "name"):
        if items and all(isinstance(i, Mapping) and isinstance(i.get(key), str) for i in items):
            keys = [i[key] for i in items]
            if len(set(keys)) == len(keys):
                return {k: i for k, i in zip(keys, items, strict=True)}
    return None


def _diff(old: Any, new: Any, path: str, as_set: bool, out: list[Change]) -> None:
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            a, b = old.get(key, _MISSING), new.get(key, _MISSING)
            if a is _MISSING:
                out.append(Change(sub, "added", new=b))
            elif b is _MISSING:
                out.append(Change(sub, "removed", old=a))
            else:
                _diff(a, b, sub, key in SET_FIELDS and not path, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        if as_set or all(not isinstance(v, (dict, list)) for v in [*old, *new]):
            removed = [v for v in old if v not in new]
            added = [v for v in new if v not in old]
            out.extend(Change(path, "removed", old=v) for v in removed)
            out.extend(Change(path, "added", new=v) for v in added)
            if not (removed or added or as_set):
                out.append(Change(path, "changed", old, new))  # same entries, another order
            return
        ka, kb = _keyed(old), _keyed(new)
        if ka is not None and kb is not None:
            for key in [*ka, *(k for k in kb if k not in ka)]:
                sub = f"{path}[{key}]"
                if key not in kb:
                    out.append(Change(sub, "removed", old=ka[key]))
                elif key not in ka:
                    out.append(Change(sub, "added", new=kb[key]))
                else:
                    _diff(ka[key], kb[key], sub, False, out)
            return
    out.append(Change(path, "changed", old, new))


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any], normative_only: bool = False) -> list[Change]:
    """Every changed field between two versions of one item."""
    a, b = canonical(upgraded(old)), canonical(upgraded(new))
    if normative_only:
        a = {k: v for k, v in a.items() if k not in NON_NORMATIVE}
        b = {k: v for k, v in b.items() if k not in NON_NORMATIVE}
    out: list[Change] = []
    _diff(a, b, "", False, out)
    return out
