"""Every check against its bad and good cases (tests/checks/cases/*.yaml).

A case writes files into a small valid store (a real git repository) and lists
exactly the findings expected: code, path and line.  Removing a check makes its bad
cases fail; a check that fires on good files makes the good cases fail.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.fakes import fill
from tests.storefactory import Symlink, make_store
from twoku.checks import CHECKS
from twoku.model import tables
from twoku.ops.validate import validate

CASES_DIR = Path(__file__).parent / "cases"
TODAY = dt.date(2026, 6, 1)


def _load_cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")):
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


CASES = _load_cases()


def _content(value: Any) -> str | bytes | None:
    if isinstance(value, bytes) or value is None:
        return value
    if isinstance(value, dict) and "base64" in value:
        return base64.b64decode(value["base64"])
    if isinstance(value, dict) and "symlink" in value:
        return Symlink(value["symlink"])
    return fill(str(value))  # personal-data look-alikes are made here, never stored (tests/fakes.py)


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (case.get("tables") or {}).items():  # limits of model/tables.py, made small
        monkeypatch.setattr(tables, name, value)
    files = {k: _content(v) for k, v in (case.get("files") or {}).items()}
    root = make_store(tmp_path / "store", files)
    report = validate(root, today=TODAY)
    got = sorted((f.code, f.path, f.line) for f in report.findings if f.counts or case.get("include_waived"))
    want = sorted((e["code"], e["path"], e.get("line")) for e in case["expect"])
    assert got == want, "\n".join(f"{f.code} {f.path}:{f.line} {f.message}" for f in report.findings)


def test_every_check_has_a_bad_case() -> None:
    covered = {e["code"] for case in CASES for e in case.values[0]["expect"]}
    missing = sorted(set(CHECKS) - covered)
    assert not missing, f"checks without a bad case in tests/checks/cases: {missing}"


def test_every_check_is_documented() -> None:
    for check in CHECKS.values():
        assert check.doc and check.name and check.code.startswith("TK"), check
