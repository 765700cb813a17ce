"""One writer at a time: an advisory lock on the store for every command that writes.

The lock file lives beside the cache (``.git/twoku/write.lock``, or the store root when
the store is not a git repository).  ``flock`` is released by the kernel when the
process ends, however it ends, so a crash never leaves the store locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twoku.errors import TwokuError


def lock_path(root: Path) -> Path:
    git = root / ".git"
    return git / "twoku" / "write.lock" if git.is_dir() else root / ".twoku-write.lock"


@contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """Hold the store's write lock; refuse at once when another twoku process holds it."""
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            raise TwokuError(
                f"另一个 twoku 进程（PID {holder}）正在写入本库",
                hint="等它结束后再运行；若确认没有其他 twoku 在运行，稍后重试即可（锁随进程结束自动释放）",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
