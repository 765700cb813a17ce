"""``twoku ls`` and ``twoku show``: a region's effective library, and one item in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.errors import UsageError
from twoku.model import enums
from twoku.model.library import Item, Library, Shown, effective_rule
from twoku.model.prose import PROSE_FIELDS, parameter_words, render_value, value_words
from twoku.model.regions import NATIONAL, Layer, parse_layer
from twoku.model.versions import care_settings_of, uses_of
from twoku.ops.validate import load_store

LISTABLE = {"rules": "rule", "knowledge": "knowledge", "overrides": "override"}


def region_layer(region: str | None, lib: Library) -> Layer:
    """The layer named by --region, defaulting to the store's own region."""
    code = region or str(lib.config.get("region") or NATIONAL)
    try:
        return parse_layer(code)
    except ValueError as exc:
        raise UsageError(f"--region {code}：{exc}", hint="国家写 CN，省如 510000，市如 510100") from None


@dataclass(frozen=True)
class Listing:
    region: Layer
    kind: str
    items: list[Item]
    names: dict[str, str]
    # For overrides, by ID: the name of the rule it localises and the values it sets, in words
    # (an override's own "title" is its reason, a paragraph).
    localised: dict[str, tuple[str, str]] = field(default_factory=dict)


def _localised(lib: Library, override: Item) -> tuple[str, str]:
    target = lib.get(override.data.get("target"), "rule")
    specs = target.data.get("parameters") if target else None
    specs = specs if isinstance(specs, dict) else {}
    values = override.data.get("parameters")
    words = []
    for name, value in (values if isinstance(values, dict) else {}).items():
        unit = specs.get(name, {}).get("unit") if isinstance(specs.get(name), dict) else None
        words.append(f"{name}：{value_words(value, unit if isinstance(unit, str) else None)}")
    if uses := uses_of(override.data):
        words.append("增加应用场景：" + "、".join(uses))
    if settings := care_settings_of(override.data):
        words.append("增加就医场景：" + "、".join(settings))
    return (target.title if target else ""), "\n".join(words)


def list_items(
    root: Path, what: str, region: str | None = None, status: str | None = None, category: str | None = None
) -> Listing:
    if what not in LISTABLE:
        raise UsageError(f"不能列出 “{what}”", hint="可列出：" + "、".join(LISTABLE))
    lib = load_store(root).library
    layer = region_layer(region, lib)
    kind = LISTABLE[what]
    if status and status not in enums.STATUSES:
        raise UsageError(f"--status {status} 不是有效状态", hint="可选：" + "、".join(enums.STATUSES))
    categories = (
        enums.labels(enums.KNOWLEDGE_CATEGORIES) if kind == "knowledge" else enums.labels(enums.RULE_CATEGORIES)
    )
    if category and category not in categories:
        slugs = {t.slug: t.label for t in enums.KNOWLEDGE_CATEGORIES} | {t.slug: t.label for t in enums.RULE_CATEGORIES}
        if category in slugs:
            category = slugs[category]
        else:
            raise UsageError(f"--category {category} 不是有效类别", hint="可选：" + "、".join(categories))
    items = [
        i
        for i in lib.of_kind(kind)
        if lib.in_region(i, layer)
        and (status is None or i.status == status)
        and (category is None or i.data.get("category") == category)
    ]
    items.sort(key=lambda i: (i.layer.depth if i.layer else 0, i.id))
    localised = {i.id: _localised(lib, i) for i in items if kind == "override"}
    return Listing(layer, kind, items, lib.region_names(), localised)


def show_item(root: Path, item_id: str, region: str | None = None) -> Shown:
    lib = load_store(root).library
    item = lib.get(item_id)
    if item is None:
        raise UsageError(f"库中没有编号为 {item_id} 的条目", hint="用 twoku ls rules 或 twoku ls knowledge 查找编号")
    layer = region_layer(region, lib) if region else (item.layer or Layer(NATIONAL))
    if item.layer is not None and item.kind != "adjustment" and not lib.in_region(item, layer):
        raise UsageError(
            f"{item_id} 属于 {item.layer}，不在 {layer} 的生效库中", hint=f"去掉 --region，或改用 --region {item.layer}"
        )
    effective = effective_rule(lib, item, layer) if item.kind == "rule" and item.layer else None
    return Shown(item, layer, effective, lib.region_names(), item.digest)


def effective_dict(shown: Shown) -> dict[str, Any]:
    """The item as JSON: each value with the layer and item that set it (for rules)."""
    base: dict[str, Any] = {
        "id": shown.item.id,
        "kind": shown.item.kind,
        "path": shown.item.path,
        "region": shown.region.code,
        "digest": shown.digest,
    }
    eff = shown.effective
    if eff is None:
        base["data"] = dict(shown.item.data)
        return base
    base["fields"] = {k: {"value": s.value, "layer": s.layer.code, "source": s.source} for k, s in eff.fields.items()}
    words = parameter_words(eff.parameters)
    for key, entry in base["fields"].items():  # prose as written, and as read in the region
        if key in PROSE_FIELDS and (rendered := render_value(entry["value"], words)) != entry["value"]:
            entry["rendered"] = rendered
    base["parameters"] = {
        name: {
            **{k: v for k, v in spec.items() if k != "value"},
            "value": spec["value"].value,
            "layer": spec["value"].layer.code,
            "source": spec["value"].source,
        }
        for name, spec in eff.parameters.items()
    }
    base["overrides"] = [o.id for o in eff.overrides]
    return base
