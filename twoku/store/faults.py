"""All or nothing: a writing command either completes or leaves the store as it found it.

``writing(root)`` holds the store's write lock (store/lock.py) and keeps an undo journal
beside it (``.git/twoku/journal.json``): before twoku writes a file (``note``, called by
store/edit.atomic_write) the journal keeps the file's content and its index entry; at the
start it keeps HEAD and the refs.  When the command ends normally the journal is dropped.
When it fails or is interrupted (an error, Ctrl-C) the journal is played back at once;
when the process is killed outright (SIGKILL, power loss) the next writing command plays
it back before it starts.  Playing back removes the files twoku made, restores those it
changed, puts the index entries back, takes back the one commit twoku made and deletes the
tags and branches it created.

``checkpoint(name)`` marks a step between two writes.  It does nothing unless the
environment names that step: ``TWOKU_TEST_PAUSE_AT=<name>`` makes twoku wait there (so a
test can send it a signal; ``TWOKU_TEST_PAUSED=<file>`` is created when it arrives) and
``TWOKU_TEST_FAIL_AT=<name>`` makes it fail there.  Steps: ``tmp-written`` (a temporary
file written, not yet renamed), ``written`` (a file in place), ``committed``, ``tagged``,
``branched``, ``done`` (everything made, journal not yet dropped).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from twoku.store.lock import lock_path, store_lock

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
        if _is_repo(root):
            code, head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
            _, branch = _git(root, "symbolic-ref", "-q", "HEAD")
            self.data |= {"head": head.strip() if code == 0 else None, "branch": branch.strip() or None}
            self.data["snapshot"] = _refs(root)
        _save(self.path, self.data)

    def note(self, path: Path) -> None:
        """Keep ``path`` as it is now (content, index entry), once, before twoku changes it."""
        key = str(path.absolute())
        if key in self.data["files"]:
            return
        entry: dict[str, Any] = {"content": None, "index": None, "made_dir": None}
        if path.is_file():
            entry["content"] = base64.b64encode(path.read_bytes()).decode("ascii")
        else:
            missing = path.parent
            while not missing.parent.exists():
                missing = missing.parent
            entry["made_dir"] = None if missing.exists() else str(missing)
        rel = self._rel(path)
        if rel is not None:
            entry["index"] = _git(self.root, "ls-files", "-s", "-z", "--", rel)[1]
        self.data["files"][key] = entry
        _save(self.path, self.data)

    def note_ref(self, ref: str) -> None:
        """A ref (outside the usual namespaces) this command will create."""
        self.data["refs"].append(ref)
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


def note(path: Path) -> None:
    """Called before every file write: journal it when a writing command is under way."""
    if _active is not None:
        _active.note(path)


def note_ref(ref: str) -> None:
    if _active is not None:
        _active.note_ref(ref)


@contextlib.contextmanager
def writing(root: Path) -> Iterator[Journal]:
    """Hold the write lock for a whole write+commit+tag sequence; all of it happens or none."""
    global _active
    with store_lock(root):
        recover(root)
        journal = Journal(root)
        _active = journal
        try:
            yield journal
            checkpoint("done")
        except BaseException:
            _active = None
            rollback(root, journal.data)
            journal.drop()
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
    except ValueError:  # killed while writing the journal itself: nothing was written after it
        data = None
    if isinstance(data, dict):
        rollback(root, data)
    path.unlink(missing_ok=True)
    return True


def rollback(root: Path, data: dict[str, Any]) -> None:
    """Put back what the journal kept: refs first, then the index entries, then the files."""
    if _is_repo(root) and "snapshot" in data:
        _restore_refs(root, data)
    files: dict[str, Any] = data.get("files") or {}
    for key, entry in files.items():
        path = Path(key)
        if entry.get("index") is not None:
            rel = path.absolute().relative_to(root.absolute()).as_posix()
            _git(root, "update-index", "-q", "--force-remove", "--", rel)
            if entry["index"]:
                _git(root, "update-index", "-z", "--index-info", input=_index_info(entry["index"]))
    for key, entry in files.items():
        path = Path(key)
        for tmp in path.parent.glob(f".{path.name}.*.tmp") if path.parent.is_dir() else []:
            tmp.unlink(missing_ok=True)
        if entry.get("content") is None:
            path.unlink(missing_ok=True)
            if entry.get("made_dir"):
                _remove_empty(path.parent, Path(entry["made_dir"]))
        else:
            content = base64.b64decode(entry["content"])
            if not path.is_file() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.restore.tmp")
                tmp.write_bytes(content)
                os.replace(tmp, path)


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


def _restore_refs(root: Path, data: dict[str, Any]) -> None:
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
    _restore_head(root, data)


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
