"""The record of each publication: an annotated tag ``publish/<region>/<date>`` on the commit
the summary was built from, so ``diff --since last-publish`` and the next publication's
change section know where the last one stood."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError
from twoku.store.repo import gitio

PREFIX = "publish"


def _repo(root: Path) -> Any:
    return gitio.open_repo(
        root, search_parents=True, need_commits=True, hint="发布记录在 git 标签中：先 git init 并提交全部文件"
    )


def tag_name(region: str, date: str) -> str:
    return f"{PREFIX}/{region}/{date}"


def head(root: Path) -> str:
    return str(_repo(root).head.commit.hexsha)


def tagged(root: Path, name: str) -> str | None:
    """The commit the tag names, or None when there is no such tag."""
    return gitio.commit_of(_repo(root), f"refs/tags/{name}")


def previous(root: Path, region: str, commit: str) -> tuple[str, str] | None:
    """The newest publication of ``region`` made at an earlier revision than ``commit``
    (a proper ancestor): (tag, commit).  Tags at ``commit`` itself are passed over, so
    building twice at one revision compares with the same point both times."""
    import git

    repo = _repo(root)
    out = repo.git.for_each_ref("--sort=-refname", "--format=%(refname)", f"refs/tags/{PREFIX}/{region}/")
    for ref in (line.strip() for line in out.splitlines()):
        found = gitio.commit_of(repo, ref) if ref else None
        if found is None or found == commit:
            continue
        try:
            repo.git.merge_base("--is-ancestor", found, commit)
        except git.GitCommandError:
            continue  # on another line of history
        return ref.removeprefix("refs/tags/"), found
    return None


def create(root: Path, name: str, commit: str, message: str) -> None:
    import git

    repo = _repo(root)
    try:
        repo.git.tag("-a", name, commit, "-m", message)
    except git.GitCommandError as exc:
        text = str(exc.stderr or exc).strip()
        raise TwokuError(f"无法创建发布标签 {name}：{text}", hint="检查 git 的用户名、邮箱设置和仓库状态") from None


def delete(root: Path, name: str) -> None:
    import git

    with contextlib.suppress(git.GitCommandError):
        _repo(root).git.tag("-d", name)
