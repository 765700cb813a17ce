"""Item identifiers: ``<LAYER>-<KIND>-<NNNN>`` (DESIGN.md).

The ID says which layer owns an item and what kind it is; a file's path follows
from it.  ``CN-R-0012`` is national rule 12, ``510100-O-0001`` an override owned by
the city 510100.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from twoku.model.regions import Layer, region_problem

KINDS: dict[str, str] = {"K": "knowledge", "R": "rule", "O": "override", "A": "argumentation"}
KIND_LABELS: dict[str, str] = {
    "knowledge": "知识",
    "rule": "规则",
    "override": "本地化参数",
    "argumentation": "论证记录",
    "adjustment": "调整记录",
    "config": "库配置",
}

ID_PATTERN = r"^(CN|[0-9]{6})-(K|R|O|A)-[0-9]{4}$"
_ID = re.compile(ID_PATTERN)
ADJUSTMENT_ID_PATTERN = r"^(CN|[0-9]{6})-(annual-[0-9]{4}|instant-[0-9]{8}-[a-z0-9]+(-[a-z0-9]+)*)$"


@dataclass(frozen=True, order=True)
class ItemId:
    layer: Layer
    kind: str  # one of KINDS' values
    number: int

    def __str__(self) -> str:
        letter = next(k for k, v in KINDS.items() if v == self.kind)
        return f"{self.layer.code}-{letter}-{self.number:04d}"


def parse_id(text: object) -> ItemId | None:
    """The parsed ID, or None when ``text`` is not a well-formed item ID."""
    return _parse(text) if isinstance(text, str) else None


@lru_cache(maxsize=64)  # validate asks for an item's ID several times in a row (an ItemId is immutable)
def _parse(text: str) -> ItemId | None:
    if not _ID.match(text):
        return None
    layer, letter, number = text.split("-")
    if region_problem(layer):
        return None
    return ItemId(Layer(layer), KINDS[letter], int(number))


def id_problem(text: object) -> str | None:
    """Why ``text`` is not a usable item ID, in words an author can act on."""
    if not isinstance(text, str):
        return "ID 必须是字符串，形如 CN-R-0001"
    if _parse(text) is not None:
        return None
    if not _ID.match(text):
        return f"ID “{text}”不符合 <层级>-<类别>-<四位序号> 格式，如 CN-R-0001、510000-K-0003"
    problem = region_problem(text.split("-")[0])
    return f"ID “{text}”的层级代码有误：{problem}" if problem else None
