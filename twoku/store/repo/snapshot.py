"""A store as it was committed at a revision, written out whole: what ``twoku serve`` loads and judges with.

The working tree may hold edits nobody committed or validated; a decision service answers with a
library that has a name (a commit), so it reads the commit itself, never the files on disk.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.store.repo import gitio

TAGS = "refs/tags/publish"  # the publications (publish/<region>/<date>): their moves are watched too


def _repo(root: Path) -> Any:
    return gitio.open_repo(
        root, search_parents=True, need_commits=True, hint="twoku serve 读取已提交的版本：先提交全部文件"
    )


def _prefix(repo: Any, root: Path) -> str:
    rel = root.resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    return "" if rel == "." else rel


def commit(root: Path, revision: str) -> str:
    """The commit ``revision`` names; UsageError when it names none."""
    found = gitio.commit_of(_repo(root), revision)
    if found is None:
        raise UsageError(f"--revision {revision}：仓库中没有这个版本", hint="用分支名、标签（如 publish/…）或提交号")
    return found


def fingerprint(root: Path, revision: str) -> str:
    """What moves when the library to serve changes: the commit ``revision`` names and the publish tags."""
    repo = _repo(root)
    tags = repo.git.for_each_ref("--format=%(refname) %(objectname)", TAGS)
    return f"{gitio.commit_of(repo, revision)}\n{tags}"


def export(root: Path, sha: str, dest: Path) -> None:
    """The store's files at commit ``sha`` written under ``dest`` (regular files only, as git holds them)."""
    repo = _repo(root)
    prefix = _prefix(repo, root)
    tree = f"{sha}:{prefix}" if prefix else sha
    try:
        raw = repo.git.archive("--format=tar", tree, stdout_as_string=False)
    except Exception as exc:  # git's own reason, in its words
        raise TwokuError(f"读不出版本 {sha[:12]} 的库：{exc}") from None
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for member in tar.getmembers():
            if member.isdir() or not member.isfile():
                continue  # a link is never followed: the store is made of regular files (TK109)
            target = dest / member.name
            if not target.resolve().is_relative_to(dest.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member)
            if data is not None:
                target.write_bytes(data.read())
