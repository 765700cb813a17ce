"""A short, bounded coverage-guided fuzz run of the reader, as part of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is in the test extra; install it to fuzz")

HERE = Path(__file__).parent
NATIONAL = Path(__file__).resolve().parents[2] / "national"


def test_fuzz_reader_for_a_few_seconds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = sorted((NATIONAL / "rules").rglob("*.yaml"))[:8] + sorted((NATIONAL / "knowledge").rglob("*.yaml"))[:8]
    for n, path in enumerate(seeds):
        (corpus / f"seed{n}").write_bytes(b"\x01" + path.read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "fuzz_read.py"),
            "-max_total_time=5",
            "-rss_limit_mb=1024",
            "-max_len=4096",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    tail = result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert "Done" in result.stderr and "runs in" in result.stderr, tail
