"""Terminal tables at 80 and 120 columns (issue 21.7): IDs never cut, long text wraps, nothing
ends in "…"; show leaves the condition and examples to --all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twoku.cli import app

runner = CliRunner()
ID = re.compile(r"(?:CN|[0-9]{6})-[RKOA]-[0-9]{4}")


def run(*args: str, columns: int) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    assert not re.search(r"…(\s|$)", result.output, re.MULTILINE)  # rich's mark of a cut cell
    assert all(len(line) <= columns for line in result.output.splitlines())  # cells, at least as wide
    return result.output


@pytest.mark.parametrize("columns", [80, 120])
def test_signoff_status_shows_every_rule_and_record_id_whole(shipped: Path, columns: int) -> None:
    out = run("signoff", "status", "--region", "510100", columns=columns)
    data = json.loads(runner.invoke(app, ["signoff", "status", "--region", "510100", "--format", "json"]).stdout)
    wanted = {r["id"] for r in data["rules"]} | {
        rec for r in data["rules"] for k in r["kinds"].values() for rec in k["records"][-2:]
    }
    assert wanted <= set(ID.findall(out))
    assert "510100-A-0001" in out and "510100-R-0001" in out


@pytest.mark.parametrize("columns", [80, 120])
def test_checks_wraps_every_description_to_its_end(shipped: Path, columns: int) -> None:
    from twoku.checks import CHECKS

    out = run("checks", columns=columns)
    joined = "".join(out.split())  # the description is the last column: its wrapped lines join up
    for check in CHECKS.values():
        assert re.search(rf"^\s*{check.code} ", out, re.MULTILINE), check.code
        assert "".join(check.summary.split())[-8:] in joined, check.code  # wrapped to its end, not cut


@pytest.mark.parametrize("columns", [80, 120])
def test_ls_overrides_names_the_rule_and_the_local_values(shipped: Path, columns: int) -> None:
    out = run("ls", "overrides", "--region", "510100", columns=columns)
    for override, target in (("510000-O-0003", "CN-R-0030"), ("510100-O-0001", "510000-R-0001")):
        assert re.search(rf"^\s*{override} +(省级|市级)", out, re.MULTILINE)
        assert target in out
    assert "21天" in out and "协议考核" in out
    assert "本省（示例）" not in out  # the reasons (paragraphs) are show's, not the listing's


def test_show_wraps_definition_and_logic_and_leaves_examples_to_all(shipped: Path) -> None:
    out = run("show", "CN-R-0030", "--region", "510100", columns=120)
    assert "由基金支付的行" in out and "由审核人员按明细核对。" in out  # the ends of the definition and the logic
    assert "第1天和第8天各做一次糖化血红蛋白测定，后一次命中" not in out and "days_since_previous" not in out
    assert "未显示：可执行条件、用例（2 个）；用 --all 显示" in out
    everything = run("show", "CN-R-0030", "--region", "510100", "--all", columns=120)
    assert "第1天和第8天各做一次糖化血红蛋白测定" in everything and "days_since_previous" in everything
    narrow = run("show", "CN-R-0017", "--region", "510100", columns=80)
    assert "CN-K-0037" in narrow and "readmission_days" in narrow


def test_show_of_an_override_and_of_knowledge_reads_values_as_words(shipped: Path) -> None:
    out = run("show", "510100-O-0002", columns=80)
    assert "510100-O-0002  本地化 CN-R-0017" in out
    assert "same_diagnosis_only: 否" in out and "false" not in out
    knowledge = run("show", "CN-K-0023", columns=80)
    assert "最短间隔天数: 14" in knowledge and "{" not in knowledge
