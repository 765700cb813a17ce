from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.storefactory import commit_all, init_repo, make_store

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("twoku.yaml", "national", "provincial", "argumentation", "adjustments")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOKU_CACHE_DIR", str(tmp_path / "_cache"))
    monkeypatch.setenv("TWOKU_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small valid store in a real git repository; the working directory is its root."""
    root = make_store(tmp_path / "store")
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def _shipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shipped") / "store"
    root.mkdir()
    for name in SHIPPED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        elif src.is_file():
            shutil.copy2(src, root / name)
    init_repo(root)
    commit_all(root, "参考库")
    return root


@pytest.fixture
def shipped(_shipped_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the store this repository ships, as its own git repository."""
    root = tmp_path / "shipped"
    shutil.copytree(_shipped_template, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def run_twoku(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """twoku as a user runs it: a separate process, the installed console script."""
    exe = Path(sys.executable).parent / "twoku"
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "twoku", *args]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
