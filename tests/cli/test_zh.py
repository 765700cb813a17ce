"""Issue #21.9: help pages, usage errors and Ctrl-C speak Chinese (click's and typer's own words too)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_help import COMMANDS
from tests.conftest import run_twoku
from twoku.cli import app

runner = CliRunner()
ENGLISH = (
    "Show this message and exit",
    "Usage:",
    "Options",
    "Arguments",
    "Commands",
    "[default:",
    "[required]",
    "Install completion for",
)


@pytest.mark.parametrize("path", [(), ("new",), ("signoff",), *COMMANDS], ids=lambda p: " ".join(p) or "twoku")
def test_every_help_page_is_chinese_throughout(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "显示此帮助并退出" in result.output and "用法：" in result.output
    for english in ENGLISH:
        assert english not in result.output, f"twoku {' '.join(path)} --help says {english!r}"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["validate", "--nope"], "没有选项 --nope"),
        (["show"], "缺少参数 'ID'。"),
        (["init"], "缺少选项 '--region'"),
        (["run", "--claims", "x.csv", "--threads", "abc"], "'--threads' 的取值无效：应为整数"),
        (["diff", "--format", "xml"], "'--format' / '-f' 的取值无效：'xml' 不是可选的取值"),
        (["ls", "rules", "extra"], "多出了参数（extra）"),
        (["publish", "--out"], "选项 '--out' 需要一个取值"),
        (["nosuch"], "没有命令 'nosuch'"),
    ],
)
def test_usage_errors_are_said_in_chinese(tmp_path: Path, args: list[str], said: str) -> None:
    result = run_twoku(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    text = " ".join(result.stderr.replace("│", " ").split())  # the panel wraps long lines
    assert said in text, result.stderr
    for english in ("No such", "Missing", "Invalid value", "Usage:", "Try ", "requires", "Got unexpected"):
        assert english not in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_at_a_prompt_exits_130_quietly(store: Path) -> None:
    exe = Path(sys.executable).parent / "twoku"
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [str(exe), "new", "rule", "--layer", "CN"],
        cwd=store,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # as at a terminal: a shell's background job (pytest run with &) ignores Ctrl-C, and its children with it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None and proc.stdin is not None
    seen = b""
    deadline = time.monotonic() + 60
    while not seen.rstrip().endswith(b":") and time.monotonic() < deadline:  # waiting at the first prompt
        ready, _, _ = select.select([proc.stderr], [], [], 1)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096)
    assert seen.rstrip().endswith(b":"), seen.decode("utf-8", "replace")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)  # its input stays open: an end of input racing the signal would be another answer
    err = proc.stderr.read()
    proc.stdin.close()
    said = (seen + err).decode("utf-8")
    assert proc.returncode == 130, said
    assert "已中断" in said and "Traceback" not in said and "没有读到输入" not in said
    assert subprocess.run(["git", "status", "--porcelain"], cwd=store, capture_output=True, text=True).stdout == ""


def test_end_of_input_at_a_prompt_is_still_a_usage_error(store: Path) -> None:
    result = runner.invoke(app, ["new", "rule", "--layer", "CN"], input="")
    assert result.exit_code == 2 and "没有读到输入" in result.output


def test_shell_completion_is_offered_and_completes(tmp_path: Path) -> None:
    """Issue #21.10: --install-completion was refused."""
    exe = Path(sys.executable).parent / "twoku"
    # typer names the shell twoku runs in (the process that started it): here bash, whoever started pytest
    shown = subprocess.run(
        ["bash", "-c", f"'{exe}' --show-completion; true"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "_TWOKU_COMPLETE=complete_bash" in shown.stdout, shown.stderr
    env = {**os.environ, "_TWOKU_COMPLETE": "complete_bash", "COMP_WORDS": "twoku vali", "COMP_CWORD": "1"}
    done = subprocess.run([str(exe)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["validate"]
    env.update(COMP_WORDS="twoku validate --no-", COMP_CWORD="2")
    done = subprocess.run([str(exe)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "--no-cache" in done.stdout.split()


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("File 'x.csv' is not readable.", "文件 'x.csv' 不可读。"),
        ("5 is not in the range 1<=x<=3.", "5 不在 1<=x<=3 范围内。"),
        ("Invalid value for '--out': Path 'x' is a directory.", "'--out' 的取值无效：路径 'x' 是目录，应为文件。"),
        ("Missing option '--region' / '-r'.", "缺少选项 '--region' / '-r'。"),
        ("No such command 'valdate'. Did you mean 'validate'?", "没有命令 'valdate'，您是不是要用 'validate'？"),
        ("Something click may say one day.", "Something click may say one day."),  # unknown: left as it is
    ],
)
def test_what_click_says_is_translated_by_pattern(english: str, chinese: str) -> None:
    from twoku.cli.zh import said

    assert said(english) == chinese
