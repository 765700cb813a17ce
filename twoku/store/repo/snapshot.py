"""A store as it was committed at a revision, written out whole: what ``twoku serve`` loads and judges with.

The working tree may hold edits nobody committed or validated; a decision service answers with a
library that has a name (a commit), so it reads the commit itself, never the files on disk.
"""

from __future__ import annotations

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


def checked_out(root: Path, sha: str) -> bool:
    """Whether the store's files on disk are commit ``sha`` itself: HEAD is it and git sees no change (nor an
    untracked file) under the store's folders.  Then the store is read where it is, with validate's cache."""
    from twoku.model.layout import CONFIG_FILE, TOP_DIRS

    repo = _repo(root)
    if str(repo.head.commit.hexsha) != sha:
        return False
    paths = [p for p in (CONFIG_FILE, *TOP_DIRS) if (root / p).exists()]
    out = repo.git.status("--porcelain", "--untracked-files=all", "--", *paths) if paths else ""
    return not str(out).strip()


def export(root: Path, sha: str, dest: Path) -> None:
    """The store's files at commit ``sha`` written under ``dest`` (regular files only, as git holds them).

    ``git archive`` streams the tree and the system's tar writes it (55,000 files in a few seconds); a
    member that is not a regular file is left out, as the store is made of regular files only (TK109)."""
    import shutil
    import subprocess

    repo = _repo(root)
    prefix = _prefix(repo, root)
    tree = f"{sha}:{prefix}" if prefix else sha
    archive = subprocess.Popen(
        ["git", "archive", "--format=tar", tree], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert archive.stdout is not None
    try:
        if shutil.which("tar"):
            untar = subprocess.run(
                ["tar", "-x", "--no-same-owner", "--no-same-permissions", "-C", str(dest)],
                stdin=archive.stdout,
                capture_output=True,
                check=False,
            )
            failed = untar.returncode != 0
        else:
            _untar(archive.stdout, dest)
            failed = False
    finally:
        archive.stdout.close()
        said = archive.stderr.read().decode("utf-8", "replace").strip() if archive.stderr else ""
        archive.wait()
    if archive.returncode != 0 or failed:
        raise TwokuError(f"读不出版本 {sha[:12]} 的库：{said or 'git archive 失败'}")
    for path in dest.rglob("*"):
        if path.is_symlink():
            path.unlink()


def _untar(stream: Any, dest: Path) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            target = dest / member.name
            if not target.resolve().is_relative_to(dest.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member)
            if data is not None:
                target.write_bytes(data.read())
