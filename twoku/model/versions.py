"""Schema versions: how a rule or override written for schema 1 reads in schema 2, and how to tell.

Schema 2 (issue 18) gave a rule the fields the published rule books give every rule, and with them
split what schema 1 called ``scenarios``: the uses of 第十九条 (事前提醒, 支付审核, 稽核 …) are now
``uses``, and ``scenarios`` holds the rule's 就医场景 (门诊, 住院, 购药 …).  The two vocabularies
share no value, so a file says by its values which version it was written for: a ``scenarios`` list
of uses with no ``uses`` beside it is schema 1.  ``twoku migrate`` translates files by that shape
(not by the version ``twoku.yaml`` states), so it can be run again after v1-shaped files were merged
into a v2 store; twoku reads such a file as what it means (``upgraded``), never its uses as 就医场景,
and ``validate`` says it is to be migrated (TK203).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from twoku.model.enums import USES

CURRENT: Final = "current"  # nothing to translate
V1: Final = "v1"  # ``scenarios`` holds the uses of 第十九条: rename it ``uses``
MIXED: Final = "mixed"  # ``scenarios`` mixes uses with other values: no translation is sure

_USES = frozenset(USES)


def scenarios_shape(data: Mapping[str, Any]) -> str:
    """Which schema a rule's or override's ``scenarios`` was written for (CURRENT, V1 or MIXED)."""
    if "uses" in data or "scenarios" not in data:
        return CURRENT
    values = data["scenarios"]
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return CURRENT
    named = [v in _USES for v in values if isinstance(v, str)]
    if len(named) == len(values) and all(named):  # an empty list too: in schema 1 it added no use
        return V1 if isinstance(data["scenarios"], list) else MIXED
    return MIXED if any(named) else CURRENT


def is_v1(data: Any) -> bool:
    return isinstance(data, Mapping) and scenarios_shape(data) == V1


def upgraded(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` as schema 2 reads it: a v1-shaped item with ``scenarios`` renamed ``uses`` in its place
    (a new dict); any other item as it is."""
    if "uses" in data or "scenarios" not in data or scenarios_shape(data) != V1:
        return data
    return {("uses" if key == "scenarios" else key): value for key, value in data.items()}


def uses_of(data: Mapping[str, Any]) -> list[str]:
    """A rule's uses of 第十九条 (an override's added uses), whichever schema wrote it."""
    values = upgraded(data).get("uses")
    return [str(v) for v in values] if isinstance(values, list) else []


def care_settings_of(data: Mapping[str, Any]) -> list[str]:
    """A rule's 就医场景 (an override's added ones); none for a v1-shaped item, which never stated them."""
    values = upgraded(data).get("scenarios")
    return [str(v) for v in values] if isinstance(values, list) else []
