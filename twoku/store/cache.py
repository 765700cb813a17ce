"""Per-file results cached by git blob id, so an unchanged store re-validates at once.

The cache lives in ``.git/twoku/`` (never committed) or where ``TWOKU_CACHE_DIR``
points; its file name carries the tool and schema versions, so an upgrade starts
afresh.  A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from twoku import __version__
from twoku.model.schemas import SCHEMA_VERSION


def cache_dir(root: Path) -> Path | None:
    env = os.environ.get("TWOKU_CACHE_DIR")
    if env:
        return Path(env)
    git = root / ".git"
    if git.is_dir():
        return git / "twoku"
    if git.is_file():  # a worktree: "gitdir: <path>"
        text = git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            return (root / text.split(":", 1)[1].strip()).resolve() / "twoku"
    return None


class Cache:
    def __init__(self, root: Path, enabled: bool = True) -> None:
        folder = cache_dir(root) if enabled else None
        self.file = folder / f"validate-{__version__}-s{SCHEMA_VERSION}.pickle" if folder else None
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if self.file and self.file.is_file():
            try:
                with self.file.open("rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, dict):
                    self.entries = loaded
            except Exception:
                self.entries = {}

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = value
        self.dirty = True

    def keep_only(self, keys: set[str]) -> None:
        stale = self.entries.keys() - keys
        if stale:
            for key in stale:
                del self.entries[key]
            self.dirty = True

    def save(self) -> None:
        if not (self.file and self.dirty):
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".cache-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(self.entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
        except OSError:
            pass
