"""One writer at a time: an advisory lock on the store for every command that writes.

The lock file lives in the repository's common git directory (``.git/twoku/write.lock``),
which every ``git worktree`` of the repository shares: a checkout and its worktrees share
refs and tags too, so two writers in two worktrees are two writers of one store.  A store
that is not a git repository keeps it at its root.  ``flock`` is released by the kernel
when the process ends, however it ends, so a crash never leaves the store locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twoku.errors import TwokuError


def common_git_dir(root: Path) -> Path | None:
    """The git directory every worktree of the store's repository shares (``.git`` of the main checkout);
    None for a store that is no repository of its own."""
    from twoku.store.caching.cache import git_dir

    git = git_dir(root)
    if git is None:
        return None
    common = git / "commondir"  # a worktree's own git directory names the shared one, relative to itself
    if common.is_file():
        return (git / common.read_text(encoding="utf-8", errors="replace").strip()).resolve()
    return git


def lock_path(root: Path) -> Path:
    common = common_git_dir(root)
    return common / "twoku" / "write.lock" if common is not None else root / ".twoku-write.lock"


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
