"""Finding and reading the files of a store on disk."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
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
        if base.is_symlink():
            found.append(top)  # a linked folder is not walked into: it is read as what it is (TK109)
            continue
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            rel = Path(dirpath).relative_to(root).as_posix()
            # A link of any name, to a folder or a file, is the store's as git keeps it: read as a link (TK109).
            # (os.walk does not go into a linked folder; the files that are not YAML are few.)
            maybe = [*dirnames, *(n for n in filenames if not is_yaml(n))]
            found.extend(f"{rel}/{n}" for n in maybe if os.path.islink(f"{dirpath}/{n}"))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
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
    odd: str | None = None  # what the path is when it is not a regular file (then raw is empty): TK109


class NotRegular(OSError):
    """A store path that is a symbolic link, a folder, a pipe or a device: never read through (TK109)."""

    def __init__(self, path: str, what: str, blob: str) -> None:
        super().__init__(f"{path} 是{what}，不是普通文件")
        self.what = what
        self.blob = blob  # git's blob id of a link (of its target's name), else zeros


# O_NOFOLLOW: a link is refused by the kernel, not followed out of the store; O_NONBLOCK: a pipe cannot hang.
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_regular(path: str | Path) -> bytes:
    """A store file's bytes, through its file descriptor alone; NotRegular when it is not a regular file.

    Every file a store command reads comes through here: a committed link to /etc/passwd is a finding,
    its target's content never enters a library, a publication or a report."""
    name = os.fspath(path)
    try:
        fd = os.open(name, _FLAGS)
    except OSError as exc:
        if os.path.islink(name):
            raise _odd(name, os.lstat(name).st_mode) from None
        if exc.errno in (errno.ENXIO, errno.ELOOP):  # a socket; a link the check above could not see
            raise NotRegular(name, "特殊文件", "0" * 40) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _odd(name, mode)
        parts = [os.read(fd, 65536)]
        while parts[-1]:  # until the end of the file (a read may return less than asked before it)
            parts.append(os.read(fd, 65536))
        return parts[0] if len(parts) == 2 else b"".join(parts)
    finally:
        os.close(fd)


def _odd(name: str, mode: int) -> NotRegular:
    if stat.S_ISLNK(mode):
        target = os.readlink(name)
        return NotRegular(name, f"符号链接（指向 {target}）", blob_id(os.fsencode(target)))
    what = "目录" if stat.S_ISDIR(mode) else "管道" if stat.S_ISFIFO(mode) else "设备或特殊文件"
    return NotRegular(name, what, "0" * 40)


def link_blob(blob: str) -> str:
    """What stands for the blob id of a path git's index keeps as a link (mode 120000): never a git blob id
    (not hex), as wide as one (the cache's columns), changing with the link's target."""
    return "L" + blob[1:]


def raw_file(root: Path, path: str, blob: str | None = None) -> RawFile:
    """A store file to parse: its bytes and blob id, or (``odd``) what it is when it is not a regular file
    (on disk, or in git's index: a link checked out as a plain file where core.symlinks is off)."""
    if blob is not None and blob.startswith("L"):
        return RawFile(path, b"", blob, "符号链接（git 中的模式 120000）")
    try:
        raw = read_regular(root / path)
    except NotRegular as odd:
        return RawFile(path, b"", odd.blob, odd.what)
    return RawFile(path, raw, blob or blob_id(raw))


def read(root: Path, paths: Iterable[str]) -> Iterator[RawFile]:
    for path in paths:
        yield raw_file(root, path)


def read_table(root: Path, path: str, spec: TableSpec) -> Table | None:
    """The table a knowledge item declares, read against the declaration; None if there is no such file, or it
    is not a regular file (a link is TK109: its target is never read)."""
    from twoku.model.tables import MAX_TABLE_BYTES, oversized
    from twoku.model.tables import parse as parse_table

    full = root / path
    try:
        size = os.lstat(full).st_size
        if size > MAX_TABLE_BYTES and stat.S_ISREG(os.lstat(full).st_mode):
            return oversized(spec, path, size)  # not read: a table's rows take some ten times its size in memory
        raw = read_regular(full)
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
    from twoku.store.documents import yamlio  # PyYAML is imported when a file is read, not when the cache answers

    try:
        data, _ = yamlio.load_json(read_regular(root / CONFIG_FILE))
    except (OSError, yamlio.YamlProblem):
        return {}
    return data if isinstance(data, dict) else {}
