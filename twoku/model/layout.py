"""Where each kind of file lives in a store, and where an item's path must be.

Pure path arithmetic on POSIX-style relative paths; reading is ``store/``'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from twoku.model import enums
from twoku.model.regions import NATIONAL, Layer, region_problem

CONFIG_FILE = "twoku.yaml"
TOP_DIRS = ("national", "provincial", "argumentation", "adjustments")
_FOLDERS = {"knowledge": "knowledge", "rules": "rule", "overrides": "override"}
_LAYER_PATH = re.compile(
    r"^(?:national|provincial/(?P<prov>[^/]+)(?:/municipal/(?P<city>[^/]+))?)"
    r"/(?P<folder>knowledge|rules|overrides)/(?P<rest>.+)$"
)
SCHEMA_DIR_DEPTH = {"knowledge": 2, "rule": 2, "override": 1}


@dataclass(frozen=True)
class Place:
    """What a path says about its file: the kind of file and the layer it sits in."""

    kind: str | None
    layer: Layer | None
    problem: str | None = None


def is_yaml(path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


def classify(path: str) -> Place:
    """The kind and layer a store-relative POSIX path stands for."""
    if path == CONFIG_FILE:
        return Place("config", None)
    folder, slash, _ = path.rpartition("/")
    # Only the folder matters (a file's name never does): one answer per folder, of which a store has few.
    return _classify_folder(folder) if slash else _classify(path)


@lru_cache(maxsize=4096)
def _classify_folder(folder: str) -> Place:
    return _classify(f"{folder}/_")


def _classify(path: str) -> Place:
    top = path.split("/", 1)[0]
    if top in ("argumentation", "adjustments"):
        kind = "argumentation" if top == "argumentation" else "adjustment"
        if path.count("/") != 1:
            return Place(None, None, f"{top}/ 下不应有子目录：记录直接放在 {top}/<编号>.yaml")
        return Place(kind, None)
    match = _LAYER_PATH.match(path)
    if not match:
        return Place(None, None, "不在任何层级的 knowledge/、rules/ 或 overrides/ 目录中")
    prov, city = match["prov"], match["city"]
    if prov is None:
        layer = Layer(NATIONAL)
    else:
        problem = region_problem(prov)
        if problem or not prov.endswith("0000"):
            return Place(None, None, f"provincial/ 下的目录名须为省级代码：{problem or prov}")
        layer = Layer(prov)
        if city is not None:
            problem = region_problem(city)
            if problem or city.endswith("0000") or city[:2] != prov[:2]:
                why = problem or f"{city} 不是 {prov} 所辖的地市级代码"
                return Place(None, None, f"municipal/ 下的目录名须为本省所辖地市级代码：{why}")
            layer = Layer(city)
    kind = _FOLDERS[match["folder"]]
    depth = match["rest"].count("/") + 1
    if depth != SCHEMA_DIR_DEPTH[kind]:
        shape = "<类别目录>/<编号>.yaml" if depth and SCHEMA_DIR_DEPTH[kind] == 2 else "<编号>.yaml"
        return Place(kind, layer, f"{match['folder']}/ 下的文件应放在 {shape}")
    return Place(kind, layer)


def expected_path(kind: str, item_id: str, layer: Layer, category: object = None) -> str | None:
    """Where an item of this kind, ID and category must live; None when undecidable."""
    if kind == "argumentation":
        return f"argumentation/{item_id}.yaml"
    if kind == "adjustment":
        return f"adjustments/{item_id}.yaml"
    if kind == "override":
        return f"{layer.root}/overrides/{item_id}.yaml"
    if not isinstance(category, str):
        return None
    folder = _category_folder(kind, layer, category)
    return f"{folder}/{item_id}.yaml" if folder else None


@lru_cache(maxsize=4096)
def _category_folder(kind: str, layer: Layer, category: str) -> str | None:
    """The folder of a knowledge item's or rule's category in a layer (a store has few of them)."""
    if kind == "knowledge":
        slug = enums.slug_of(enums.KNOWLEDGE_CATEGORIES, category)
        folder = "knowledge"
    else:
        slug = enums.slug_of(enums.RULE_CATEGORIES, category)
        folder = "rules"
    return f"{layer.root}/{folder}/{slug}" if slug else None


def schema_ref(path: str, schema_file: str) -> str:
    """The relative ``$schema`` reference from a store file to ``schema/<file>``."""
    return "../" * path.count("/") + "schema/" + schema_file
