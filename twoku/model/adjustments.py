"""Adjustments as data (第十三条 to 第十六条): deadlines, what is still cited, the results of
``twoku adjust``.

Pure: the instant adjustment's deadline is derived here (第十六条: finished no later than
the new law's effective date), and so is the list of items still citing superseded
knowledge, so the command, the status view and the validate checks agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twoku.model import enums
from twoku.model.library import Item, Library

ANNUAL, INSTANT = (t.label for t in enums.ADJUSTMENT_KINDS)  # 年度调整, 即时调整
OPEN, DONE = enums.ADJUSTMENT_STATUSES  # 进行中, 已完成
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NEAR_DAYS = 30  # a deadline within this many days is near (TK608)


def date_of(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def annual_id(region: str, year: int) -> str:
    return f"{region}-annual-{year}"


def instant_id(region: str, opened: dt.date, slug: str) -> str:
    return f"{region}-instant-{opened:%Y%m%d}-{slug}"


def tag_of(data: Mapping[str, Any]) -> str | None:
    """The tag that marks a closed adjustment, carrying its layer's region (every layer of a chain adjusts
    yearly, and a city's clone holds its province's tags): ``annual/<region>/<year>`` or
    ``instant/<region>/<YYYYMMDD>-<slug>``.  Tags of the old form (``annual/<year>``) are still read."""
    item_id = str(data.get("id") or "")
    region, sep, rest = item_id.partition("-annual-")
    if sep:
        return f"annual/{region}/{rest}"
    region, sep, rest = item_id.partition("-instant-")
    return f"instant/{region}/{rest}" if sep else None


def is_open(item: Item) -> bool:
    return item.kind == "adjustment" and item.status == OPEN


def superseding(lib: Library, trigger: Item) -> Item | None:
    """The knowledge that replaces ``trigger`` (its ``superseded_by``), if any."""
    return lib.get(trigger.data.get("superseded_by"), "knowledge")


def derived_deadline(lib: Library, trigger: Item) -> tuple[dt.date | None, str | None]:
    """第十六条: the new law's effective date — of the item superseding the trigger, or of the
    trigger itself when it is the new law (in force, not superseded).  The date and the ID it came from."""
    new = superseding(lib, trigger)
    if new is not None:
        return date_of(new.data.get("effective")), new.id
    if not trigger.deprecated and not trigger.data.get("superseded_by"):
        return date_of(trigger.data.get("effective")), trigger.id
    return None, None


def superseded_for(lib: Library, trigger: Item) -> set[str]:
    """The knowledge an instant adjustment caused by ``trigger`` replaces: the trigger when it
    is the old law, and the items it supersedes when it is the new one."""
    out = {k.id for k in lib.of_kind("knowledge") if k.data.get("superseded_by") == trigger.id}
    if trigger.deprecated or trigger.data.get("superseded_by"):
        out.add(trigger.id)
    return out


def superseded_by_adjustment(lib: Library, adjustment: Item) -> set[str]:
    trigger = lib.get(adjustment.data.get("trigger"), "knowledge")
    return superseded_for(lib, trigger) if trigger is not None else set()


@dataclass(frozen=True)
class Citing:
    """An item in force that still cites superseded knowledge in its basis."""

    id: str
    kind: str
    title: str
    path: str
    cited: str
    replacement: str | None  # what to cite instead, where known


def citing(lib: Library, superseded: set[str]) -> list[Citing]:
    """Rules, knowledge and overrides (not themselves deprecated) whose basis names a superseded item."""
    out = []
    for item in lib.items.values():
        basis = item.data.get("basis")
        if item.kind not in ("knowledge", "rule", "override") or item.deprecated or not isinstance(basis, list):
            continue
        for entry in basis:
            ref = entry.get("id") if isinstance(entry, Mapping) else None
            if isinstance(ref, str) and ref in superseded:
                old = lib.get(ref)
                replacement = old.data.get("superseded_by") if old is not None else None
                out.append(Citing(item.id, item.kind, item.title, item.path, ref, replacement if replacement else None))
    return sorted(out, key=lambda c: (c.cited, c.id))


@dataclass(frozen=True)
class OpenAdjustment:
    id: str
    kind: str
    title: str
    path: str
    opened: str | None
    trigger: str | None
    deadline: str | None
    days_left: int | None  # negative once the deadline has passed


@dataclass(frozen=True)
class AdjustStatus:
    """What ``twoku adjust status`` reports."""

    today: str
    region: str
    open: list[OpenAdjustment]
    citing: list[Citing]
    last_annual: str | None = None  # ID of the newest closed annual adjustment


@dataclass(frozen=True)
class Adjusted:
    """A record written (and committed, and tagged) by ``twoku adjust``."""

    action: str  # annual | instant | close
    id: str
    path: str
    data: dict[str, Any]
    commit: str | None
    tag: str | None = None
    citing: list[Citing] = field(default_factory=list)  # still citing what the adjustment replaces
