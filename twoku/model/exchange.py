"""What travels between levels as a file (第五条, 第十四条): whose paths a layer owns, and the archive's shape.

A province reports its own additions up and the national bureau releases its own
changes down; their networks are segregated (医保专网), so what crosses is one archive.
Each side may only carry, and only accept, the paths the sending layer owns: a province
can never change ``national/`` or another province's files through a report, and a
release from above never touches a fork's own layer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from twoku.model.regions import Layer

FORMAT = "twoku-archive/1"
REPORT, RELEASE = "report", "release"
KIND_LABELS = {REPORT: "报送", RELEASE: "发布"}
MANIFEST, COVER, BUNDLE, PATCH_DIR = "manifest.json", "cover.md", "repo.bundle", "patches/"
PATCH_NAME = re.compile(r"^patches/[0-9]{4}-[A-Za-z0-9._-]{0,80}\.patch$")
RECORD_DIRS = ("argumentation", "adjustments")
# Findings a fork must act on after a release from above: overrides whose target drifted,
# moved out of reach or now holds other bounds, and local items citing knowledge now 废弃.
ACT_ON = frozenset({"TK403", "TK501", "TK502", "TK505", "TK506"})


def owns(layer: Layer, path: str) -> bool:
    """Whether ``path`` (repository-relative, POSIX) is one of ``layer``'s own files.

    A layer owns its folder (a province's without the cities under ``municipal/``) and
    the argumentation and adjustment records its ID prefix names (``510000-A-0001``).
    """
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        return False
    if parts[0] in RECORD_DIRS:
        return len(parts) == 2 and parts[1].startswith(layer.code + "-")
    if not path.startswith(layer.root + "/"):
        return False
    return not (layer.kind == "provincial" and path.startswith(layer.root + "/municipal/"))


def pathspecs(layer: Layer) -> list[str]:
    """git pathspecs selecting exactly the files :func:`owns` accepts."""
    specs = [f"{layer.root}/"]
    if layer.kind == "provincial":
        specs.append(f":(exclude){layer.root}/municipal/")
    specs += [f":(glob){folder}/{layer.code}-*" for folder in RECORD_DIRS]
    return specs


def slug(name: str) -> str:
    """A name usable inside a git tag: no spaces or characters git refuses in ref names."""
    text = unicodedata.normalize("NFC", name).strip()
    text = re.sub(r"[\s~^:?*\[\]\\@{}/]+|\.\.+", "-", text)
    text = re.sub(r"[\x00-\x1f\x7f]", "", text).strip("-.")
    return text.removesuffix(".lock") or "upstream"


@dataclass(frozen=True)
class Direction:
    """How an archive from ``sender`` relates to the store ``receiver`` that takes it in."""

    kind: str  # report | release
    problem: str | None = None


def direction(kind: str, sender: Layer, receiver: Layer) -> Direction:
    """Whether a receiver may take in this archive: reports go up the chain, releases down."""
    if kind == REPORT:
        if receiver.is_above(sender):
            return Direction(kind)
        return Direction(
            kind, f"这是 {sender} 的报送，只能由其上级（{'、'.join(map(str, sender.chain[:-1])) or '无'}）接收"
        )
    if kind == RELEASE:
        if sender.is_above(receiver):
            return Direction(kind)
        return Direction(kind, f"这是 {sender} 的发布，只能由其下级接收；本库是 {receiver}")
    return Direction(kind, f"不认识的归档类型 “{kind}”")
