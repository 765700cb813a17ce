"""Issue #21.10: a long cold validate or run shows progress on stderr, on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.cli.test_claimfile import ENGLISH, ROWS, _csv


def _twoku(args: list[str], cwd: Path, terminal: bool) -> tuple[int, str, str]:
    """twoku in its own process, its stderr a terminal (a pty) or a pipe; (exit code, stdout, stderr)."""
    exe = Path(sys.executable).parent / "twoku"
    env = {**os.environ, "TWOKU_PROGRESS_DELAY": "0", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    if not terminal:
        done = subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(exe), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    assert proc.stdout is not None
    out, err = b"", b""
    streams = {proc.stdout.fileno(): "out", master: "err"}
    while streams:
        ready, _, _ = select.select(list(streams), [], [], 300)
        assert ready, "twoku did not finish"
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the pty closes with the process
                data = b""
            if not data:
                del streams[fd]
            elif streams[fd] == "out":
                out += data
            else:
                err += data
    os.close(master)
    return proc.wait(timeout=60), out.decode("utf-8"), err.decode("utf-8", "replace")


def test_run_shows_its_rules_progress_on_a_terminal_only(shipped: Path, tmp_path: Path) -> None:
    claims = str(_csv(tmp_path / "c.csv", ENGLISH, ROWS))
    args = ["run", "--claims", claims, "--region", "510000", "--format", "json"]
    code, out, err = _twoku(args, shipped, terminal=True)
    assert code == 0, err
    assert "运行规则" in err and "Traceback" not in err
    assert json.loads(out)["lines"] == 2  # stdout stays the data alone
    code, out, err = _twoku(args, shipped, terminal=False)
    assert code == 0 and "运行规则" not in err and json.loads(out)["lines"] == 2


def test_a_cold_validate_of_a_big_store_shows_files_read(tmp_path: Path) -> None:
    from tests.benchmarks.test_generate import _generator

    gen = _generator()
    root = tmp_path / "big"
    gen.generate(root, 500, 1700)
    code, out, err = _twoku(["validate", "--no-cache"], root, terminal=True)
    assert "读取并检查文件" in err, err
    assert "全部通过" in out and code == 0
    code, out, err = _twoku(["validate", "--no-cache"], root, terminal=False)
    assert "读取并检查文件" not in err and code == 0
