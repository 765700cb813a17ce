"""``twoku validate`` run by main() without typer's parsing answers exactly as through typer."""

from __future__ import annotations

import json
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


def test_a_plain_validate_does_not_import_typer_or_pydantic(store: Path) -> None:
    # The process may end with the command (os._exit, twoku.ops.lifetime): what it imported is told then.
    code = (
        "import os, sys; sys.argv = ['twoku', 'validate', '--format', 'json']\n"
        "end = os._exit\n"
        "def told(code):\n"
        "    print('imported:', sorted({'typer', 'pydantic'} & set(sys.modules)), code, flush=True)\n"
        "    end(code)\n"
        "os._exit = told\n"
        "from twoku.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    told(done.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=store, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout
    assert "imported: [] 0" in result.stdout  # neither typer (nor its pydantic) was imported


BIG_STORE_RUN = (
    "import sys; sys.argv = ['twoku', *sys.argv[1:]]\n"
    "from twoku.ops import reading\n"
    "reading.PARALLEL_FROM = 2  # the small store counts as a big one: parsed in parallel, its library kept\n"
    "from twoku.cli import main\n"
    "try:\n    main()\nfinally:\n    print('after main')\n"
)


@pytest.mark.parametrize(("broken", "code"), [(False, 0), (True, 1)])
def test_a_big_store_run_ends_at_once_with_its_whole_output_and_exit_code(store: Path, broken: bool, code: int) -> None:
    # What a big store's validate built is left for the process's end (twoku.ops.lifetime): the process
    # ends right after the command, with everything it wrote flushed and the command's exit code.
    if broken:
        write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW})
    args = ("validate", "--format", "json", "--no-cache")
    cmd = [sys.executable, "-c", BIG_STORE_RUN, *args]
    ended = subprocess.run(cmd, cwd=store, capture_output=True, text=True, timeout=120)
    assert ended.returncode == code, ended.stderr
    assert "after main" not in ended.stdout  # ended by the command, not by returning through main()
    assert json.loads(ended.stdout)["summary"]["ok"] is not broken  # the whole report, flushed
    assert json.loads(ended.stdout) == json.loads(run_twoku(*args, cwd=store).stdout)


def test_nothing_is_kept_for_an_end_when_twoku_is_used_in_a_running_program(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twoku.ops import lifetime, reading
    from twoku.ops.validate import load_store

    monkeypatch.setattr(reading, "PARALLEL_FROM", 2)
    assert load_store(store, use_cache=False).library.items
    assert not lifetime.kept()  # freed as usual: only the console script ends its process with the command
