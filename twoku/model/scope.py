"""Which items a change can touch: what validate must check again after a few files changed.

The checks between items (checks.registry.store_check) are local: what one of them finds on
an item depends only on

* the item itself and every item it references (by ID, anywhere in its data);
* for a rule, the argumentation records that name it;
* the other items holding the same ID (which of them the library keeps, and TK301);
* for knowledge, the reference cycles it lies on (TK405), which run through what it
  references, and what that references, and so on.

So after some files changed, only the findings of these can differ: the changed items; the
items that name or hold the ID of one others see differently now (facade()); the rules a
changed record names; and, for cycles, the knowledge downstream of a changed one.  To check
those again, validate needs only them, what they reference, the records naming their rules
and every holder of those IDs.  An edit of a file's layout or comments changes none of this.
:func:`affected` computes both sets from a compact index of every file (its ID, kind and the
IDs it mentions), so that the cost of a re-check follows the change, not the store.  A test compares the result with a
check of the whole store after random edits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from twoku.model.enums import DEPRECATED
from twoku.model.layout import classify

# Anything that looks like an item or adjustment ID.  Finding more than the references (an ID in a
# sentence) only widens a re-check; finding fewer would make it wrong.  An item whose ID has another
# shape could be named by any string at all: while a store holds one (TK302 says so), it is checked
# whole after every edit (odd()).
_REFERENCE = re.compile(r"(?:CN|[0-9]{6})-(?:[KROA]-[0-9]{4}|annual-[0-9]{4}|instant-[0-9]{8}-[a-z0-9-]+)")
CYCLE_CODE = "TK405"  # its findings follow the knowledge downstream of a change (see affected())


def references(text: str) -> str:
    """The IDs mentioned in an item's text (every string and key of it), space-separated, sorted."""
    found = _REFERENCE.findall(text)
    return " ".join(sorted(set(found))) if found else ""


def odd(item_id: str) -> bool:
    """Whether an item's ID has a shape references() would not find (so: any string may name it)."""
    return bool(item_id) and _REFERENCE.fullmatch(item_id) is None


@dataclass
class Index:
    """Every file of a store in path order: its item's ID ("" when none), kind ("" when none) and the
    IDs its data mentions (references())."""

    paths: list[str]
    ids: list[str]
    kinds: list[str]
    refs: list[str]
    known_positions: dict[str, int] | None = field(default=None, repr=False, compare=False)  # positions(), if made
    _holders: Holders | None = field(default=None, init=False, repr=False, compare=False)

    def positions(self) -> dict[str, int]:
        """Path → its position (made once)."""
        if self.known_positions is None:
            self.known_positions = dict(zip(self.paths, range(len(self.paths)), strict=True))
        return self.known_positions

    def holders(self) -> Holders:
        """ID → positions of the files holding it, in path order (made once)."""
        if self._holders is None:
            self._holders = Holders(self.ids)
        return self._holders


class Holders(Mapping[str, list[int]]):
    """ID → positions of the files holding it, in path order.  Made in C where each ID is held once (a store's
    usual state: a dict of 55,000 lists took 17 ms of every re-check); a list is made when one is asked for."""

    def __init__(self, ids: list[str]) -> None:
        self._one = dict(zip(ids, range(len(ids)), strict=True))  # ID → its last position
        self._one.pop("", None)
        self._many: dict[str, list[int]] = {}  # ID held more than once → every position
        if len(self._one) != len(ids) - ids.count(""):
            shared = {item_id for item_id, count in Counter(ids).items() if count > 1 and item_id}
            for n, item_id in enumerate(ids):
                if item_id in shared:
                    self._many.setdefault(item_id, []).append(n)

    def __getitem__(self, item_id: str) -> list[int]:
        many = self._many.get(item_id)
        return many if many is not None else [self._one[item_id]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._one)

    def __len__(self) -> int:
        return len(self._one)


@dataclass(frozen=True)
class Affected:
    recheck: set[str]  # paths whose findings may differ: checked again (all but TK405)
    cycles: set[str]  # paths whose TK405 findings may differ
    needed: set[str]  # paths a library must hold to check those exactly
    # Records that only name a changed item: path → the IDs among their subjects whose findings may differ.
    partial: dict[str, set[str]] = field(default_factory=dict)


DATA = 1  # a changed file whose data changed, but not what other items see of it (facade())
FACADE = 2  # a changed file others may see differently: added, removed, or its facade changed


def facade(
    kind: str, data: Mapping[str, object], layer: str | None, title: str, digest: str | None
) -> tuple[object, ...]:
    """What the checks of other items read of an item (they name it; see the checks in checks/): its ID,
    kind, layer, status and deprecation, title (their messages name a deprecated item by it), successor,
    code table, parameters (of a rule an override localises) and content digest (of a rule overrides are
    bound to; records are bound to any subject's whole content, and affected() sees to them).  An edit that
    leaves this alone (a summary, a logic text) needs no re-check of the items naming this one."""
    return (
        data.get("id"),
        kind,
        layer,
        title if data.get("status") == DEPRECATED else None,
        data.get("status"),
        data.get("deprecated"),
        data.get("superseded_by"),
        data.get("table"),
        data.get("pattern"),  # the tables whose columns are codes of this system are checked against it
        data.get("parameters"),
        data.get("effective"),  # an adjustment that added a rule is checked against the day it took effect (TK612)
        digest,
    )


def affected(index: Index, before: Mapping[str, tuple[str, str]], changed: Mapping[str, int]) -> Affected:
    """What to check again after the ``changed`` paths (path → DATA or FACADE) were added, edited or
    removed.  ``index`` describes the store now; ``before`` gives, for each changed path that existed
    before, its former (ID, references).
    """
    position = index.positions()
    holders = index.holders()
    ids, kinds, refs = index.ids, index.kinds, index.refs
    recheck = {position[p] for p in changed if p in position}
    touched: set[str] = set()  # the IDs others may now see otherwise: their namers and holders are checked again
    recorded: set[str] = set()  # the IDs whose content changed: the records naming them are checked again
    seeds: set[str] = set()  # knowledge IDs whose edges may have changed: cycles downstream are checked again
    targets: set[str] = set()  # the IDs a changed override names (its target among them)
    argued: set[str] = set()  # the IDs a changed record names: the other records naming them are checked again
    for path, how in changed.items():
        old_id, old_refs = before.get(path, ("", ""))
        n = position.get(path)
        new_id, new_refs = (ids[n], refs[n]) if n is not None else ("", "")
        if how == FACADE:
            touched.update((old_id, new_id))
        else:
            recorded.update((old_id, new_id))
        kind = classify(path).kind  # its folder's: a file that no longer reads still names what it named
        if kind == "knowledge":
            seeds.update((old_id, new_id, *old_refs.split(), *new_refs.split()))
        elif kind == "argumentation":  # the rules a record names: their TK603 depends on it
            for item_id in {*old_refs.split(), *new_refs.split()}:
                recheck.update(holders.get(item_id, ()))
            argued.update((*old_refs.split(), *new_refs.split()))  # TK604: a newer record supersedes older ones
        elif kind == "override":  # TK507 weighs the overrides of one rule together: the others of its target
            targets.update((*old_refs.split(), *new_refs.split()))
    touched.discard("")
    recorded.discard("")
    targets.discard("")
    if targets:
        for n, kind in enumerate(kinds):
            if kind == "override" and not targets.isdisjoint(refs[n].split()):
                recheck.add(n)
    # A record's findings about one subject depend on that subject alone: a record that only names a changed
    # item is checked again for those subjects (and needs only them), not for the dozens it may name.
    partial: dict[int, set[str]] = {}
    argued.discard("")
    if argued:
        for n, kind in enumerate(kinds):
            if kind == "argumentation" and not argued.isdisjoint(named := refs[n].split()):
                partial.setdefault(n, set()).update(argued.intersection(named))
    if recorded:  # a record is bound to its subjects' whole content (their digest), not to their facade
        for n, kind in enumerate(kinds):
            if kind == "argumentation" and not recorded.isdisjoint(named := refs[n].split()):
                partial.setdefault(n, set()).update(recorded.intersection(named))
    for item_id in touched:
        recheck.update(holders.get(item_id, ()))
    if touched:
        for n, mentioned in enumerate(refs):
            if mentioned and not touched.isdisjoint(named := mentioned.split()):
                if kinds[n] == "argumentation":
                    partial.setdefault(n, set()).update(touched.intersection(named))
                else:
                    recheck.add(n)  # it names an ID others now see otherwise
    # Knowledge downstream of a change, along references old and new: the cycles that can differ.
    downstream: set[str] = set()
    todo = [i for i in seeds if i]
    while todo:
        item_id = todo.pop()
        if item_id in downstream:
            continue
        downstream.add(item_id)
        for n in holders.get(item_id, ()):
            if kinds[n] == "knowledge":
                todo.extend(refs[n].split())
    cycles = {n for i in downstream for n in holders.get(i, ()) if kinds[n] == "knowledge"}
    recheck |= cycles
    # What checking those needs: what they reference, the records naming their rules, every holder.
    needed = set(recheck)
    for n in recheck:
        for item_id in refs[n].split():
            needed.update(holders.get(item_id, ()))
    # An override is checked beside the other overrides of its target (TK507).
    siblings = {i for n in recheck if kinds[n] == "override" for i in refs[n].split()}
    if siblings:
        needed.update(
            n for n, kind in enumerate(kinds) if kind == "override" and not siblings.isdisjoint(refs[n].split())
        )
    rules = {ids[n] for n in recheck if kinds[n] == "rule"}
    if rules:
        for n, kind in enumerate(kinds):
            if kind == "argumentation" and not rules.isdisjoint(refs[n].split()):
                needed.add(n)
    partial = {n: subjects for n, subjects in partial.items() if n not in recheck}
    for n, subjects in partial.items():
        needed.add(n)
        for item_id in subjects:
            needed.update(holders.get(item_id, ()))
    # Each subject is checked beside every record naming it (TK604: the newest of a kind supersedes).
    subjects_of = {i for n in recheck if kinds[n] == "argumentation" for i in refs[n].split()}
    subjects_of.update(*partial.values())
    if subjects_of:
        needed.update(
            n for n, kind in enumerate(kinds) if kind == "argumentation" and not subjects_of.isdisjoint(refs[n].split())
        )
    for n in list(needed):
        if ids[n]:
            needed.update(holders[ids[n]])
    paths = index.paths
    return Affected(
        {paths[n] for n in recheck},
        {paths[n] for n in cycles},
        {paths[n] for n in needed},
        {paths[n]: subjects for n, subjects in partial.items()},
    )
