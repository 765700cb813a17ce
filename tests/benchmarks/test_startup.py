"""`twoku --help` starts fast: the list of commands in plain text, each command's help still rich."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_twoku


def test_root_help_lists_every_command_in_chinese_without_rich(tmp_path: Path) -> None:
    result = run_twoku("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "两库（医保基金智能审核和监控知识库、规则库）管理工具" in result.stdout
    for command in ("validate", "diff", "publish", "signoff", "adjust", "override"):
        assert f"\n  {command} " in result.stdout
    assert "╭" not in result.stdout  # plain text: no rich panels
    sub = run_twoku("validate", "--help", cwd=tmp_path)
    assert sub.returncode == 0 and "╭" in sub.stdout and "--no-cache" in sub.stdout
