"""Who may see what (第十二条), decided by the schemas' ``x-twoku-disclosure`` annotations.

Provincial and municipal bureaus disclose their monitoring points and standards to the
designated institutions, and are encouraged to publish them to society (第十二条).  Each
schema property says who may see it: ``society``, ``institutions`` or ``internal``.
Publishing keeps a value only when every property on its path is visible to the
audience; a key the schema does not declare is kept back (deny by default), so a new
internal field can never leak because the code forgot it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from twoku.model.schemas import Schema, all_schemas

ANNOTATION = "x-twoku-disclosure"
AUDIENCES: dict[str, frozenset[str]] = {
    "institutions": frozenset({"society", "institutions"}),  # 定点医药机构
    "society": frozenset({"society"}),  # 社会公众
}
AUDIENCE_LABELS: dict[str, str] = {"institutions": "定点医药机构", "society": "社会公众"}
HIDDEN: Any = object()  # what ``visible`` returns for a value the audience may not see
# 第十二条 discloses the standards to the designated institutions and encourages monitoring points for society:
# an exact threshold published to society teaches how to stay just under it.  Parameter values are therefore
# for institutions unless the store's ``disclosure: {parameters: society}`` publishes them to society too.
WITHHELD = "阈值向定点医药机构公开"

_STEP = re.compile(r"\[([^\]]*)\]|([^.\[]+)")
_SCHEMAS: dict[str, Schema] = {}


def schema_of(kind: str) -> Schema | None:
    if not _SCHEMAS:
        _SCHEMAS.update(all_schemas())
    return _SCHEMAS.get(kind)


def _may_see(node: Mapping[str, Any], audience: str) -> bool:
    level = node.get(ANNOTATION)
    return level is None or level in AUDIENCES[audience]  # unannotated: as its parent


def _child(node: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    props = node.get("properties")
    if isinstance(props, Mapping) and key in props:
        sub = props[key]
        return sub if isinstance(sub, Mapping) else None
    extra = node.get("additionalProperties", True)  # JSON Schema: absent means any key, as its parent
    return extra if isinstance(extra, Mapping) else {} if extra is True else None


def visible(node: Mapping[str, Any] | None, value: Any, audience: str) -> Any:
    """``value`` with every part the audience may not see removed (HIDDEN if none of it)."""
    if node is None or not _may_see(node, audience):
        return HIDDEN
    if isinstance(value, Mapping):
        out = {}
        for key, sub in value.items():
            kept = visible(_child(node, str(key)), sub, audience)
            if kept is not HIDDEN:
                out[key] = kept
        return out
    if isinstance(value, list):
        items = node.get("items")
        items = items if isinstance(items, Mapping) else {}
        return [v for v in (visible(items, sub, audience) for sub in value) if v is not HIDDEN]
    return value


def visible_item(kind: str, data: Mapping[str, Any], audience: str) -> dict[str, Any]:
    """The fields of one store item that ``audience`` may see."""
    kept = visible(schema_of(kind), data, audience)
    return kept if isinstance(kept, dict) else {}


def at_path(kind: str, path: str, audience: str) -> tuple[Mapping[str, Any] | None, list[str]]:
    """The schema node at a field path like ``parameters.days.value`` or ``basis[CN-K-0001].article``,
    and the Chinese label of each step; node None when the audience may not see it."""
    node: Mapping[str, Any] | None = schema_of(kind)
    labels: list[str] = []
    for match in _STEP.finditer(path):
        if node is None:
            break
        key, name = match.group(1), match.group(2)
        if key is not None:
            items = node.get("items")
            node = items if isinstance(items, Mapping) else None
            labels.append(key)
        else:
            props = node.get("properties")
            declared = isinstance(props, Mapping) and name in props
            node = _child(node, name)
            if node is not None:
                labels.append(str(node.get("title", name)) if declared else name)
        if node is not None and not _may_see(node, audience):
            node = None
    return node, labels


def values_public(config: Mapping[str, Any] | None, audience: str) -> bool:
    """Whether ``audience`` may read rules' parameter values (thresholds): the institutions always, society
    where the store's ``disclosure.parameters`` is ``society``."""
    if audience != "society":
        return True
    setting = config.get("disclosure") if isinstance(config, Mapping) else None
    return isinstance(setting, Mapping) and setting.get("parameters") == "society"


def withheld_words(parameters: Any) -> dict[str, str]:
    """Each parameter's words in prose where its value is withheld: （阈值向定点医药机构公开）."""
    names = parameters if isinstance(parameters, Mapping) else {}
    return {str(name): f"（{WITHHELD}）" for name in names}
