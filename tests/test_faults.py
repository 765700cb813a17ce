"""Writes are all or nothing, and one writer at a time — proven on real repositories.

Faults injected: a failing git hook (pre-commit, reference-transaction), an exception at a
named step (TWOKU_TEST_FAIL_AT), and real signals (SIGINT, SIGKILL) sent to a twoku process
waiting at a named step (TWOKU_TEST_PAUSE_AT).  After each, the repository is exactly as it
was: same HEAD, same refs, same index, same files (no stray or temporary file), no journal.

Counts (for the README's 可靠性 section): LOCK_CASES commands refused while another process
holds the lock; FAIL_CASES injected exceptions; HOOK_CASES failing hooks; SIGNAL_CASES
signals.  Every one of them ends with zero files lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli.test_migrate import V1_RULE
from tests.cli.test_report import PROVINCE_RULE, PROVINCE_RULE_PATH, clone
from tests.conftest import run_twoku
from tests.storefactory import RULE_PATH, commit_all, git, make_store, write_files
from twoku.cli import app
from twoku.store.writes import faults
from twoku.store.writes.lock import store_lock

runner = CliRunner()

PEOPLE = ["-p", "张三|某省医疗保障局|医保管理", "-p", "李四|某市医疗保障事务中心|经办"]
RECORD = ["signoff", "record", "CN-R-0001", "--kind", "业务论证", "--date", "2025-11-20"]
RECORD += ["--organizer", "国家医疗保障局"]

# command family → (store kind, arguments; {out} is a folder outside the repository, {archive} an intake archive)
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "new": ("store", ["new", "knowledge", "--category", "laws", "--title", "测试法规", "--no-input", "--commit"]),
    "signoff record": ("store", [*RECORD, *PEOPLE, "--conclusion", "通过"]),
    "adjust annual": ("store", ["adjust", "annual", "--year", "2026", "--date", "2026-12-20"]),
    "publish": ("shipped", ["publish", "--public-summary", "--region", "510100", "--as-of", "2026-06-30"]),
    "report-upstream": ("province", ["report-upstream", "--out", "{out}/report.tar.gz"]),
    "intake": ("national", ["intake", "{archive}"]),
    "migrate": ("v1", ["migrate"]),
}
# the named steps each command passes, in order (faults.py lists them)
STEPS = {
    "new": ["tmp-written", "written", "committed", "done"],
    "signoff record": ["tmp-written", "written", "committed", "done"],
    "adjust annual": ["tmp-written", "written", "committed", "tagged", "done"],
    "publish": ["tagged", "tmp-written", "done"],
    "report-upstream": ["tmp-written", "tagged", "done"],
    "intake": ["applied", "branched", "done"],
    "migrate": ["tmp-written", "written", "committed", "done"],
}
FAIL_CASES = [(c, s) for c, steps in STEPS.items() for s in steps]
SIGNAL_CASES = [
    ("new", "written", signal.SIGKILL),
    ("signoff record", "tmp-written", signal.SIGKILL),
    ("adjust annual", "committed", signal.SIGKILL),
    ("adjust annual", "tagged", signal.SIGINT),
    ("publish", "tmp-written", signal.SIGINT),
    ("publish", "tagged", signal.SIGKILL),
    ("intake", "branched", signal.SIGKILL),
    ("intake", "applied", signal.SIGKILL),  # a scratch worktree registered: the next writer removes it
    # SIGTERM (kill, a service manager) is handled as SIGINT while a command writes (issue 20, item 6)
    ("new", "written", signal.SIGTERM),
    ("publish", "tagged", signal.SIGTERM),
    ("intake", "applied", signal.SIGTERM),
    ("migrate", "written", signal.SIGKILL),
]  # one more SIGKILL (new, after the commit) in test_the_next_command_after_a_kill_puts_the_store_back_first
HOOK_CASES = [
    ("new", "pre-commit"),
    ("signoff record", "pre-commit"),
    ("adjust annual", "pre-commit"),
    ("adjust annual", "reference-transaction"),
    ("publish", "reference-transaction"),
    ("intake", "reference-transaction"),
]
# every writing command: refused while another process holds the lock
LOCK_CASES: dict[str, list[str]] = {
    "new": COMMANDS["new"][1],
    "override rebase": ["override", "rebase", "510000-O-0001"],
    "renumber": ["renumber", "CN-K-0002", "CN-K-0009"],
    "init": ["init", ".", "--region", "510000"],
    "signoff record": COMMANDS["signoff record"][1],
    "adjust annual": COMMANDS["adjust annual"][1],
    "adjust instant": ["adjust", "instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01"],
    "adjust close": ["adjust", "close"],
    "publish": [*COMMANDS["publish"][1], "--out", "out"],
    "report-upstream": ["report-upstream"],
    "release": ["release", "--out", "release.tar.gz", "--since", "HEAD"],
    "intake": ["intake", "some.tar.gz"],
    "migrate": ["migrate"],
}


# --- repositories ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, _shipped_template: Path) -> dict[str, Path]:
    """One repository of each kind, made once; every case works on its own copy."""
    base = tmp_path_factory.mktemp("fault-templates")
    national = make_store(base / "national")
    province = clone(national, base / "province", "510000", "国家医保局")
    write_files(province, {PROVINCE_RULE_PATH: PROVINCE_RULE})
    commit_all(province, "新增本省规则 挂床住院")
    archive = base / "province.tar.gz"
    sender = shutil.copytree(province, base / "sender", symlinks=True)  # the template itself has not reported yet
    done = subprocess.run(
        [sys.executable, "-m", "twoku", "report-upstream", "--out", str(archive)],
        cwd=sender,
        capture_output=True,
        text=True,
        env={**os.environ, "TWOKU_CACHE_DIR": str(base / "_cache")},
    )
    assert done.returncode == 0, done.stderr
    old = make_store(base / "v1", {"twoku.yaml": "schema_version: 1\nregion: CN\n", RULE_PATH: V1_RULE})  # migrate's
    return {
        "store": national,
        "national": national,
        "province": province,
        "shipped": _shipped_template,
        "v1": old,
        "_": archive,
    }


@pytest.fixture
def repo_for(
    templates: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], tuple[Path, list[str]]]:
    def make(command: str) -> tuple[Path, list[str]]:
        kind, args = COMMANDS[command]
        root = tmp_path / "repo"
        shutil.copytree(templates[kind], root, symlinks=True)
        (tmp_path / "out").mkdir(exist_ok=True)
        args = [a.format(out=tmp_path / "out", archive=templates["_"]) for a in args]
        if command == "publish":
            args += ["--out", str(tmp_path / "out")]
        monkeypatch.chdir(root)
        return root, args

    return make


def state(root: Path) -> dict[str, Any]:
    """Everything a write could leave behind: HEAD, refs, index, status, worktrees and every file
    (the repository's and the output folder beside it), with contents."""
    out = root.parent / "out"
    files = {}
    for base in (root, out):
        for path in sorted(base.rglob("*")):
            if ".git" in path.relative_to(base).parts:
                continue
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return {
        "head": subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout,
        "branch": git(root, "symbolic-ref", "-q", "HEAD"),
        "refs": git(root, "for-each-ref", "--format=%(refname) %(objectname)"),
        "index": git(root, "ls-files", "-s"),
        "status": git(root, "status", "--porcelain", "--ignored", "--untracked-files=all"),
        "worktrees": git(root, "worktree", "list", "--porcelain").count("worktree "),
        "files": files,
        "journal": faults.journal_path(root).exists(),
    }


def succeeds(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


# --- the lock -------------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from twoku.store.writes.lock import store_lock
with store_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = make_store(tmp_path_factory.mktemp("held") / "store")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield root, holder.pid
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("command", LOCK_CASES)
def test_a_second_writer_is_refused_while_one_holds_the_lock(
    command: str, held: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, pid = held
    monkeypatch.chdir(root)
    before = state(root)
    result = runner.invoke(app, LOCK_CASES[command])
    assert result.exit_code == 1, result.output
    assert "另一个 twoku 进程" in result.output and f"PID {pid}" in result.output
    assert "Traceback" not in result.output
    assert state(root) == before


# --- an exception at every step -------------------------------------------------------------


@pytest.mark.parametrize(("command", "step"), FAIL_CASES)
def test_a_failure_at_any_step_leaves_the_repository_as_it_was(
    command: str, step: str, repo_for: Callable[[str], tuple[Path, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, args = repo_for(command)
    before = state(root)
    monkeypatch.setenv(faults.FAIL_AT, step)
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output  # twoku's own failure: no traceback, a crash log
    assert "内部错误" in result.output and "Traceback" not in result.output
    assert state(root) == before
    if step == STEPS[command][-1]:  # and nothing is in the way of doing it properly afterwards
        monkeypatch.delenv(faults.FAIL_AT)
        succeeds(args)
        assert state(root) != before and not faults.journal_path(root).exists()


# --- git hooks that refuse ------------------------------------------------------------------

REFUSE_TAGS = """#!/bin/sh
# refuse any tag or branch twoku makes, at the moment git is about to write it
[ "$1" = prepared ] || exit 0
while read old new ref; do
  case "$ref" in refs/tags/*|refs/heads/intake/*) echo "hook: no $ref" >&2; exit 1;; esac
done
exit 0
"""


@pytest.mark.parametrize(("command", "hook"), HOOK_CASES)
def test_a_refusing_hook_leaves_the_repository_as_it_was(
    command: str, hook: str, repo_for: Callable[[str], tuple[Path, list[str]]]
) -> None:
    root, args = repo_for(command)
    script = root / ".git" / "hooks" / hook
    script.write_text(REFUSE_TAGS if hook == "reference-transaction" else "#!/bin/sh\nexit 1\n", encoding="utf-8")
    script.chmod(0o755)
    before = state(root)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert state(root) == before


# --- real signals ---------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "step", "signum"), SIGNAL_CASES)
def test_a_signal_at_a_step_leaves_the_repository_as_it_was(
    command: str,
    step: str,
    signum: signal.Signals,
    repo_for: Callable[[str], tuple[Path, list[str]]],
    tmp_path: Path,
) -> None:
    root, args = repo_for(command)
    before = state(root)
    arrived = tmp_path / "paused"
    env = {**os.environ, faults.PAUSE_AT: step, faults.PAUSED: str(arrived), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "twoku", *args], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while not arrived.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "twoku never reached the step"
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    if signum in (signal.SIGINT, signal.SIGTERM):
        assert proc.returncode == 130 and "已中断" in err.decode() and b"Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
        assert faults.journal_path(root).exists()  # killed outright: the journal is left for the next writer
        with store_lock(root):  # what the next writing command does before anything else
            assert faults.recover(root)
    assert state(root) == before


def test_the_next_command_after_a_kill_puts_the_store_back_first(
    repo_for: Callable[[str], tuple[Path, list[str]]], tmp_path: Path
) -> None:
    root, args = repo_for("new")
    before = state(root)
    arrived = tmp_path / "paused"
    env = {**os.environ, faults.PAUSE_AT: "committed", faults.PAUSED: str(arrived)}
    proc = subprocess.Popen([sys.executable, "-m", "twoku", *args], cwd=root, env=env)
    while not arrived.exists():
        assert proc.poll() is None
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert state(root) != before  # a commit was made and not yet accounted for
    succeeds(args)  # the next writer takes the half-done commit back before it starts
    log = git(root, "log", "--format=%s", f"{before['head'].strip()}..HEAD").splitlines()
    assert len(log) == 1 and "CN-K-0004" in log[0]  # one commit: the second run's
    # (its ID was chosen before the lock, while the killed run's file was still there)
    assert not list(root.rglob("CN-K-0003.yaml")) and git(root, "status", "--porcelain") == ""


def test_checkpoints_do_nothing_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(faults.PAUSE_AT, raising=False)
    monkeypatch.delenv(faults.FAIL_AT, raising=False)
    started = time.monotonic()
    faults.checkpoint("written")
    assert time.monotonic() - started < 0.1
    monkeypatch.setenv(faults.FAIL_AT, "committed")
    faults.checkpoint("written")
    with pytest.raises(faults.InjectedFault):
        faults.checkpoint("committed")


def test_a_non_git_store_is_locked_and_journalled_beside_its_files(tmp_path: Path) -> None:
    root = make_store(tmp_path / "plain", commit=False)
    target = root / "national" / "knowledge" / "laws" / "x.yaml"
    with pytest.raises(KeyboardInterrupt), faults.writing(root):
        from twoku.store.documents.edit import atomic_write

        atomic_write(target, b"id: x\n")
        assert target.exists()
        raise KeyboardInterrupt
    assert not target.exists() and not faults.journal_path(root).exists()
    assert not list(root.rglob("*.tmp"))


# --- issue 20, items 4, 5, 6: a clumsy --out, worktrees, a user's edits after a kill ---------


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_a_bad_out_is_refused_before_anything_is_written(
    where: str, repo_for: Callable[[str], tuple[Path, list[str]]], tmp_path: Path
) -> None:
    root, args = repo_for("publish")
    blocker = tmp_path / "out" / "blocker.txt"
    blocker.write_text("不是目录\n", encoding="utf-8")
    out = blocker if where == "file" else blocker / "sub"
    args = [*args[:-1], str(out)]
    before = state(root)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "blocker.txt" in result.output and "不是目录" in result.output and "Traceback" not in result.output
    assert state(root) == before  # no tag, no file, no journal
    succeeds(COMMANDS["new"][1])  # and the store is not jammed


def test_report_upstream_refuses_a_folder_as_its_out_file(
    repo_for: Callable[[str], tuple[Path, list[str]]], tmp_path: Path
) -> None:
    root, _ = repo_for("report-upstream")
    before = state(root)
    result = runner.invoke(app, ["report-upstream", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "目录" in result.output, result.output
    assert state(root) == before


def test_a_failed_play_back_never_jams_the_store(
    repo_for: Callable[[str], tuple[Path, list[str]]], tmp_path: Path
) -> None:
    root, args = repo_for("new")
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    # a journal whose file cannot be put back: the folder it belongs in is a file
    journal = {"pid": 1, "started": 0, "files": {str(blocker / "a.yaml"): {"content": "eA==", "index": None}}}
    faults.journal_path(root).parent.mkdir(parents=True, exist_ok=True)
    faults.journal_path(root).write_text(json.dumps(journal), encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "撤销未完成的写入时出错" in result.output and "journal-failed-" in result.output
    assert not faults.journal_path(root).exists()
    assert list(faults.journal_path(root).parent.glob("journal-failed-*.json"))
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "撤销" not in again.output, again.output


def test_a_users_edit_after_a_kill_survives_the_play_back(
    repo_for: Callable[[str], tuple[Path, list[str]]], tmp_path: Path
) -> None:
    root, args = repo_for("new")
    arrived = tmp_path / "paused"
    env = {**os.environ, faults.PAUSE_AT: "written", faults.PAUSED: str(arrived)}
    proc = subprocess.Popen([sys.executable, "-m", "twoku", *args], cwd=root, env=env)
    while not arrived.exists():
        assert proc.poll() is None
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    (made,) = root.rglob("CN-K-0003.yaml")
    edited = made.read_text(encoding="utf-8") + "# 用户在此后补充的内容\n"
    made.write_text(edited, encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert made.read_text(encoding="utf-8") == edited  # kept, not deleted
    assert "保留了此后被修改过的文件" in result.output and "CN-K-0003.yaml" in result.output


def test_one_lock_and_one_journal_for_a_checkout_and_its_worktrees(store: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    git(store, "worktree", "add", "-q", "--detach", str(tree), "HEAD")
    assert faults.journal_path(tree) == faults.journal_path(store)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_twoku("adjust", "annual", "--year", "2026", "--date", "2026-12-20", cwd=tree)
        assert result.returncode == 1 and f"PID {holder.pid}" in result.stderr, result.stderr
    finally:
        holder.kill()
        holder.wait()
    # a journal left by a writer killed in the worktree is played back by the next writer in the checkout,
    # in the worktree: its tag goes, the checkout's own tags stay
    git(store, "tag", "publish/keep", "HEAD")
    with store_lock(tree):
        journal = faults.Journal(tree)
    git(tree, "tag", "annual/2026", "HEAD")
    made = tree / "national" / "knowledge" / "laws" / "CN-K-0009.yaml"
    journal.note(made, b"id: CN-K-0009\n")
    made.write_bytes(b"id: CN-K-0009\n")
    succeeds_in(store, COMMANDS["new"][1])
    assert "annual/2026" not in git(store, "tag") and "publish/keep" in git(store, "tag")
    assert not made.exists()


def succeeds_in(root: Path, args: list[str]) -> None:
    result = run_twoku(*args, cwd=root)
    assert result.returncode == 0, result.stderr


def test_play_back_restores_what_twoku_wrote_and_keeps_what_a_user_wrote_after(store: Path) -> None:
    """Both kinds of write, a file changed and a file made: each put back when it holds what twoku wrote,
    each left alone (and named) when someone wrote something else since."""
    law, fact = store / "national/knowledge/laws/CN-K-0001.yaml", store / "national/knowledge/medical/CN-K-0002.yaml"
    made, kept = store / "national/knowledge/laws/CN-K-0005.yaml", store / "national/knowledge/laws/CN-K-0006.yaml"
    originals = {law: law.read_bytes(), fact: fact.read_bytes()}
    with store_lock(store):
        journal = faults.Journal(store)
    for path in (law, fact, made, kept):
        journal.note(path, b"twoku: 1\n")
        path.write_bytes(b"twoku: 1\n")
    fact.write_bytes(b"user: 2\n")
    kept.write_bytes(b"user: 2\n")
    assert sorted(faults.rollback(store, journal.data)) == sorted([str(fact), str(kept)])
    assert law.read_bytes() == originals[law] and not made.exists()
    assert fact.read_bytes() == kept.read_bytes() == b"user: 2\n"
