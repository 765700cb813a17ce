"""What happened to each item between two versions of a store: per item, not per line.

Both sides are paired by ID, not by path, so an item moved to another folder is one
move (whether or not git saw a rename), and a file renamed to another ID is a removal
and an addition.  A deletion is flagged: history deprecates (status 废弃, reason,
replacement) and never deletes (DESIGN.md, 第十三条).  An item whose content digest
changed needs fresh argumentation (第九至十一条): records bound to the old digest no
longer cover it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twoku.model import enums
from twoku.model.argumentation import PASSING
from twoku.model.digest import content_digest
from twoku.model.fielddiff import Change, field_changes
from twoku.model.ids import parse_id
from twoku.model.layout import classify
from twoku.model.prose import own_render
from twoku.model.tables import TableDiff

ADDED, MODIFIED, DEPRECATED, REMOVED, MOVED = "added", "modified", "deprecated", "removed", "moved"
ORDER: tuple[str, ...] = (ADDED, MODIFIED, DEPRECATED, REMOVED, MOVED)
LABELS: dict[str, str] = {ADDED: "新增", MODIFIED: "修改", DEPRECATED: "废弃", REMOVED: "删除", MOVED: "移动"}
LIBRARY_KINDS = ("knowledge", "rule", "override")
# Fields for a store's own bookkeeping, left out of a published change notice.
INTERNAL_FIELDS: frozenset[str] = frozenset({"notes", "base_digest"})


WORKTREE = "WORKTREE"


@dataclass(frozen=True)
class Rev:
    """A resolved revision: what the user asked for and the commit (None for WORKTREE)."""

    name: str
    commit: str | None
    via: str = ""  # how a last-* name was found: the tag, or the adjustment record

    @property
    def short(self) -> str:
        return self.commit[:10] if self.commit else WORKTREE


@dataclass(frozen=True)
class Version:
    """One side of a changed file: its path and parsed data."""

    path: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ItemChange:
    """What happened to one item, with each changed field as a path and old → new."""

    id: str
    kind: str  # knowledge | rule | override
    change: str  # one of ORDER
    title: str
    layer: str | None
    old_path: str | None
    new_path: str | None
    changes: tuple[Change, ...] = ()
    reargue: bool = False  # normative content changed: 需重新论证
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    target: str | None = None  # an override's rule
    target_name: str | None = None
    rows: TableDiff | None = None  # a knowledge item's table: rows added, removed and changed
    unsealed: bool = False  # its table changed while the item's sealed digest did not (TK429)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def current(self) -> Mapping[str, Any]:
        return self.new if self.new is not None else self.old or {}

    def public_changes(self) -> list[Change]:
        """The changes a published notice shows: no internal bookkeeping fields."""
        return [c for c in self.changes if c.path.split(".", 1)[0].split("[", 1)[0] not in INTERNAL_FIELDS]


def _title(data: Mapping[str, Any], item_id: str) -> str:
    for key in ("name", "title"):
        value = data.get(key)
        if isinstance(value, str):
            return own_render(value, data)
    return item_id


def _layer(item_id: str, path: str) -> str | None:
    parsed = parse_id(item_id)
    if parsed is not None:
        return parsed.layer.code
    layer = classify(path).layer
    return layer.code if layer else None


def _index(versions: Iterable[Version]) -> dict[str, Version]:
    out: dict[str, Version] = {}
    for version in versions:
        item_id = version.data.get("id")
        if classify(version.path).kind in LIBRARY_KINDS and isinstance(item_id, str) and item_id:
            out.setdefault(item_id, version)
    return out


def item_change(item_id: str, old: Version | None, new: Version | None, always: bool = False) -> ItemChange | None:
    """How one item changed; None when only its formatting did (``always``: a modification all the same, where
    what changed is outside its file: the rows of its table)."""
    side = new or old
    assert side is not None
    kind = classify(side.path).kind or ""
    target = side.data.get("target") if kind == "override" else None
    common: dict[str, Any] = {
        "id": item_id,
        "kind": kind,
        "title": _title(side.data, item_id),
        "layer": _layer(item_id, side.path),
        "old_path": old.path if old else None,
        "new_path": new.path if new else None,
        "old": old.data if old else None,
        "new": new.data if new else None,
        "target": target if isinstance(target, str) else None,
    }
    if old is None:
        return ItemChange(change=ADDED, **common)
    if new is None:
        return ItemChange(change=REMOVED, **common)
    changes = tuple(field_changes(old.data, new.data))
    reargue = content_digest(old.data) != content_digest(new.data)
    if old.path != new.path:
        change = MOVED
    elif new.data.get("status") == enums.DEPRECATED and old.data.get("status") != enums.DEPRECATED:
        change = DEPRECATED
    elif changes or always:
        change = MODIFIED
    else:
        return None
    return ItemChange(change=change, changes=changes, reargue=reargue, **common)


def item_changes(old: Iterable[Version], new: Iterable[Version]) -> list[ItemChange]:
    """Every item that changed between the old and new sides of the changed files."""
    before, after = _index(old), _index(new)
    out = []
    for item_id in sorted(before.keys() | after.keys()):
        found = item_change(item_id, before.get(item_id), after.get(item_id))
        if found is not None:
            out.append(found)
    return sorted(out, key=lambda c: (ORDER.index(c.change), c.id))


def needs_argumentation(digest: str, records: Iterable[tuple[str, str, str]]) -> bool:
    """Whether an item whose normative content changed needs new argumentation, as ``signoff status``
    judges it: each kind of argumentation (kind, bound digest, conclusion) recorded for it needs a
    passing record bound to the present content.  An item never argued needs it."""
    kinds: dict[str, bool] = {}
    for kind, bound, conclusion in records:
        kinds[kind] = kinds.get(kind, False) or (bound == digest and conclusion in PASSING)
    return not kinds or not all(kinds.values())


@dataclass(frozen=True)
class Diff:
    """The item-level changes between two revisions, as ``twoku diff`` reports them."""

    since: Rev
    until: Rev
    items: list[ItemChange]
    unreadable: list[str] = field(default_factory=list)  # changed files that do not parse
    region: str | None = None
    layer: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # region code → name from twoku.yaml
    # rule ID → its parameters' values in words at ``until``, in ``region`` when one is given (prose placeholders)
    words: dict[str, dict[str, str]] = field(default_factory=dict)
    disclosure: dict[str, Any] = field(default_factory=dict)  # twoku.yaml's disclosure: who reads parameter values

    def withheld(self, audience: str) -> bool:
        """Whether parameter values are withheld from ``audience`` (twoku.yaml's ``disclosure``, 第十二条)."""
        from twoku.model.disclosure import values_public

        return not values_public({"disclosure": self.disclosure}, audience)

    def counts(self) -> Counter[str]:
        return Counter(c.change for c in self.items)
