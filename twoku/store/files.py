"""Finding and reading the files of a store on disk."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twoku.errors import StoreNotFound, UsageError
from twoku.model.layout import CONFIG_FILE, TOP_DIRS, is_yaml

if TYPE_CHECKING:  # model/tables is imported where a table is read, not when the cache answers
    from twoku.model.tables import Table, TableSpec


def find_root(start: Path | None = None) -> Path:
    """The store containing ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise StoreNotFound(
        f"{here} 不在 twoku 库中（向上找不到 {CONFIG_FILE}）",
        hint="进入库的目录再运行，或用 twoku init 新建一个库",
    )


def blob_id(raw: bytes) -> str:
    """git's blob id of the content, computed without git: sha1("blob <n>\\0" + content)."""
    digest = hashlib.sha1(b"blob %d\x00" % len(raw))
    digest.update(raw)
    return digest.hexdigest()


def store_paths(root: Path) -> list[str]:
    """Every YAML file of the store, as sorted POSIX paths relative to the root."""
    found: list[str] = []
    if (root / CONFIG_FILE).is_file():
        found.append(CONFIG_FILE)
    for top in TOP_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(root).as_posix()
            found.extend(f"{rel}/{name}" for name in filenames if is_yaml(name))
    return sorted(found)


def select(root: Path, targets: Iterable[Path], everything: list[str]) -> set[str]:
    """The store paths named by the user's PATH arguments (files or folders)."""
    chosen: set[str] = set()
    for target in targets:
        full = target if target.is_absolute() else Path.cwd() / target
        full = full.resolve()
        if not full.exists():
            raise UsageError(f"路径不存在：{target}")
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{target} 不在库 {root} 中") from None
        if full.is_dir():
            prefix = "" if rel == "." else rel + "/"
            chosen.update(p for p in everything if p.startswith(prefix))
        else:
            chosen.add(rel)
    return chosen


@dataclass(frozen=True)
class RawFile:
    path: str
    raw: bytes
    blob: str


def read(root: Path, paths: Iterable[str]) -> Iterator[RawFile]:
    for path in paths:
        raw = (root / path).read_bytes()
        yield RawFile(path, raw, blob_id(raw))


def read_table(root: Path, path: str, spec: TableSpec) -> Table | None:
    """The table a knowledge item declares, read against the declaration; None if there is no such file."""
    from twoku.model.tables import MAX_TABLE_BYTES, oversized
    from twoku.model.tables import parse as parse_table

    full = root / path
    try:
        size = full.stat().st_size
        if size > MAX_TABLE_BYTES:
            return oversized(spec, path, size)  # not read: a table's rows take some ten times its size in memory
        raw = full.read_bytes()
    except OSError:
        return None
    return parse_table(raw, spec, path)


def tables_in(root: Path, items: Iterable[tuple[str, Any]]) -> dict[str, Table | None]:
    """The tables the knowledge items among (path, data) declare: CSV path → table."""
    from twoku.model.tables import spec_of, table_path

    out: dict[str, Table | None] = {}
    for path, data in items:
        spec = spec_of(data) if isinstance(data, dict) and "table" in data else None
        if spec is not None:
            where = table_path(path, spec)
            out[where] = read_table(root, where, spec)
    return out


def load_config(root: Path) -> dict[str, Any]:
    """twoku.yaml as data, or {} when it cannot be read (validate reports why)."""
    from twoku.store import yamlio  # PyYAML is imported when a file is read, not when the cache answers

    try:
        data, _ = yamlio.load_json((root / CONFIG_FILE).read_bytes())
    except (OSError, yamlio.YamlProblem):
        return {}
    return data if isinstance(data, dict) else {}
