"""``twoku validate`` run by main() without typer's parsing answers exactly as through typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_twoku
from tests.storefactory import write_files

BROKEN_LAW = (
    "id: CN-K-0003\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\neffective: 2025-01-01\nexpires: 2024-12-31\n"
)
THROUGH_TYPER = "import sys; from twoku.cli import app; sys.argv[0] = 'twoku'; app()"


def _through_typer(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    cmd = [sys.executable, "-c", THROUGH_TYPER, *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        ("validate",),
        ("validate", "--format", "json", "--region", "510100", "--no-cache"),
        ("validate", "national", "-f", "sarif", "--strict"),
        ("validate", "-r", "99x"),  # a usage error from the command itself (exit 2)
        ("validate", "--format", "xml"),  # not a plain form: typer's own answer
    ],
)
def test_direct_validate_answers_as_typer_does(store: Path, args: tuple[str, ...]) -> None:
    write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW})
    direct = run_twoku(*args, cwd=store)
    typed = _through_typer(*args, cwd=store)
    assert (direct.returncode, direct.stdout, direct.stderr) == (typed.returncode, typed.stdout, typed.stderr)
    assert direct.returncode in (1, 2)  # the broken law is an error, a bad option a usage error


def test_a_plain_validate_does_not_import_pydantic(store: Path) -> None:
    code = (
        "import sys; sys.argv = ['twoku', 'validate', '--format', 'json']\n"
        "from twoku.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0, done.code\n"
        "assert 'pydantic' not in sys.modules, 'typer parsed the arguments'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=store, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout
