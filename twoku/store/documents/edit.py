"""Editing store files in place: ruamel.yaml round-trip (comments and layout kept), atomic writes."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from twoku.model.findings import Pointer


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    yaml.width = 4096  # never fold long Chinese lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def atomic_write(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write to a temporary file beside ``path`` and rename it into place.

    With ``exclusive`` the file must not exist yet: the temporary file is hard-linked
    into place, which fails with FileExistsError when another writer got there first.
    """
    from twoku.store.writes import faults

    faults.note(path, data)  # a writing command can put the file back (only while it holds what twoku wrote)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        faults.checkpoint("tmp-written")
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def written_beside(path: Path, write: Callable[[Path], None]) -> None:
    """A file another writer makes (DuckDB's COPY): ``write`` writes a temporary file beside ``path`` (same
    suffix, so the format follows), which is renamed into place with the mode of the file it replaces; never a
    half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def writable_folder(folder: Path, option: str = "--out") -> None:
    """Refuse, before anything is written, a folder that cannot receive files: a file stands where it or one
    of the folders above it would be, or the nearest existing folder is not writable."""
    from twoku.errors import UsageError

    here = folder
    while not os.path.lexists(here) and here != here.parent:
        here = here.parent
    if not here.is_dir():
        what = "本身" if here == folder else f"上级 {here}"
        raise UsageError(
            f"{option} {folder}：{what}是一个已有的文件，不是目录，无法写入",
            hint=f"{option} 应指向一个目录（已有的或待建的）；换一个路径，或先移走 {here}",
        )
    if not os.access(here, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {folder}：没有写入 {here} 的权限", hint="换一个可写的目录")


def writable_file(path: Path, option: str = "--out") -> None:
    """Refuse, before anything is written, a file path that cannot be written: a folder stands there, or its
    folder cannot receive files (writable_folder)."""
    from twoku.errors import UsageError

    if path.is_dir() or (os.path.lexists(path) and not path.is_file()):
        raise UsageError(f"{option} {path}：已有同名的目录或特殊文件，无法写入", hint=f"{option} 应指向一个文件路径")
    writable_folder(path.parent, option)


def file_mode(path: Path) -> int:
    """The permissions a file written at ``path`` gets: those of the file it replaces, else what the umask
    leaves of rw-rw-rw- (as ``open`` would give; the temporary file a write goes through is made 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux says it without changing it
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def update_values(path: Path, changes: Mapping[Pointer, Any]) -> None:
    """Set the values at the given pointers of a YAML file, keeping its comments and layout."""
    yaml = _yaml()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    for pointer, value in changes.items():
        node = doc
        for step in pointer[:-1]:
            node = node[step]
        node[pointer[-1]] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    atomic_write(path, out.getvalue().encode("utf-8"))


def flow(value: Mapping[str, Any] | list[Any]) -> Any:
    """``value`` marked to be written in flow style (``{name: code, type: code}``, ``[code]``): one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node: Any = CommentedMap(value) if isinstance(value, Mapping) else CommentedSeq(value)
    node.fa.set_flow_style()
    return node
