"""git for the scaffolding commands: make a repository, stage new files, move a file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError

GIT_HINT = "检查 git 是否已安装，以及 git 的用户名、邮箱设置（git config user.name / user.email）"


def _repo(root: Path) -> Any | None:
    import git

    try:
        return git.Repo(root, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def is_repo(root: Path) -> bool:
    return _repo(root) is not None


def _run(root: Path, *args: str) -> str:
    import git

    repo = _repo(root)
    if repo is None:
        raise TwokuError(f"{root} 不是 git 仓库", hint="twoku 库须在 git 仓库中：git init 后提交全部文件")
    try:
        return str(repo.git.execute(["git", *args]))
    except git.GitCommandError as exc:
        text = str(exc.stderr or exc).strip()
        raise TwokuError(f"git {args[0]} 失败：{text}", hint=GIT_HINT) from None


def init(root: Path) -> None:
    """``git init`` with ``main`` as the first branch."""
    import git

    try:
        git.Repo.init(root, initial_branch="main")
    except git.GitCommandError as exc:
        raise TwokuError(f"git init 失败：{str(exc.stderr or exc).strip()}", hint=GIT_HINT) from None


def clone(source: str, root: Path) -> None:
    """``git clone`` an upper store (a URL, a local repository or a ``git bundle`` file) with its whole history,
    its remote named ``upstream``."""
    import subprocess

    done = subprocess.run(
        ["git", "clone", "-q", "--origin", "upstream", "--", source, str(root)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if done.returncode != 0:
        raise TwokuError(
            f"无法从 {source} 取得上级库：{done.stderr.strip() or done.returncode}",
            hint="--upstream 给出上级库的 git 地址、本机上的克隆，或上级提供的 git bundle 文件"
            "（隔离网络中由上级运行 git bundle create 上级库.bundle --all 后拷贝过来）",
        )


def stage(root: Path, paths: Sequence[str]) -> None:
    if paths:
        _run(root, "add", "--", *paths)


def tracked(root: Path, path: str) -> bool:
    return bool(_run(root, "ls-files", "--", path).strip())


def move(root: Path, old: str, new: str) -> None:
    """``git mv`` when the file is tracked, else a plain rename; the folders are made."""
    (root / new).parent.mkdir(parents=True, exist_ok=True)
    if is_repo(root) and tracked(root, old):
        _run(root, "mv", "--", old, new)
    else:
        (root / old).rename(root / new)
    folder = (root / old).parent
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def commit_everything(root: Path, message: str) -> str:
    """Stage every file of a new repository and make its first commit; the commit's hexsha."""
    _run(root, "add", "-A")
    _run(root, "commit", "-q", "-m", message)
    return _run(root, "rev-parse", "HEAD").strip()


def commit_only(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` as staged (renames and removals included); the new commit's hexsha.

    What else is staged stays staged.  On failure the index keeps the staged changes, so
    nothing is half-committed and the user can commit by hand once the cause is fixed.
    """
    _run(root, "commit", "-q", "-m", message, "--only", "--", *paths)
    return _run(root, "rev-parse", "HEAD").strip()
