"""The public summary of a region's library (第十二条): what hospitals and the public read.

Built from items already reduced to what the audience may see (model/disclosure.py),
so nothing internal can reach a renderer.  Everything is sorted and nothing depends on
the clock: the same store revision and date give the same publication.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twoku.model import claim, enums, tables
from twoku.model.changes import LABELS, ItemChange
from twoku.model.disclosure import AUDIENCES, HIDDEN, WITHHELD, at_path, visible, visible_item, withheld_words
from twoku.model.library import Item, Library, effective_rule, make_item
from twoku.model.personal import mask, personal_data
from twoku.model.prose import PROSE_FIELDS, own_render, parameter_words, period_words, render, render_fields
from twoku.model.regions import Layer, layer_name
from twoku.model.tables import Table

PUBLISHED_KINDS = ("knowledge", "rule", "override")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any
    unit: str | None
    description: str | None
    layer: str  # the layer that set the value in this region
    layer_name: str
    source: str  # the rule or override that set it
    suggested: Any = None  # the rule's own value, when a lower layer set another (shown beside the local one)
    withheld: bool = False  # the value is not disclosed to this audience (value: the words saying so)


@dataclass(frozen=True)
class Basis:
    id: str
    title: str | None
    doc_number: str | None
    article: str | None


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    category: str
    group: str  # 一级 class of the framework
    framework_code: str | None
    layer: str
    layer_name: str
    definition: str | None
    monitoring_point: str | None  # plain words for institutions; the definition when none is written
    logic: str | None  # the judgement in detail: institutions only (None for society)
    parameters: tuple[Parameter, ...]
    uses: tuple[str, ...]  # 应用场景 (第十九条)
    stages: tuple[str, ...]
    level: str | None
    violations: tuple[str, ...]
    basis: tuple[Basis, ...]
    effective: str | None
    expires: str | None
    localised_by: tuple[str, ...]  # the overrides applied in this region
    # Where the rule applies, as the rule books state it (schema 2): empty where the rule does not say.
    scenarios: tuple[str, ...] = ()  # 就医场景
    period: str | None = None  # 时间区间, in words
    institution_levels: tuple[str, ...] = ()
    institution_types: tuple[str, ...] = ()
    insurance_types: tuple[str, ...] = ()
    supervised: tuple[str, ...] = ()  # 监管对象
    suggested_threshold: str | None = None  # 建议阈值: institutions only, as the parameters' values

    def scope(self) -> list[tuple[str, str]]:
        """The rule's uses and where it applies, as (label, words), for the lines people read."""
        pairs = [
            ("应用场景", "、".join(self.uses)),
            ("就医场景", "、".join(self.scenarios)),
            ("时间区间", self.period or ""),
            ("医疗机构级别", "、".join(self.institution_levels)),
            ("医疗机构类型", "、".join(self.institution_types)),
            ("参保险种", "、".join(self.insurance_types)),
            ("监管对象", "、".join(self.supervised)),
            ("建议阈值", self.suggested_threshold or ""),
        ]
        return [(label, words) for label, words in pairs if words]


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str  # the path in the schema's Chinese titles
    kind: str  # changed | added | removed
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class Change:
    id: str
    kind: str  # knowledge | rule | override
    change: str  # added | modified | deprecated | removed | moved
    label: str  # 新增 …
    title: str
    layer: str | None
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class PublicTable:
    """A knowledge table the published rules are judged against, as the region has it: the columns the
    audience may see, each row with the layer it came from."""

    id: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (name, Chinese title)
    rows: tuple[tuple[str, ...], ...]
    layers: tuple[str, ...]
    rules: tuple[str, ...]  # the published rules that use it


@dataclass(frozen=True)
class Publication:
    region: str
    region_name: str
    audience: str
    as_of: str
    revision: str
    since_tag: str | None  # the last publication for the region, at an earlier revision
    since_revision: str | None
    rules: tuple[Rule, ...]
    changes: tuple[Change, ...]
    names: dict[str, str] = field(default_factory=dict)
    tables: tuple[PublicTable, ...] = ()

    def categories(self) -> list[str]:
        present = {r.category for r in self.rules}
        return [c for c in enums.labels(enums.RULE_CATEGORIES) if c in present]


def in_force(data: Mapping[str, Any], on: dt.date) -> bool:
    """生效 on that date: status 生效, effective on or before it, not yet expired."""
    if data.get("status") != enums.ACTIVE:
        return False
    effective, expires = data.get("effective"), data.get("expires")
    if isinstance(effective, str) and effective > on.isoformat():
        return False
    return not (isinstance(expires, str) and expires <= on.isoformat())


def _basis_ids(items: Iterable[Item]) -> set[str]:
    found: set[str] = set()
    for item in items:
        basis = item.data.get("basis")
        for ref in basis if isinstance(basis, list) else ():
            if isinstance(ref, Mapping) and isinstance(ref.get("id"), str):
                found.add(ref["id"])
    return found


def public_library(lib: Library, audience: str, on: dt.date, region: Layer | None = None) -> Library:
    """The library as the audience may see it: rules and overrides in force on ``on``, each
    reduced to its visible fields; knowledge kept (basis titles) likewise reduced.

    With ``region``, only what that region's publication can show is reduced: the rules and
    overrides of its layers and the items their basis names (a national store holds tens of
    thousands of knowledge items, and reducing them all was most of a city's publish)."""
    wanted: set[str] | None = None
    if region is not None:
        chain = [i for i in lib.items.values() if i.kind in ("rule", "override") and lib.in_region(i, region)]
        wanted = {i.id for i in chain} | _basis_ids(chain)
    kept: list[Item] = []
    for item in lib.items.values():
        if item.kind not in PUBLISHED_KINDS or item.layer is None:
            continue
        if wanted is not None and item.id not in wanted:
            continue
        if item.kind != "knowledge" and not in_force(item.data, on):
            continue
        kept.append(make_item(item.kind, item.path, visible_item(item.kind, item.data, audience)))
    return Library.build(kept, lib.config)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _in_order(values: Iterable[str], order: Iterable[str]) -> tuple[str, ...]:
    rank = {v: n for n, v in enumerate(order)}
    return tuple(sorted(set(values), key=lambda v: (rank.get(v, len(rank)), v)))


def _suggested(spec: Any, value: Any) -> Any:
    suggested = spec.get("value") if isinstance(spec, Mapping) else None
    return suggested if suggested is not None and suggested != value else None


def public_rule(lib: Library, rule: Item, region: Layer, names: dict[str, str], values: bool = True) -> Rule:
    """The rule as the region publishes it; without ``values`` its thresholds are withheld (the parameters
    are named, with who set them; the prose says the value is disclosed to the institutions)."""
    eff = effective_rule(lib, rule, region)
    assert rule.layer is not None
    # The prose states the region's values: its placeholders rendered with the effective parameters.
    words = parameter_words(eff.parameters) if values else withheld_words(eff.parameters)
    get = render_fields({k: s.value for k, s in eff.fields.items()}, words)
    raw = rule.data.get("parameters")
    own: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    params = tuple(
        Parameter(
            name,
            spec["value"].value if values else WITHHELD,
            _text(spec.get("unit")) if values else None,
            _text(spec.get("description")),
            spec["value"].layer.code,
            layer_name(spec["value"].layer, names),
            spec["value"].source,
            _suggested(own.get(name), spec["value"].value) if values else None,
            withheld=not values,
        )
        for name, spec in sorted(eff.parameters.items())
    )
    basis = []
    for ref in get.get("basis") or []:
        if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str):
            continue
        known = lib.get(ref["id"], "knowledge")
        data = known.data if known else {}
        basis.append(
            Basis(ref["id"], _text(data.get("title")), _text(data.get("doc_number")), _text(ref.get("article")))
        )
    category = str(get.get("category") or "")
    rc = enums.rule_class(category)
    institutions = get.get("institutions")
    institutions = institutions if isinstance(institutions, Mapping) else {}
    return Rule(
        id=rule.id,
        name=str(get.get("name") or rule.id),
        category=category,
        group=rc.group if rc else "",
        framework_code=_text(get.get("framework_code")),
        layer=rule.layer.code,
        layer_name=layer_name(rule.layer, names),
        definition=_text(get.get("definition")),
        monitoring_point=_text(get.get("monitoring_point")) or _text(get.get("definition")),
        logic=_text(get.get("logic")),
        parameters=params,
        uses=_in_order(_strings(get.get("uses")), enums.USES),
        stages=_in_order(_strings(get.get("stages")), enums.STAGES),
        level=_text(get.get("level")),
        violations=_strings(get.get("violations")),
        basis=tuple(basis),
        effective=_text(get.get("effective")),
        expires=_text(get.get("expires")),
        localised_by=tuple(o.id for o in eff.overrides),
        scenarios=_in_order(_strings(get.get("scenarios")), enums.CARE_SETTINGS),
        period=period_words(get.get("period")),
        institution_levels=_in_order(_strings(institutions.get("levels")), claim.INSTITUTION_LEVELS),
        institution_types=_in_order(_strings(institutions.get("types")), enums.INSTITUTION_TYPES),
        insurance_types=_in_order(_strings(get.get("insurance_types")), claim.INSURANCE_TYPES),
        supervised=_in_order(_strings(get.get("supervised")), enums.SUPERVISED),
        suggested_threshold=_text(get.get("suggested_threshold")),
    )


def public_rules(lib: Library, region: Layer, names: dict[str, str], values: bool = True) -> tuple[Rule, ...]:
    """The rules of the region's effective library, by framework category then ID."""
    order = {c: n for n, c in enumerate(enums.labels(enums.RULE_CATEGORIES))}
    rules = [public_rule(lib, r, region, names, values) for r in lib.of_kind("rule") if lib.in_region(r, region)]
    return tuple(sorted(rules, key=lambda r: (order.get(r.category, len(order)), r.id)))


def _readable(c: ItemChange, f: Any, words: Mapping[str, str] | None, values: bool = True) -> tuple[Any, Any] | None:
    """A rule's prose as readers read it: the new words with the region's values (``words``), the
    old with the old rule's own; None when both read the same (reworded to name a parameter).
    Without ``values`` a parameter's value is withheld: its changes are not shown, the prose says so."""
    head = f.path.split(".", 1)[0].split("[", 1)[0]
    if not values and head == "parameters":
        return _without_values(c, f)
    if c.kind != "rule" or head not in PROSE_FIELDS:
        return f.old, f.new
    if not values:
        old_words = withheld_words((c.old or {}).get("parameters"))
        words = withheld_words((c.new or c.current or {}).get("parameters"))
        old = render(f.old, old_words) if isinstance(f.old, str) else f.old
        new = render(f.new, words) if isinstance(f.new, str) else f.new
        return None if f.kind == "changed" and old == new else (old, new)
    old = own_render(f.old, c.old or {}) if isinstance(f.old, str) else f.old
    new = f.new
    if isinstance(new, str):
        new = render(new, words) if words is not None else own_render(new, c.new or {})
    return None if f.kind == "changed" and old == new else (old, new)


def _without_values(c: ItemChange, f: Any) -> tuple[Any, Any] | None:
    """A change under ``parameters`` without the values: none for a value itself (a rule's
    ``parameters.<name>.value``, an override's ``parameters.<name>``); a parameter added or removed whole
    (or all of them) without its value."""
    steps = f.path.split(".")
    if c.kind == "override" or (len(steps) >= 3 and steps[2] == "value"):
        return None

    def drop(spec: Any) -> Any:
        return {k: v for k, v in spec.items() if k != "value"} if isinstance(spec, Mapping) else spec

    def each(specs: Any) -> Any:
        return {k: drop(v) for k, v in specs.items()} if isinstance(specs, Mapping) else specs

    strip = each if len(steps) == 1 else drop if len(steps) == 2 else (lambda v: v)
    return strip(f.old), strip(f.new)


def public_table(
    item: Item, table: Table, layered: tables.Layered, audience: str, rules: Iterable[str]
) -> PublicTable | None:
    """A table as the audience may see it: its columns of that disclosure (a column without one is disclosed
    as its item is), each row's layer; None when the audience may see no column of it."""
    seen = AUDIENCES[audience]
    keep = [n for n, c in enumerate(table.spec.columns) if (c.disclosure or "society") in seen]
    if not keep:
        return None
    columns = tuple((table.spec.columns[n].name, table.spec.columns[n].title) for n in keep)
    rows = tuple(tuple(row[n] for n in keep) for row in layered.rows)
    title = str(item.data.get("title") or item.id)
    return PublicTable(item.id, title, columns, rows, tuple(layered.layers), tuple(sorted(rules)))


def public_change(
    c: ItemChange, audience: str, on: dt.date, words: Mapping[str, str] | None = None, values: bool = True
) -> Change | None:
    """What the audience may see of one item's change; None when it concerns them not:
    drafts never published, or only internal fields changed.  A rule's prose reads with
    ``words`` (its parameters' values in the region), else with its own values; without ``values``
    the parameters' values are withheld (model/disclosure.py)."""
    was = c.old is not None and c.old.get("status") == enums.ACTIVE
    now = c.new is not None and in_force(c.new, on)
    if not (was or now) or c.kind not in PUBLISHED_KINDS:
        return None
    fields = []
    for f in c.changes:
        node, labels = at_path(c.kind, f.path, audience)
        readable = _readable(c, f, words, values)
        if node is None or readable is None:
            continue
        old, new = (visible(node, v, audience) if v is not None else None for v in readable)
        fields.append(
            FieldChange(
                f.path, " › ".join(labels), f.kind, None if old is HIDDEN else old, None if new is HIDDEN else new
            )
        )
    if c.change in ("modified", "moved") and not fields:
        return None
    title = visible_item(c.kind, c.current, audience)
    name = title.get("name") or title.get("title") or c.id
    if c.kind == "rule" and isinstance(name, str):
        if not values:
            words = withheld_words(c.current.get("parameters"))
        name = render(name, words) if words is not None else own_render(name, c.current)
    if c.kind == "override" and c.target:
        name = f"本地化 {c.target} {c.target_name or ''}".rstrip()
    return Change(c.id, c.kind, c.change, LABELS.get(c.change, c.change), str(name), c.layer, tuple(fields))


def _walk(value: Any, where: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _walk(key, where)
            yield from _walk(sub, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for n, sub in enumerate(value):
            yield from _walk(sub, f"{where}[{n}]")


def personal_values(data: Any) -> list[str]:
    """Where the data holds what looks like personal data (第二十二条), the value masked."""
    return [f"{where}：疑似{kind}（{mask(text)}）" for where, text in _walk(data, "") if (kind := personal_data(text))]
