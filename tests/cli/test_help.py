"""Help and README cannot drift from the code: every command has Chinese help with examples,
and every command the README shows exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from twoku.cli import app

runner = CliRunner()
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: Any = None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    group = group or typer.main.get_command(app)
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


COMMANDS = _commands()


def test_there_are_commands() -> None:
    assert ("validate",) in COMMANDS and ("signoff", "record") in COMMANDS and len(COMMANDS) >= 20


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_chinese_help_with_an_example(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(r"[\u4e00-\u9fff]", result.output), "help should speak Chinese to bureau staff"
    assert "示例" in result.output, f"twoku {' '.join(path)} --help has no examples"
    assert f"twoku {' '.join(path)}" in result.output, "the examples should show the command itself"


def test_every_command_in_the_readme_exists() -> None:
    names = {" ".join(p) for p in COMMANDS} | {p[0] for p in COMMANDS}
    shown = set(re.findall(r"`twoku ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", README))
    missing = []
    for text in shown:
        words = text.split()
        if " ".join(words) not in names and words[0] not in names:
            missing.append(text)
    assert not missing, f"the README shows commands that do not exist: {missing}"


def test_every_top_level_command_is_in_the_readme() -> None:
    for name in sorted({p[0] for p in COMMANDS}):
        assert f"twoku {name}" in README, f"twoku {name} is not described in the README"


def test_help_lists_every_command_in_the_order_of_a_bureaus_work() -> None:
    from twoku.cli.application import COMMAND_ORDER

    top = sorted({p[0] for p in COMMANDS})
    assert sorted(COMMAND_ORDER) == top, "add new commands to COMMAND_ORDER in twoku/cli/application.py"
    output = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    positions = []
    for name in COMMAND_ORDER:
        found = re.search(rf"(?m)^[\W_]*{re.escape(name)}\s", output)
        assert found, name
        positions.append(found.start())
    assert positions == sorted(positions)
