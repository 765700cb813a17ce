"""The few git operations the commands need: is a file committed as it is, and commit one file."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError

LOCK_RETRIES = 5
PATHS_ON_COMMAND_LINE = 500


def open_repo(
    root: Path,
    *,
    search_parents: bool = False,
    need_commits: bool = False,
    hint: str = "twoku 库须在 git 仓库中：git init 后提交全部文件",
) -> Any:
    """The git repository of a store, or a TwokuError saying why there is none to use."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=search_parents)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise TwokuError(f"{root} 不是 git 仓库", hint=hint) from None
    if need_commits and not repo.head.is_valid():
        raise TwokuError("仓库还没有任何提交", hint="先提交一次：git add -A && git commit")
    return repo


def _repo(root: Path) -> Any:
    return open_repo(root)


def commit_of(repo: Any, rev: str) -> str | None:
    """The commit a revision (branch, tag, sha, expression) names, or None when it names none."""
    import git

    try:
        return str(repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")).strip() or None
    except git.GitCommandError:
        return None


def uncommitted(root: Path, paths: Iterable[str]) -> list[str]:
    """Those of ``paths`` whose working copy differs from HEAD (modified, staged or untracked)."""
    wanted = list(paths)
    if not wanted:
        return []
    repo = _repo(root)
    # Past a few hundred paths the command line would overflow ("Argument list too long"):
    # ask about the whole work tree instead and keep the wanted paths, which is the same answer.
    spec = ["--", *wanted] if len(wanted) <= PATHS_ON_COMMAND_LINE else []
    out = repo.git.status("--porcelain", "-z", "--untracked-files=all", *spec)
    changed = set()
    for entry in out.split("\0"):
        if len(entry) > 3:
            changed.add(entry[3:])
    return [p for p in wanted if p in changed]


def commit_files(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit ``paths`` alone (whatever else is staged stays staged); the new commit's hexsha."""
    import git

    from twoku.store.writes import faults

    for path in paths:
        faults.note(root / path)  # its index entry, should the command not finish
    faults.checkpoint("written")
    repo = _repo(root)
    if repo.head.is_detached:
        raise TwokuError(
            "HEAD 处于分离状态（detached HEAD），提交不会落在任何分支上，未提交",
            hint="先切换到分支（git switch main，或 git switch -c 新分支名）再运行",
        )
    with tempfile.TemporaryDirectory(prefix="twoku-commit-") as scratch:
        spec, said = _spec(Path(scratch), paths, message)
        for attempt in range(LOCK_RETRIES):
            try:
                repo.git.add(*spec)
                repo.git.commit("-q", *said, "--only", *spec)
                sha = str(repo.head.commit.hexsha)
                faults.checkpoint("committed")
                return sha
            except git.GitCommandError as exc:
                text = str(exc.stderr or exc)
                if "index.lock" in text and attempt + 1 < LOCK_RETRIES:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                with contextlib.suppress(git.GitCommandError):  # leave the index as it was; the caller removes files
                    repo.git.reset("-q", *spec)
                hint = "检查 git 的用户名、邮箱设置、提交钩子和仓库状态"
                shown = "、".join(paths[:10]) + (f" 等 {len(paths)} 个文件" if len(paths) > 10 else "")
                raise TwokuError(f"提交 {shown} 失败：{text.strip()}", hint=hint) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _spec(scratch: Path, paths: Sequence[str], message: str) -> tuple[list[str], list[str]]:
    """The pathspec and message arguments of a commit: on the command line, or past a few hundred paths (a
    migration commits thousands) read by git from files, where the command line would overflow."""
    spec = ["--", *paths]
    if len(paths) > PATHS_ON_COMMAND_LINE:
        listed = scratch / "paths"
        listed.write_bytes(b"\0".join(p.encode("utf-8", "surrogateescape") for p in paths))
        spec = [f"--pathspec-from-file={listed}", "--pathspec-file-nul"]
    said = ["-m", message]
    if len(message.encode("utf-8")) > 64 * 1024:
        (scratch / "message").write_text(message, encoding="utf-8")
        said = ["-F", str(scratch / "message")]
    return spec, said


def tag_exists(root: Path, name: str) -> bool:
    import git

    try:
        _repo(root).git.rev_parse("--verify", "--quiet", f"refs/tags/{name}")
    except git.GitCommandError:
        return False
    return True


def _undo_commit(repo: Any, sha: str, paths: Sequence[str]) -> None:
    """Take back our own commit: HEAD returns to its parent (only if HEAD is still ``sha``)
    and the index entries of ``paths`` to the parent's; the caller restores the files."""
    parents = repo.commit(sha).parents
    if parents:
        repo.git.update_ref("-m", "twoku: 撤销未能打标签的提交", "HEAD", parents[0].hexsha, sha)
        repo.git.reset("-q", parents[0].hexsha, "--", *paths)
    else:
        repo.git.update_ref("-d", "HEAD", sha)
        repo.git.rm("-q", "--cached", "--", *paths)


def commit_and_tag(root: Path, paths: Sequence[str], message: str, tag: str, tag_message: str) -> str:
    """Commit ``paths`` and put the annotated tag ``tag`` on that commit — both or neither.

    A tag that cannot be made (it exists, a hook refuses it) takes the commit back, so no
    half-done adjustment is left in the history; the caller removes or restores the files.
    """
    import git

    from twoku.store.writes import faults

    sha = commit_files(root, paths, message)
    repo = _repo(root)
    try:
        repo.git.tag("-a", "-m", tag_message, tag, sha)
        faults.checkpoint("tagged")
    except git.GitCommandError as exc:
        text = str(exc.stderr or exc).strip()
        try:
            _undo_commit(repo, sha, paths)
        except git.GitCommandError as undo:
            raise TwokuError(
                f"标签 {tag} 创建失败（{text}），且无法撤销提交 {sha[:10]}：{str(undo.stderr or undo).strip()}",
                hint=f"手工处理：git tag -a {tag} {sha[:10]}，或 git reset --soft {sha[:10]}~1",
            ) from None
        raise TwokuError(
            f"标签 {tag} 创建失败，已撤销提交：{text}", hint="检查同名标签（git tag -l）和仓库的钩子后重新运行"
        ) from None
    return sha


def not_regular(root: Path, rev: str = "HEAD") -> list[str]:
    """The store paths a commit keeps as anything but a regular file (a link, a submodule), as git's mode says:
    what the working tree shows may differ (a link checked out as a plain file where core.symlinks is off)."""
    import subprocess

    from twoku.model.layout import CONFIG_FILE, TOP_DIRS

    done = subprocess.run(
        ["git", "ls-tree", "-r", "-z", "--full-tree", rev, "--", CONFIG_FILE, *TOP_DIRS],
        cwd=root,
        capture_output=True,
    )
    out = []
    for record in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        mode, _, rest = record.partition(" ")
        if record and mode not in ("100644", "100755"):
            out.append(rest.partition("\t")[2])
    return out
