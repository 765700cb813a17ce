"""What validate learnt about a store, kept so an unchanged store re-validates at once.

Its files, each read only when needed:

* the **index**: each path's (mtime_ns, size) → git blob id, so an unchanged file is
  not even read (marshal of plain tuples: a few milliseconds at 55,000 files) — read
  only where git's own index cannot vouch for the files (store/repo/gitscan.py);
* the **entries**: per file, keyed by path and blob id, the parsed data, the
  findings of reading it and those of the checks on its item alone (marshal of plain
  tuples) — loaded only when some file changed;
* the **summary**: the findings of the whole store and what the report needs, keyed
  by the set of blob ids — an unchanged store needs nothing else (the per-file counts
  a report of chosen paths needs are beside it, read only for such a report);
* the **staged** reading of git's index (store/repo/gitscan.py), for as long as git does not write
  its index again;
* the **state**: what the last summary was made from, a compact index of every file
  (ops/recheck.py, model/scope.py), read when a few files changed; a re-check after
  an edit writes only the rows it changed, beside it (the **delta**).

The cache lives in ``.git/twoku/`` (never committed) or where ``TWOKU_CACHE_DIR``
points; the file names carry the tool and schema versions, so an upgrade starts
afresh.  A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from twoku import __version__
from twoku.model.enums import SCHEMA_VERSION  # not model.schemas: building every schema costs 25 ms

# A file changed within this many seconds of being indexed may change again within
# the same mtime tick unseen (git's "racily clean" entries): it is re-hashed next time.
RACY_NS = 2_000_000_000
# The shape of a cached entry: (data, findings of reading, of the item checks, of the every-item checks,
# a rule's digest, its item's layer code, the IDs its item mentions, a fingerprint of its data and one of
# what other items' checks see of it: ops/reading.Entry), findings as plain tuples, all marshal-able (it
# loads several times faster than pickle).  Raised too when the item checks change (9: TK409, TK410), since
# their findings are kept with each file and a store's unchanged files would otherwise never show new ones.
ENTRY_FORMAT = 10


def git_dir(root: Path) -> Path | None:
    """The git folder of a store at the top of its repository: ``.git``, or a worktree's ``gitdir``; None
    for a store that is no repository of its own."""
    git = root / ".git"
    if git.is_dir():
        return git
    if git.is_file():  # a worktree: "gitdir: <path>"
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            return (root / text.split(":", 1)[1].strip()).resolve()
    return None


def cache_dir(root: Path) -> Path | None:
    env = os.environ.get("TWOKU_CACHE_DIR")
    if env:
        return Path(env)
    git = git_dir(root)
    return git / "twoku" if git is not None else None


def read_quietly(path: Path | None, loads: Any) -> Any:
    """A cache file as ``loads`` reads it; None when it is missing, damaged or foreign (no cache, then)."""
    if path is None or not path.is_file():
        return None
    try:
        return loads(path.read_bytes())
    except Exception:  # a damaged or foreign cache is no cache
        return None


def write_quietly(path: Path, data: bytes) -> None:
    """Write a cache file whole (a temporary file renamed into place), or not at all where it cannot be."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # nothing half-written left beside the cache


def _stem() -> str:
    return f"validate-{__version__}-s{SCHEMA_VERSION}-e{ENTRY_FORMAT}"


def staged_file(root: Path) -> Path | None:
    """Where the reading of git's index is kept (store/repo/gitscan.py), beside the cache's other files."""
    folder = cache_dir(root)
    return folder / f"{_stem()}.staged" if folder else None


class Cache:
    def __init__(self, root: Path, enabled: bool = True) -> None:
        folder = cache_dir(root) if enabled else None
        stem = _stem()
        names = {
            "index": f"{stem}.index",
            "entries": f"{stem}.entries",
            "summary": f"{stem}.summary.pickle",
            "counted": f"{stem}.counted.pickle",
            "state": f"{stem}.state",
            "delta": f"{stem}.state-delta",
            "staged": f"{stem}.staged",  # written by store/repo/gitscan.py
        }
        self._files = {part: folder / name for part, name in names.items()} if folder else {}
        self._index: dict[str, tuple[int, int, str]] | None = None  # read when first needed
        self._entries: dict[str, Any] | None = None
        self._index_dirty = False
        self._entries_dirty = False

    @property
    def index(self) -> dict[str, tuple[int, int, str]]:
        """path → (mtime_ns, size, blob); only needed where git's index cannot say (cache.py's docstring)."""
        if self._index is None:
            index = read_quietly(self._files.get("index"), marshal.loads)
            valid = isinstance(index, dict) and isinstance(index.get("files"), dict)
            self._index = index["files"] if valid else {}
        return self._index

    def file(self, part: str) -> Path | None:
        """The file of a part of the cache (None when the cache is not used)."""
        return self._files.get(part)

    @property
    def enabled(self) -> bool:
        return bool(self._files)

    # index: path → (mtime_ns, size, blob)
    def blob(self, path: str, stat: os.stat_result) -> str | None:
        hit = self.index.get(path)
        if hit is not None and hit[0] == stat.st_mtime_ns and hit[1] == stat.st_size:
            return hit[2]
        return None

    def remember(self, path: str, stat: os.stat_result, blob: str) -> None:
        self.remember_mark(path, stat.st_mtime_ns, stat.st_size, blob)

    def remember_mark(self, path: str, mtime_ns: int, size: int, blob: str) -> None:
        """remember() from a stat's mtime and size alone (55,000 stat results are 40 MB; these pairs, 7)."""
        mtime = mtime_ns if time.time_ns() - mtime_ns > RACY_NS else 0
        if self.index.get(path) != (mtime, size, blob):
            self.index[path] = (mtime, size, blob)
            self._index_dirty = True

    def forget_except(self, paths: set[str]) -> None:
        stale = self.index.keys() - paths
        for path in stale:
            del self.index[path]
        self._index_dirty |= bool(stale)

    # entries: "path\0blob" → (data, findings)
    @property
    def entries(self) -> dict[str, Any]:
        if self._entries is None:
            loaded = read_quietly(self._files.get("entries"), marshal.loads)
            self._entries = loaded if isinstance(loaded, dict) else {}
        return self._entries

    def get(self, key: str) -> Any:
        return self.entries.get(key) if self.enabled else None

    def put(self, key: str, value: Any) -> None:
        if self.enabled:
            self.entries[key] = value
            self._entries_dirty = True

    def keep_only(self, keys: set[str]) -> None:
        if not self.enabled:
            return
        stale = self.entries.keys() - keys
        for key in stale:
            del self.entries[key]
        self._entries_dirty |= bool(stale)

    # summary: the store-level result, valid for one set of blobs; the key is stored with the value
    def summary(self, key: str, part: str = "summary") -> Any:
        if not self.enabled:
            return None
        stored = read_quietly(self._files.get(part), pickle.loads)
        return stored[1] if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key else None

    def set_summary(self, key: str, value: Any, part: str = "summary") -> None:
        if self.enabled:
            write_quietly(self._files[part], pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))

    # state: what the last summary was computed from (path → blob, data fingerprint, place in the library)
    def state(self) -> Any:
        return read_quietly(self._files.get("state"), marshal.loads) if self.enabled else None

    def set_state(self, value: Any, part: str = "state") -> None:
        if self.enabled:
            write_quietly(self._files[part], marshal.dumps(value))

    # delta: the rows of the state changed since it was written whole (a re-check rewrites only those)
    def delta(self) -> Any:
        return read_quietly(self._files.get("delta"), marshal.loads) if self.enabled else None

    def save(self) -> None:
        if not self.enabled:
            return
        if self._entries_dirty and self._entries is not None:
            try:
                data = marshal.dumps(self._entries)
            except ValueError:  # something not plain slipped in: better no cache than a wrong one
                data = b""
            write_quietly(self._files["entries"], data)
            self._entries_dirty = False
        if self._index_dirty:
            index = {"files": self.index}
            write_quietly(self._files["index"], marshal.dumps(index))
            self._index_dirty = False
