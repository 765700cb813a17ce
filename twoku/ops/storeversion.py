"""The schema version a store's ``twoku.yaml`` states, and what twoku does with a store of another one.

A store written for an older schema is read, never silently reinterpreted (DESIGN.md, "Evolving the
schema"): ``validate`` gives one finding (TK203, at the line of ``schema_version``) and checks nothing
else, the commands that work on the library refuse, and ``twoku migrate`` rewrites it.  A store of a
newer schema than this twoku knows is refused alike: this twoku cannot know what its files mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from twoku.errors import TwokuError
from twoku.model.enums import SCHEMA_VERSION
from twoku.model.findings import Finding
from twoku.model.layout import CONFIG_FILE
from twoku.store import files

# Read by a pattern, not a YAML parser: validate answers a checked store without importing one.  A
# twoku.yaml it does not match (an odd layout) goes to the schema check, which says what is wrong.
_VERSION = re.compile(
    rb"""^(?:schema_version|"schema_version"|'schema_version')[ \t]*:[ \t]*([0-9]+)[ \t]*(?:#.*)?$""", re.M
)


@dataclass(frozen=True)
class Stated:
    version: int
    line: int
    column: int


def stated(root: Path) -> Stated | None:
    """The schema version twoku.yaml states, with where; None when it cannot be read as a plain number."""
    try:
        raw = files.read_regular(root / CONFIG_FILE)
    except OSError:
        return None
    found = _VERSION.search(raw)
    if found is None:
        return None
    line = raw.count(b"\n", 0, found.start()) + 1
    column = len(raw[found.start() : found.start(1)].decode("utf-8", "replace")) + 1
    return Stated(int(found.group(1)), line, column)


def _words(version: int) -> tuple[str, str]:
    if version < SCHEMA_VERSION:
        return (
            f"本库按结构版本 {version} 书写，本 twoku 读写结构版本 {SCHEMA_VERSION}：旧文件不按新含义解读，"
            "未作其他检查",
            "运行 twoku migrate（先用 --dry-run 查看将改写哪些文件），它把全库改写为新结构并提交一次；"
            "之后再运行 validate",
        )
    return (
        f"本库按结构版本 {version} 书写，高于本 twoku 所支持的结构版本 {SCHEMA_VERSION}",
        "升级 twoku（pip install -U twoku）后再运行",
    )


def version_finding(root: Path) -> Finding | None:
    """TK203 for a store whose twoku.yaml states another schema version; None when it states this one."""
    at = stated(root)
    if at is None or at.version == SCHEMA_VERSION:
        return None
    import twoku.checks.schema  # noqa: F401  (where TK203 is declared)
    from twoku.checks.registry import finding

    message, hint = _words(at.version)
    return finding("TK203", message, CONFIG_FILE, ("schema_version",), None, hint).located(at.line, at.column)


def require_current(root: Path) -> None:
    """Refuse to work on the library of a store of another schema version (TwokuError at its line)."""
    at = stated(root)
    if at is None or at.version == SCHEMA_VERSION:
        return
    message, hint = _words(at.version)
    raise TwokuError(message.split("：", 1)[0], hint=hint, path=CONFIG_FILE, line=at.line)
