"""The library: every item of a store indexed by ID, and a region's effective view.

A region's effective library is national + its province + its city (第五条). A lower
layer adds items and overrides upper rules' parameters; it never changes an upper
file.  Every value of an effective rule says which layer set it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from twoku.model import enums
from twoku.model.digest import content_digest
from twoku.model.ids import parse_id
from twoku.model.prose import own_render
from twoku.model.regions import Layer
from twoku.model.tables import Table
from twoku.model.versions import care_settings_of, upgraded, uses_of


@dataclass(frozen=True, init=False)
class Item:
    """One parsed store file that carries an item: knowledge, rule, override or record."""

    kind: str
    path: str
    data: Mapping[str, Any]
    layer: Layer | None  # the layer its ID names (None if the ID is unusable)
    known_digest: str | None = field(default=None, compare=False, repr=False)  # content_digest(data), if known

    def __init__(
        self, kind: str, path: str, data: Mapping[str, Any], layer: Layer | None, known_digest: str | None = None
    ) -> None:
        # Frozen all the same (the dataclass refuses assignment); set in one step rather than through
        # object.__setattr__ per field: a cold validate makes 55,000 items, and that took 0.03 s of it.
        self.__dict__.update(kind=kind, path=path, data=data, layer=layer, known_digest=known_digest)

    @property
    def id(self) -> str:
        value = self.data.get("id")
        return value if isinstance(value, str) else ""

    @property
    def status(self) -> str | None:
        value = self.data.get("status")
        return value if isinstance(value, str) else None

    @property
    def active(self) -> bool:
        return self.status == enums.ACTIVE

    @property
    def deprecated(self) -> bool:
        return self.status == enums.DEPRECATED

    @property
    def title(self) -> str:
        for key in ("name", "title", "reason"):
            value = self.data.get(key)
            if isinstance(value, str):
                return own_render(value, self.data)  # a rule's name may name its parameters
        return self.id

    @cached_property
    def digest(self) -> str:
        """content_digest(data), made once (an item's data is not changed once it is read)."""
        return self.known_digest if self.known_digest is not None else content_digest(self.data)


def make_item(kind: str, path: str, data: Mapping[str, Any], digest: str | None = None) -> Item:
    parsed = parse_id(data.get("id"))
    layer = parsed.layer if parsed else None
    if kind == "adjustment":
        region = data.get("region")
        layer = Layer(region) if isinstance(region, str) and parse_id(f"{region}-K-0001") else None
    return Item(kind, path, data, layer, digest)


@dataclass
class Library:
    """All items of a store, by ID; duplicates kept aside for the identity check."""

    items: dict[str, Item] = field(default_factory=dict)
    duplicates: dict[str, list[Item]] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    tables: dict[str, Table | None] = field(default_factory=dict)  # CSV path → its table (None: unreadable)
    today: str = ""  # ISO date the checks judge deadlines by ("" when not set)
    _by_target: dict[Any, list[Item]] | None = field(default=None, init=False, repr=False, compare=False)
    _by_kind: dict[str, list[Item]] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        items: Iterable[Item],
        config: Mapping[str, Any] | None = None,
        tables: dict[str, Table | None] | None = None,
    ) -> Library:
        lib = cls(config=config or {}, tables=tables or {})
        by_id: dict[str, list[Item]] = {}
        for item in items:
            item_id = item.data.get("id")  # Item.id inlined: a property call per item cost more than the lookup
            if item_id and isinstance(item_id, str):
                group = by_id.get(item_id)
                if group is None:
                    by_id[item_id] = [item]
                else:
                    group.append(item)
        held = lib.items
        for item_id, group in by_id.items():
            if len(group) > 1:
                group.sort(key=lambda i: i.path)
                lib.duplicates[item_id] = group
            held[item_id] = group[0]
        return lib

    def of_kind(self, kind: str) -> list[Item]:
        # Grouped and sorted once: the store checks ask for each kind again and again.
        if self._by_kind is None:
            groups: dict[str, list[Item]] = defaultdict(list)
            items = self.items
            for item_id in sorted(items):  # the library holds each item by its ID: sorted once, as strings
                item = items[item_id]
                groups[item.kind].append(item)
            self._by_kind = dict(groups)
        return list(self._by_kind.get(kind, ()))

    def get(self, item_id: object, kind: str | None = None) -> Item | None:
        item = self.items.get(item_id) if isinstance(item_id, str) else None
        if item is not None and kind is not None and item.kind != kind:
            return None
        return item

    def region_names(self) -> dict[str, str]:
        names = self.config.get("regions")
        return dict(names) if isinstance(names, Mapping) else {}

    def in_region(self, item: Item, region: Layer) -> bool:
        """Whether an item belongs to the effective library of ``region``."""
        return item.layer is not None and item.layer in region.chain

    def overrides_of(self, rule_id: str, region: Layer) -> list[Item]:
        """The overrides of a rule within a region's chain, from the top layer down."""
        found = [
            o for o in self._overrides_by_target().get(rule_id, []) if self.in_region(o, region) and not o.deprecated
        ]
        return sorted(found, key=lambda o: (o.layer.depth if o.layer else 0, o.id))

    def _overrides_by_target(self) -> dict[Any, list[Item]]:
        # Indexed once, so a region's effective library costs rules + overrides, not rules × overrides.
        if self._by_target is None:
            index: dict[Any, list[Item]] = defaultdict(list)
            for override in self.of_kind("override"):
                target = override.data.get("target")
                if isinstance(target, str):
                    index[target].append(override)
            self._by_target = dict(index)
        return self._by_target


def table_overrides(lib: Library, knowledge_id: str, region: Layer) -> list[tuple[str, str, Mapping[str, Any]]]:
    """The rows the overrides in a region's chain add to and remove from a knowledge item's table: (layer, override
    ID, its ``rows``), top layer first (model/tables.layered applies them)."""
    out = []
    for override in lib.overrides_of(knowledge_id, region):
        rows = override.data.get("rows")
        if isinstance(rows, Mapping) and override.layer is not None:
            out.append((override.layer.code, override.id, rows))
    return out


def tables_used(lib: Library, item: Item) -> dict[str, str]:
    """The knowledge items with a table (知识点明细) that a rule names in its basis or its condition, each
    with its content digest (which covers the rows: model/tables.py).  A rule is argued on those rows as much
    as on its own text, so a sign-off records them and goes stale when they change."""
    if item.kind != "rule":
        return {}
    named: set[str] = set()
    for entry in item.data.get("basis") or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            named.add(entry["id"])
    _named_tables(item.data.get("condition"), named)
    out = {}
    for knowledge_id in sorted(named):
        knowledge = lib.get(knowledge_id, "knowledge")
        if knowledge is not None and "table" in knowledge.data:
            out[knowledge_id] = knowledge.digest
    return out


def _named_tables(value: Any, out: set[str]) -> None:
    if isinstance(value, Mapping):
        for key in ("codes", "table"):
            if isinstance(value.get(key), str):
                out.add(value[key])
        for sub in value.values():
            _named_tables(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _named_tables(sub, out)


@dataclass(frozen=True)
class Sourced:
    """A value of an effective item and the layer (and file) that set it."""

    value: Any
    layer: Layer
    source: str  # the ID of the item that set it


@dataclass(frozen=True)
class EffectiveRule:
    rule: Item
    region: Layer
    fields: dict[str, Sourced]
    parameters: dict[str, dict[str, Any]]  # name → parameter with "value" as Sourced
    overrides: list[Item]


def effective_rule(lib: Library, rule: Item, region: Layer) -> EffectiveRule:
    """A rule as it takes effect in ``region``: upper values with lower overrides applied."""
    assert rule.layer is not None
    base = rule.layer
    fields = {k: Sourced(v, base, rule.id) for k, v in upgraded(rule.data).items() if k != "parameters"}
    params: dict[str, dict[str, Any]] = {}
    raw_params = rule.data.get("parameters")
    if isinstance(raw_params, Mapping):
        for name, spec in raw_params.items():
            spec = dict(spec) if isinstance(spec, Mapping) else {"value": spec}
            spec["value"] = Sourced(spec.get("value"), base, rule.id)
            params[name] = spec
    overrides = lib.overrides_of(rule.id, region)
    for override in overrides:
        assert override.layer is not None
        for name, value in (override.data.get("parameters") or {}).items():
            if name in params:
                params[name]["value"] = Sourced(value, override.layer, override.id)
        # An override adds uses of 第十九条 and 就医场景 (as schema 1 wrote its uses, read as what they mean).
        for key, extra in (("uses", uses_of(override.data)), ("scenarios", care_settings_of(override.data))):
            if extra:
                current = fields.get(key)
                merged = list(current.value) if current else []
                merged += [s for s in extra if s not in merged]
                fields[key] = Sourced(merged, override.layer, override.id)
        local_basis = override.data.get("basis") or []
        if local_basis:
            current = fields.get("basis")
            merged_basis = list(current.value) if current else []
            merged_basis += [b for b in local_basis if b not in merged_basis]
            fields["basis"] = Sourced(merged_basis, override.layer, override.id)
    return EffectiveRule(rule, region, fields, params, overrides)


@dataclass(frozen=True)
class Shown:
    item: Item
    region: Layer
    effective: EffectiveRule | None  # for rules: values with their layers
    names: dict[str, str]
    digest: str
