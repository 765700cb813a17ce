"""All or nothing: a writing command either completes or leaves the store as it found it.

``writing(root)`` holds the store's write lock (store/writes/lock.py) and keeps an undo journal
beside it (``.git/twoku/journal.json``, in the git directory every worktree shares, so the
next writer in any worktree finds it): before twoku writes a file (``note``, called by
store/edit.atomic_write) the journal keeps the file's content, its index entry and the
digest of what twoku is about to write; at the start it keeps HEAD and the refs.  When the
command ends normally the journal is dropped.  When it fails or is interrupted (an error,
Ctrl-C, SIGTERM: handled as SIGINT while a command writes) the journal is played back at
once; when the process is killed outright (SIGKILL, power loss) the next writing command
plays it back before it starts.  Playing back removes the files twoku made, restores those
it changed, puts the index entries back, takes back the one commit twoku made, deletes the
tags and branches it created and removes the scratch worktrees it registered.

A file whose content is neither what it was nor what twoku wrote has been edited since (by
the user, after a kill): playing back leaves it, and says so.  A play-back that fails
(a folder that cannot be written…) never leaves the journal to fail again on every later
command: the journal is kept aside as ``journal-failed-<time>.json`` and the user told.

``checkpoint(name)`` marks a step between two writes.  It does nothing unless the
environment names that step: ``TWOKU_TEST_PAUSE_AT=<name>`` makes twoku wait there (so a
test can send it a signal; ``TWOKU_TEST_PAUSED=<file>`` is created when it arrives) and
``TWOKU_TEST_FAIL_AT=<name>`` makes it fail there.  Steps: ``tmp-written`` (a temporary
file written, not yet renamed), ``written`` (a file in place), ``committed``, ``tagged``,
``applied`` (intake's patches applied in its scratch worktree), ``branched``, ``done``
(everything made, journal not yet dropped).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from twoku.store.writes.lock import lock_path, store_lock

PAUSE_AT = "TWOKU_TEST_PAUSE_AT"
PAUSED = "TWOKU_TEST_PAUSED"
FAIL_AT = "TWOKU_TEST_FAIL_AT"
PAUSE_SECONDS = 120.0
# Refs twoku makes; after a crash only these (and HEAD's branch) are put back.
OWN_REFS: tuple[str, ...] = ("refs/tags/annual/", "refs/tags/instant/", "refs/tags/publish/", "refs/tags/report/")
OWN_REFS += ("refs/heads/intake/", "refs/twoku/")


class InjectedFault(RuntimeError):
    """The failure ``TWOKU_TEST_FAIL_AT`` asks for (tests only)."""


def checkpoint(name: str) -> None:
    """A named step between two writes: a no-op unless a test asks to pause or fail here."""
    if os.environ.get(FAIL_AT) == name:
        raise InjectedFault(f"injected fault at {name}")
    if os.environ.get(PAUSE_AT) == name:
        signal_file = os.environ.get(PAUSED)
        if signal_file:
            Path(signal_file).write_text(str(os.getpid()), encoding="ascii")
        time.sleep(PAUSE_SECONDS)


# --- the journal -----------------------------------------------------------------------------

_active: Journal | None = None


def journal_path(root: Path) -> Path:
    return lock_path(root).parent / "journal.json"


def _git(root: Path, *args: str, input: bytes | None = None) -> tuple[int, str]:
    done = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True)
    return done.returncode, done.stdout.decode("utf-8", "surrogateescape")


def _is_repo(root: Path) -> bool:
    return (root / ".git").exists()


def _refs(root: Path) -> dict[str, str]:
    _, out = _git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Journal:
    """What one writing command found before it wrote; enough to put it back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = journal_path(root)
        self.data: dict[str, Any] = {"pid": os.getpid(), "started": int(time.time()), "files": {}, "refs": []}
        self.data |= {"root": str(root.absolute()), "worktrees": []}
        if _is_repo(root):
            code, head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
            _, branch = _git(root, "symbolic-ref", "-q", "HEAD")
            self.data |= {"head": head.strip() if code == 0 else None, "branch": branch.strip() or None}
            self.data["snapshot"] = _refs(root)
        _save(self.path, self.data)

    def note(self, path: Path, content: bytes | None = None) -> None:
        """Keep ``path`` as it is now (content, index entry), once, before twoku changes it; and the digest
        of the ``content`` twoku is about to put there (play-back takes back only what twoku wrote)."""
        if self._kept(path, content, None):
            _save(self.path, self.data)

    def note_many(self, writes: Iterable[tuple[Path, bytes]]) -> None:
        """note() of many files at once, before any is written: the index read once and the journal saved once
        (a migration rewrites thousands of files; a note each would save a growing journal thousands of times)."""
        index: dict[str, str] = {}
        if _is_repo(self.root):
            for line in _git(self.root, "ls-files", "-s", "-z")[1].split("\0"):
                if "\t" in line:
                    index[line.split("\t", 1)[1]] = line + "\0"
        changed = [self._kept(path, content, index) for path, content in writes]
        if any(changed):
            _save(self.path, self.data)

    def _kept(self, path: Path, content: bytes | None, index: dict[str, str] | None) -> bool:
        """Keep ``path`` in the journal (its index entry from ``index`` when given, else asked of git); whether
        the journal changed."""
        key = str(path.absolute())
        entry = self.data["files"].get(key)
        if entry is not None:
            if content is not None and _digest(content) not in entry["written"]:
                entry["written"].append(_digest(content))
                return True
            return False
        entry = {"content": None, "index": None, "made_dir": None, "written": []}
        if content is not None:
            entry["written"].append(_digest(content))
        if path.is_file() and not path.is_symlink():
            entry["content"] = base64.b64encode(path.read_bytes()).decode("ascii")
        else:
            missing = path.parent
            while not missing.parent.exists():
                missing = missing.parent
            entry["made_dir"] = None if missing.exists() else str(missing)
        rel = self._rel(path)
        if rel is not None:
            entry["index"] = (
                index.get(rel, "") if index is not None else _git(self.root, "ls-files", "-s", "-z", "--", rel)[1]
            )
        self.data["files"][key] = entry
        return True

    def note_ref(self, ref: str) -> None:
        """A ref (outside the usual namespaces) this command will create."""
        self.data["refs"].append(ref)
        _save(self.path, self.data)

    def note_worktree(self, path: Path) -> None:
        """A scratch worktree this command is about to register (removed when the command does not finish)."""
        self.data["worktrees"].append(str(path.absolute()))
        _save(self.path, self.data)

    def _rel(self, path: Path) -> str | None:
        if not _is_repo(self.root):
            return None
        try:
            rel = path.absolute().relative_to(self.root.absolute())
        except ValueError:
            return None
        return None if rel.parts[:1] == (".git",) else rel.as_posix()

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def note(path: Path, content: bytes | None = None) -> None:
    """Called before every file write (with what will be written): journal it when a writing command is under way."""
    if _active is not None:
        _active.note(path, content)


def note_many(writes: Iterable[tuple[Path, bytes]]) -> None:
    """note() of many files at once (Journal.note_many), when a writing command is under way."""
    if _active is not None:
        _active.note_many(writes)


def note_ref(ref: str) -> None:
    if _active is not None:
        _active.note_ref(ref)


def note_worktree(path: Path) -> None:
    if _active is not None:
        _active.note_worktree(path)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (what ``kill`` and service managers send) ends a writing command as Ctrl-C does: with its
    play-back.  Only the main thread can take signals; elsewhere the default stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the journal is played back and dropped (they arrive right after)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


@contextlib.contextmanager
def writing(root: Path) -> Iterator[Journal]:
    """Hold the write lock for a whole write+commit+tag sequence; all of it happens or none."""
    global _active
    with store_lock(root), _terminate_as_interrupt():
        recover(root)
        journal = Journal(root)
        _active = journal
        try:
            yield journal
            checkpoint("done")
        except BaseException:
            _active = None
            with _signals_held():
                _play_back(root, journal.path, journal.data)
            raise
        finally:
            _active = None
        journal.drop()


P = ParamSpec("P")
R = TypeVar("R")


def writes(fn: Callable[Concatenate[Path, P], R]) -> Callable[Concatenate[Path, P], R]:
    """Decorate an ops function whose first argument is the store root: it runs ``writing(root)``."""

    @functools.wraps(fn)
    def wrapper(root: Path, *args: P.args, **kwargs: P.kwargs) -> R:
        with writing(root):
            return fn(root, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def recover(root: Path) -> bool:
    """Play back the journal a killed command left (call with the lock held); whether there was one."""
    path = journal_path(root)
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):  # killed while writing the journal itself: nothing was written after it
        data = None
    if isinstance(data, dict):
        _play_back(root, path, data)
    else:
        path.unlink(missing_ok=True)
    return True


def _play_back(root: Path, path: Path, data: dict[str, Any]) -> None:
    """Roll back and drop the journal; a play-back that fails keeps it aside, never in the way."""
    try:
        kept = rollback(root, data)
    except Exception as exc:  # whatever failed, the next command must not fail on it again
        aside = path.with_name(f"journal-failed-{int(time.time())}.json")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        _tell(
            f"twoku：撤销未完成的写入时出错（{exc}），库可能未完全复原；日志已另存为 {aside}",
            "用 git status 查看库的状态，按日志中的 files、refs 手工复原后删除该文件",
        )
        return
    path.unlink(missing_ok=True)
    if kept:
        _tell(
            "twoku：撤销未完成的写入时，保留了此后被修改过的文件：" + "、".join(kept),
            "这些文件由被中断的命令创建或修改，之后又被改动过；请确认其内容后自行保留或删除",
        )


# What a play-back could not undo is logged, not printed (nothing below cli/ prints): cli/console.py shows the
# logger "twoku" on stderr; without a handler, logging's last resort writes it to stderr all the same.
log = logging.getLogger(__name__)


def _tell(message: str, hint: str) -> None:
    log.warning("%s\n  提示：%s", message, hint)


def _content(path: Path) -> bytes | None:
    """A file's bytes; None when there is nothing there.  OSError for what is not a regular file."""
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        raise IsADirectoryError(f"{path} 不是普通文件")
    return path.read_bytes()


def rollback(root: Path, data: dict[str, Any]) -> list[str]:
    """Put back what the journal kept: refs first, then the index entries, then the files, then the scratch
    worktrees.  Git commands that concern one worktree (index, HEAD) run in the one the command wrote in.
    The files left because they were edited since twoku wrote them, as paths."""
    where = Path(data["root"]) if data.get("root") else root
    here = where if where.is_dir() else None  # a worktree removed since: its index and HEAD went with it
    if _is_repo(root) and "snapshot" in data:
        _restore_refs(root, here, data)
    files: dict[str, Any] = data.get("files") or {}
    kept, back = [], []
    for key, entry in files.items():
        path = Path(key)
        for tmp in path.parent.glob(f".{path.name}.*.tmp") if path.parent.is_dir() else []:
            tmp.unlink(missing_ok=True)
        before = base64.b64decode(entry["content"]) if entry.get("content") is not None else None
        try:
            now = _content(path)
        except OSError:
            kept.append(key)
            continue
        if now != before and now is not None and _digest(now) not in (entry.get("written") or ()):
            kept.append(key)  # not what twoku wrote: edited since (after a kill); never deleted or overwritten
            continue
        back.append((key, entry))
    for key, entry in back:
        if entry.get("index") is not None and here is not None:
            rel = os.path.relpath(Path(key).absolute(), where.absolute()).replace(os.sep, "/")
            _git(here, "update-index", "-q", "--force-remove", "--", rel)
            if entry["index"]:
                _git(here, "update-index", "-z", "--index-info", input=_index_info(entry["index"]))
    failed = []
    for key, entry in back:
        try:
            _restore_file(Path(key), entry)
        except OSError as exc:  # the others are still put back; then the play-back counts as failed
            failed.append(f"{key}（{exc.strerror or exc}）")
    _remove_worktrees(root, data.get("worktrees") or [])
    if failed:
        raise OSError("无法复原 " + "、".join(failed))
    return kept


def _restore_file(path: Path, entry: dict[str, Any]) -> None:
    if entry.get("content") is None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # never made, or its folder is a file
            path.unlink()
        if entry.get("made_dir"):
            _remove_empty(path.parent, Path(entry["made_dir"]))
        return
    content = base64.b64decode(entry["content"])
    if not path.is_file() or path.read_bytes() != content:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.restore.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)


def _remove_worktrees(root: Path, trees: list[str]) -> None:
    if not trees or not _is_repo(root):
        return
    for tree in trees:
        _git(root, "worktree", "remove", "--force", tree)
        shutil.rmtree(tree, ignore_errors=True)
    _git(root, "worktree", "prune")


def _index_info(ls_files: str) -> bytes:
    # ls-files -s: "<mode> <sha> <stage>\t<path>"; --index-info takes the same lines
    return "".join(f"{line}\0" for line in ls_files.split("\0") if line).encode("utf-8", "surrogateescape")


def _remove_empty(folder: Path, top: Path) -> None:
    while True:
        with contextlib.suppress(OSError):
            folder.rmdir()
        if folder == top or top not in folder.parents:
            return
        folder = folder.parent


def _restore_refs(root: Path, here: Path | None, data: dict[str, Any]) -> None:
    before: dict[str, str] = data["snapshot"]
    now = _refs(root)
    ours = tuple(data.get("refs") or ())
    for ref in sorted(set(before) | set(now)):
        if ref == data.get("branch") or before.get(ref) == now.get(ref):
            continue
        if ref.startswith(OWN_REFS) or ref in ours:
            if ref in before:
                _git(root, "update-ref", "-m", "twoku: 撤销未完成的写入", ref, before[ref])
            else:
                _git(root, "update-ref", "-d", ref, now[ref])
    if here is not None:
        _restore_head(here, data)


def _restore_head(root: Path, data: dict[str, Any]) -> None:
    """Take back the one commit twoku made on HEAD, and only that: it sits right on the old HEAD."""
    old, branch = data.get("head"), data.get("branch")
    code, out = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    current = out.strip() if code == 0 else None
    if current is None or current == old:
        return
    _, line = _git(root, "log", "-1", "--format=%P %ct", current)
    fields = line.split()
    if not fields:
        return
    parents, when = fields[:-1], int(fields[-1])
    if when < int(data.get("started", 0)) - 1 or (parents[0] if parents else None) != old:
        return  # not a commit this command made: leave it
    ref = branch or "HEAD"
    no_deref = [] if branch else ["--no-deref"]
    if old is None:
        _git(root, "update-ref", *no_deref, "-d", ref, current)
    else:
        _git(root, "update-ref", *no_deref, "-m", "twoku: 撤销未完成的写入", ref, old, current)
