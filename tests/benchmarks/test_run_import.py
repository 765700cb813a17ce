"""The import benchmark runs end to end on small sizes (its figures are for the README, not asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_import_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run_import.py"), "--points", "300", "--codes", "2000"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "import nhsa, 300 rows" in done.stdout and "import codes, 2,000 rows" in done.stdout
