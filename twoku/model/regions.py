"""Layers and GB/T 2260 administrative division codes.

A store is layered national → provincial → municipal (第五条).  A layer is named by
``CN`` or by the six-digit GB/T 2260 code of the region that owns it: ``510000`` a
province, ``510100`` a prefecture-level city in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NATIONAL = "CN"

# GB/T 2260 provincial-level divisions (省级行政区划).
PROVINCES: dict[str, str] = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
    "660000": "新疆生产建设兵团", "710000": "台湾省", "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
}  # fmt: skip

_CODE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True, order=True)
class Layer:
    """One layer of the store: ``CN``, a province code or a city code."""

    code: str

    @property
    def kind(self) -> str:
        if self.code == NATIONAL:
            return "national"
        return "provincial" if self.code.endswith("0000") else "municipal"

    @property
    def label(self) -> str:
        return {"national": "国家", "provincial": "省级", "municipal": "市级"}[self.kind]

    @property
    def parent(self) -> Layer | None:
        if self.kind == "national":
            return None
        if self.kind == "provincial":
            return Layer(NATIONAL)
        return Layer(self.code[:2] + "0000")

    @property
    def chain(self) -> tuple[Layer, ...]:
        """This layer and those above it, from the top: (CN, province, city)."""
        return _chain(self.code)

    @property
    def depth(self) -> int:
        return len(self.chain) - 1

    @property
    def root(self) -> str:
        """The folder of this layer, relative to the store root, POSIX style."""
        if self.kind == "national":
            return "national"
        if self.kind == "provincial":
            return f"provincial/{self.code}"
        return f"provincial/{self.code[:2]}0000/municipal/{self.code}"

    def is_above(self, other: Layer) -> bool:
        """True when this layer is strictly above ``other`` in its chain."""
        return self != other and self in other.chain

    def __str__(self) -> str:
        return self.code


@lru_cache(maxsize=4096)
def _chain(code: str) -> tuple[Layer, ...]:
    """Layer.chain, once per code (the store checks ask for it for every item)."""
    layer = Layer(code)
    up = layer.parent
    return (*up.chain, layer) if up else (layer,)


@lru_cache(maxsize=4096)
def region_problem(code: str) -> str | None:
    """Why ``code`` is not a region twoku knows, or None when it is one."""
    if code == NATIONAL:
        return None
    if not _CODE.match(code):
        return f"“{code}”不是六位 GB/T 2260 行政区划代码，也不是 CN（国家）"
    province = code[:2] + "0000"
    if province not in PROVINCES:
        return f"“{code[:2]}”不是 GB/T 2260 的省级代码（如 510000 四川省）"
    if code == province:
        return None
    if code[4:] != "00":
        return f"“{code}”是县级代码；twoku 的层级只到地市级（末两位为 00，如 510100）"
    return None


def parse_layer(code: str) -> Layer:
    """The layer named by ``code``; raise ValueError with the reason when unknown."""
    problem = region_problem(code)
    if problem:
        raise ValueError(problem)
    return Layer(code)


def layer_name(layer: Layer, names: dict[str, str] | None = None) -> str:
    """A human name for a layer: 国家, 四川省, or what the store's config calls it."""
    if names and layer.code in names:
        return names[layer.code]
    if layer.kind == "national":
        return "国家"
    return PROVINCES.get(layer.code, layer.code)
