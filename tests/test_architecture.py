"""The layer boundaries of DESIGN.md, as import-linter contracts, and packaging."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower() or "0 broken" in result.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\nfrom twoku.cli import app\n"
        "heavy = [m for m in ('jsonschema', 'ruamel.yaml', 'git', 'yaml', 'rich.table') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    return next(out.glob("twoku-*.whl"))


def test_wheel_ships_the_schemas(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("rule", "knowledge", "override", "argumentation", "adjustment", "store"):
        assert f"twoku/schema/{name}.schema.json" in names


def test_wheel_ships_the_publish_page(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("template.html", "style.css", "app.js"):
        assert f"twoku/render/publish/{name}" in names


def test_installed_package_finds_its_schemas(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = "from twoku.store.schema.schemas import schema_dir; print(schema_dir())"
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert Path(out.stdout.strip()) == target / "twoku" / "schema"


def test_the_package_imports_only_its_declared_dependencies() -> None:
    """A user's install has only what pyproject.toml declares (typer, for one, no longer brings click)."""
    import ast
    import tomllib

    declared = {"typer", "rich", "ruamel", "yaml", "git", "jsonschema", "openpyxl", "fastjsonschema"}
    declared |= {"duckdb", "sqlglot"}  # the rule engine (twoku/engine)
    declared |= {"re2"}  # google-re2: store data's regular expressions in linear time (twoku/model/regex.py)
    declared |= {"python_calamine"}  # twoku import's .xlsx/.xls reader (twoku/store/workbook.py)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert len(project["dependencies"]) == len(declared)
    allowed = declared | set(sys.stdlib_module_names) | {"twoku"}
    # an optional extra is imported by its one module, and only inside functions that ask for it first
    optional = {"pyspark": ("twoku/engine/spark.py", "twoku/engine/submit.py")}  # submit.py: a bundle's driver
    assert any(d.startswith("pyspark") for d in project["optional-dependencies"]["spark"])
    for path in (REPO / "twoku").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top, here = name.split(".")[0], path.relative_to(REPO).as_posix()
                assert top in allowed or here in optional.get(top, ()), f"{here} imports {name}"
    for module in optional["pyspark"]:  # twoku imports without the extra
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not [n for n in top_level if "pyspark" in ast.unparse(n)], module


def test_nothing_below_the_cli_prints() -> None:
    """Output is the cli's (DESIGN.md): no module of the layers below writes to the terminal itself — render/
    writes to the console it is given, and the store logs what the user must hear (cli/console.show_notices).
    engine/submit.py is the standalone script of a Spark bundle: its main is its own command line."""
    import ast

    package = Path(__file__).resolve().parents[1] / "twoku"
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith("cli/") or rel == "engine/submit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            if named and node.value.id == "sys" and node.attr in ("stdout", "stderr"):  # type: ignore[attr-defined]
                found.append(f"{rel}:{node.lineno} sys.{node.attr}")  # type: ignore[attr-defined]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{rel}:{node.lineno} print()")
    assert not found, found
