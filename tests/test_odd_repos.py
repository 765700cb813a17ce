"""Dirty or odd repositories: each a clear message and the right exit code, never a traceback,
and nothing of the user's work touched (working tree, index, HEAD and refs as they were)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.storefactory import RULE, RULE_PATH, git, make_store, write_files
from twoku.cli import app

runner = CliRunner()

PEOPLE = ["-p", "张三|某省医疗保障局|医保管理", "-p", "李四|某市医疗保障事务中心|经办"]
SIGNOFF = [
    "signoff",
    "record",
    "CN-R-0001",
    "--kind",
    "业务论证",
    "--date",
    "2025-11-20",
    "--organizer",
    "国家医疗保障局",
]
SIGNOFF += [*PEOPLE, "--conclusion", "通过"]
ANNUAL = ["adjust", "annual", "--year", "2026", "--date", "2026-12-20"]
PUBLISH = ["publish", "--public-summary", "--as-of", "2026-06-30", "--out", "../published"]
RELEASE = ["release", "--out", "../release.tar.gz"]
EDITED = RULE.replace("判为可疑", "判为可疑（本地修改）", 1)
CONFLICT = f"<<<<<<< HEAD\n{RULE}=======\n{EDITED}>>>>>>> theirs\n"


def dirty(root: Path) -> None:
    write_files(root, {RULE_PATH: EDITED, "scratch.txt": "未提交的笔记\n"})
    git(root, "add", "scratch.txt")  # something staged too


def detached(root: Path) -> None:
    git(root, "checkout", "-q", "--detach")


def shallow(root: Path) -> None:
    """Replace the store by a depth-1 clone of itself after one more commit."""
    write_files(root, {"notes.txt": "第二次提交\n"})
    git(root, "add", "notes.txt")
    git(root, "commit", "-q", "-m", "第二次提交")
    source = root.with_name("source")
    root.rename(source)
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{source}", str(root)], check=True)
    git(root, "config", "user.name", "测试员")
    git(root, "config", "user.email", "test@example.org")


def no_commits(root: Path) -> None:
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")  # staged, never committed


def conflicted(root: Path) -> None:
    write_files(root, {RULE_PATH: CONFLICT})
    git(root, "add", RULE_PATH)
    git(root, "commit", "-q", "-m", "误提交了冲突标记")


def first_commit(root: Path) -> str:
    return git(root, "rev-list", "--max-parents=0", "HEAD").strip()


SETUPS: dict[str, Callable[[Path], None]] = {
    "dirty": dirty,
    "detached": detached,
    "shallow": shallow,
    "no-commits": no_commits,
    "conflict": conflicted,
    "plain": lambda root: None,
}

# (repository, command, exit code, words the message must hold)
CASES = [
    ("dirty", ["validate"], 1, "TK506"),  # the edit is checked as it is on disk
    ("dirty", ["diff"], 0, "WORKTREE"),
    ("dirty", SIGNOFF, 1, "未提交的修改"),
    ("dirty", ANNUAL, 1, "未提交的修改"),
    ("dirty", PUBLISH, 1, "未提交的修改"),
    ("dirty", [*RELEASE, "--since", "HEAD"], 1, "未提交的修改"),
    ("detached", ["validate"], 0, "全部通过"),
    ("detached", ["diff", "--since", "HEAD"], 0, "没有条目变更"),
    ("detached", SIGNOFF, 1, "分离状态"),
    ("detached", ANNUAL, 1, "分离状态"),
    ("shallow", ["validate"], 0, "全部通过"),
    ("shallow", ["diff"], 0, "没有条目变更"),
    ("shallow", ["diff", "--since", "HEAD~1"], 2, "找不到版本"),
    ("no-commits", ["validate"], 0, "全部通过"),
    ("no-commits", ["diff"], 2, "还没有任何提交"),
    ("no-commits", SIGNOFF, 1, "未提交的修改"),
    ("no-commits", ANNUAL, 2, "还没有任何提交"),
    ("no-commits", PUBLISH, 1, "未提交的修改"),
    ("no-commits", RELEASE, 2, "还没有任何提交"),
    ("plain", ["diff", "--since", "annual/1999"], 2, "找不到版本 “annual/1999”"),
    ("plain", ["diff", "--since", "last-publish"], 2, "last-publish"),
    ("plain", ["release", "--out", "../r.tar.gz", "--since", "annual/1999"], 2, "找不到版本"),
    ("conflict", ["validate"], 1, "TK108"),
    ("conflict", SIGNOFF, 2, "CN-R-0001"),  # the conflicted rule cannot be read: no such item
    ("conflict", ANNUAL, 1, "合并冲突"),
    ("conflict", PUBLISH, 1, "TK108"),
]


def work(root: Path) -> dict[str, object]:
    """The user's work: every file (with contents), the index, HEAD, refs, and what is published beside."""
    files = {}
    for base in (root, root.parent / "published"):
        for path in sorted(base.rglob("*")) if base.exists() else []:
            if ".git" not in path.relative_to(base).parts and path.is_file():
                files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    head = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=root, capture_output=True, text=True)
    return {
        "files": files,
        "index": git(root, "ls-files", "-s"),
        "status": git(root, "status", "--porcelain", "--untracked-files=all"),
        "head": head.stdout,
        "refs": git(root, "for-each-ref", "--format=%(refname) %(objectname)"),
        "release": (root.parent / "release.tar.gz").exists() or (root.parent / "r.tar.gz").exists(),
    }


@pytest.mark.parametrize(("repo", "args", "code", "says"), CASES, ids=[f"{c[0]}-{' '.join(c[1][:2])}" for c in CASES])
def test_odd_repository_gets_a_clear_answer_and_keeps_the_users_work(
    repo: str, args: list[str], code: int, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_store(tmp_path / "store")
    SETUPS[repo](root)
    monkeypatch.chdir(root)
    before = work(root)
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output and "内部错误" not in result.output
    assert work(root) == before


def test_a_shallow_clone_can_still_record_and_diff_its_own_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_store(tmp_path / "store")
    shallow(root)
    monkeypatch.chdir(root)
    result = runner.invoke(app, SIGNOFF)
    assert result.exit_code == 0, result.output
    assert git(root, "status", "--porcelain") == ""
    assert "CN-A-0001" in git(root, "log", "-1", "--format=%s")
    since = runner.invoke(app, ["diff", "--since", "HEAD~1"])  # the one commit made after the clone
    assert since.exit_code == 0 and "HEAD~1" in since.output
