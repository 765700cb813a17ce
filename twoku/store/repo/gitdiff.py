"""What changed between two points of a store's git history, read without a checkout.

Revisions are any git revision, ``WORKTREE`` (the working tree with uncommitted
changes) or a named point of the adjustment cycle (第十三至十六条):

* ``last-annual``  — the newest tag ``annual/<this store's region>/*`` (or of the old form ``annual/<year>``,
  without a region); without one, the commit that closed
  (set ``status: 已完成`` on) the newest annual record ``adjustments/*-annual-*.yaml``;
* ``last-instant`` — likewise with ``instant/*`` and ``adjustments/*-instant-*.yaml``;
* ``last-report`` and ``last-publish`` — the newest tag ``report/*`` or ``publish/*``.

The record file is the truth and the tag a convenience (DESIGN.md), so the fallback
makes ``last-annual`` work in a clone or bundle that carries no tags.

Only the changed paths are listed (``git diff-tree -r -M --raw``) and only their
blobs are read, through GitPython's persistent ``cat-file --batch`` process.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.errors import UsageError
from twoku.model.changes import WORKTREE, Rev
from twoku.model.enums import ADJUSTMENT_STATUSES
from twoku.store import files
from twoku.store.documents import yamlio
from twoku.store.repo import gitio

LIBRARY_DIRS = ("national", "provincial")  # where knowledge, rules and overrides live
_NULL = "0" * 40
_DONE = ADJUSTMENT_STATUSES[-1]  # 已完成


@dataclass(frozen=True)
class Named:
    """How to find one of the ``last-*`` names, and what to do when it is missing."""

    tags: str
    records: str | None  # glob of adjustment records to fall back on
    hint: str


NAMED: dict[str, Named] = {
    "last-annual": Named(
        "annual",
        "adjustments/*-annual-*.yaml",
        "用 twoku adjust annual --year <年份> 记录年度调整"
        "（或 git tag -a annual/<本库地区>/<年份> <提交>），或用 --since 指定版本",
    ),
    "last-instant": Named(
        "instant",
        "adjustments/*-instant-*.yaml",
        "用 twoku adjust instant 与 twoku adjust close 完成一次即时调整"
        "（或 git tag -a instant/<本库地区>/<日期>-<名称> <提交>），或用 --since 指定版本",
    ),
    "last-report": Named(
        "report",
        None,
        "先用 twoku report-upstream 向上级报送（或 git tag -a report/<日期> <提交>），或用 --since 指定版本",
    ),
    "last-publish": Named(
        "publish", None, "先用 twoku publish 发布（或 git tag -a publish/<日期> <提交>），或用 --since 指定版本"
    ),
}


@dataclass(frozen=True)
class PathChange:
    """One changed file: git's status letter and both sides (None where absent)."""

    status: str  # A M D R T …
    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None  # None on the WORKTREE side: read the file itself


def open_repo(root: Path) -> Any:
    repo = gitio.open_repo(root, search_parents=True, hint="twoku diff 比较的是 git 历史：先 git init 并提交")
    if not repo.head.is_valid():  # a usage error here: there is no revision to name
        raise UsageError("仓库还没有任何提交", hint="先提交一次：git add -A && git commit")
    return repo


def _prefix(repo: Any, root: Path) -> str:
    """The store's folder inside the repository ('' when the store is the repository)."""
    rel = root.resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    return "" if rel == "." else rel + "/"


# Families whose tags carry the region of the layer that made them (annual/<region>/<year>); their tags of
# the old form (annual/<year>) are read as this store's own.
_REGIONAL = ("annual", "instant")


def _newest_tag(repo: Any, family: str, region: str | None = None) -> str | None:
    out = repo.git.for_each_ref("--sort=-refname", "--sort=-creatordate", "--format=%(refname)", f"refs/tags/{family}/")
    refs = [line for line in out.splitlines() if line.strip()]
    if family in _REGIONAL:
        start = f"refs/tags/{family}/"
        own = [r for r in refs if region and r.startswith(f"{start}{region}/")]
        legacy = [r for r in refs if "/" not in r[len(start) :]]
        refs = own or legacy  # another layer's tags (a province's, in a city's clone) are not this store's
    return refs[0] if refs else None


def _status_at(repo: Any, commit: str, path: str) -> str | None:
    try:
        raw = repo.odb.stream(repo.commit(commit).tree[path].binsha).read()
        data, _ = yamlio.load_json(raw)
    except (KeyError, ValueError, yamlio.YamlProblem):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


def _closing_commit(repo: Any, prefix: str, pattern: str) -> tuple[str, str] | None:
    """The newest commit that set ``status: 已完成`` on a record matching ``pattern``.

    The closing commit, not merely the newest one touching a closed record: a later
    typo fix in the record must not move the point past changes made since the close.
    """
    out = repo.git.log("--format=%x01%H %P", "--name-only", "--diff-filter=AM", "--", prefix + pattern)
    for block in out.split("\x01")[1:]:
        head, *paths = [line for line in block.splitlines() if line.strip()]
        sha, *parents = head.split()
        for path in paths:
            if _status_at(repo, sha, path) != _DONE:
                continue
            if not parents or _status_at(repo, parents[0], path) != _DONE:
                return sha, path[len(prefix) :]
    return None


def _own_region(root: Path) -> str | None:
    region = files.load_config(root).get("region")
    return str(region) if region else None


def resolve(repo: Any, root: Path, rev: str) -> Rev:
    """The commit a user's revision names; UsageError saying what to create when none."""
    if rev == WORKTREE:
        return Rev(WORKTREE, None)
    named = NAMED.get(rev)
    if named is None:
        commit = gitio.commit_of(repo, rev)
        if commit is None:
            raise UsageError(
                f"找不到版本 “{rev}”",
                hint="可用任意 git 版本（提交、分支、标签），或 " + "、".join([*NAMED, WORKTREE]),
            )
        return Rev(rev, commit)
    tag = _newest_tag(repo, named.tags, _own_region(root))
    if tag is not None:
        return Rev(rev, gitio.commit_of(repo, tag), tag.removeprefix("refs/tags/"))
    if named.records is not None:
        found = _closing_commit(repo, _prefix(repo, root), named.records)
        if found is not None:
            return Rev(rev, found[0], found[1])
        where = f"没有 {named.tags}/* 标签，adjustments/ 中也没有状态为 {_DONE} 的 {named.records.split('/')[-1]} 记录"
    else:
        where = f"没有 {named.tags}/* 标签"
    raise UsageError(f"{rev} 不存在：{where}", hint=named.hint)


def first_commit(repo: Any) -> Rev:
    roots = repo.git.rev_list("--max-parents=0", "HEAD").split()
    return Rev("第一次提交", roots[-1])


def is_dirty(repo: Any, root: Path) -> bool:
    """Whether the library's files have uncommitted changes (untracked files included)."""
    prefix = _prefix(repo, root)
    out = repo.git.status("--porcelain", "--untracked-files=all", "--", *(prefix + d for d in LIBRARY_DIRS))
    return bool(out.strip())


def _parse_raw(out: str, prefix: str) -> Iterator[PathChange]:
    """Parse ``--raw -z`` output: ``:<modes> <old> <new> <status>\\0<path>\\0[<path>\\0]``."""
    tokens = out.split("\0")
    i = 0
    while i < len(tokens):
        meta = tokens[i]
        if not meta.startswith(":"):
            i += 1
            continue
        _, _, old_blob, new_blob, status = meta[1:].split()
        letter = status[0]
        if letter in "RC":
            old_path, new_path = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            old_path = new_path = tokens[i + 1]
            i += 2
        yield PathChange(
            letter,
            None if letter == "A" else old_path.removeprefix(prefix),
            None if letter == "D" else new_path.removeprefix(prefix),
            None if old_blob == _NULL else old_blob,
            None if new_blob == _NULL else new_blob,
        )


def changed_paths(repo: Any, root: Path, since: Rev, until: Rev) -> list[PathChange]:
    """The library files that differ between two revisions, renames detected."""
    if since.commit is None:
        raise UsageError("--since 不能是 WORKTREE", hint="--since 取提交、标签或 last-annual 等；WORKTREE 只作 --until")
    prefix = _prefix(repo, root)
    scope = ["--", *(prefix + d for d in LIBRARY_DIRS)]
    flags = ["-r", "-M", "-z", "--raw", "--no-abbrev", "--no-ext-diff"]
    if until.commit is not None:
        return list(_parse_raw(repo.git.diff_tree(*flags, since.commit, until.commit, *scope), prefix))
    changes = list(_parse_raw(repo.git.diff(*flags[1:], since.commit, *scope), prefix))
    untracked = repo.git.ls_files("-z", "--others", "--exclude-standard", *scope)
    changes += [PathChange("A", None, p.removeprefix(prefix), None, None) for p in untracked.split("\0") if p]
    return changes


def read_blob(repo: Any, root: Path, blob: str | None, path: str) -> bytes | None:
    """A blob's bytes; with no blob id, the file in the working tree (None if gone)."""
    if blob is not None:
        return bytes(repo.odb.stream(bytes.fromhex(blob)).read())
    from twoku.store.files import read_regular

    try:
        return read_regular(root / path)  # a link is never followed out of the store
    except OSError:
        return None


def paths_at(repo: Any, root: Path, rev: Rev, dirs: tuple[str, ...] = LIBRARY_DIRS) -> list[str]:
    """Every library path at a revision (for finding an override's target by its ID), or those under ``dirs``."""
    if rev.commit is None:
        return [p for p in files.store_paths(root) if p.startswith(dirs)]
    prefix = _prefix(repo, root)
    out = repo.git.ls_tree("-r", "-z", "--name-only", rev.commit, "--", *(prefix + d for d in dirs))
    return [p.removeprefix(prefix) for p in out.split("\0") if p]


def files_at(repo: Any, root: Path, rev: Rev, dirs: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """Every file under ``dirs`` at a revision with its bytes: one ls-tree for the blob ids, then
    the blobs themselves (looking each path up in the commit's tree cost a tree walk per file)."""
    if rev.commit is None:
        for path in paths_at(repo, root, rev, dirs):
            data = read_blob(repo, root, None, path)
            if data is not None:
                yield path, data
        return
    prefix = _prefix(repo, root)
    out = repo.git.ls_tree("-r", "-z", rev.commit, "--", *(prefix + d for d in dirs))
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            yield path.removeprefix(prefix), bytes(repo.odb.stream(bytes.fromhex(parts[2])).read())


Side = tuple[Rev, str | None]  # a file at a revision (None: no file)


def read_both(repo: Any, root: Path, sides: tuple[Side, Side]) -> list[bytes | None]:
    """Two files (a table before and after), each as it is at its revision, read side by side: each committed
    one by its own ``git cat-file`` (git inflates a large table in C; two at once use two cores)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(side: Side) -> bytes | None:
        rev, path = side
        if path is None:
            return None
        if rev.commit is None:
            return read_blob(repo, root, None, path)
        done = subprocess.run(  # stdout alone: read whole, not in chunks beside stderr's
            ["git", "cat-file", "blob", f"{rev.commit}:{_prefix(repo, root)}{path}"],
            cwd=repo.working_tree_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return done.stdout if done.returncode == 0 else None  # absent at that revision

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, sides))


def read_at(repo: Any, root: Path, rev: Rev, path: str) -> bytes | None:
    """One file as it is at a revision (None when absent)."""
    if rev.commit is None:
        return read_blob(repo, root, None, path)
    try:
        return bytes(repo.odb.stream(repo.commit(rev.commit).tree[_prefix(repo, root) + path].binsha).read())
    except KeyError:
        return None
