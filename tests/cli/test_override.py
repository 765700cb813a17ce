"""twoku override rebase: show the upper rule's change, refuse values out of the new bounds, re-bind."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.storefactory import RULE, RULE_PATH, commit_all, digest_of, git
from twoku.cli import app

runner = CliRunner()
OVERRIDE_PATH = "provincial/510000/overrides/510000-O-0001.yaml"


def edit_rule(root: Path, old: str, new: str) -> str:
    path = root / RULE_PATH
    text = path.read_text(encoding="utf-8").replace(old, new)
    path.write_text(text, encoding="utf-8")
    commit_all(root, "修改上级规则")
    return text


def codes(root: Path) -> set[str]:
    report = json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)
    return {f["code"] for f in report["findings"]}


def test_rebase_shows_the_change_and_rebinds_keeping_the_layout(store: Path) -> None:
    path = store / OVERRIDE_PATH
    path.write_text("# 本省说明\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    commit_all(store, "注释")
    new_rule = edit_rule(store, "      max: 30", "      max: 20")
    assert "TK506" in codes(store)
    before = path.read_text(encoding="utf-8")
    result = runner.invoke(app, ["override", "rebase", "510000-O-0001"])
    assert result.exit_code == 0, result.output
    assert "parameters.readmission_days.localisable.max：30 → 20" in result.output
    after = path.read_text(encoding="utf-8")
    assert after == before.replace(digest_of(RULE), digest_of(new_rule))  # only the digest changed
    assert "TK506" not in codes(store)


def test_rebase_refuses_values_outside_the_new_bounds(store: Path) -> None:
    edit_rule(store, "      min: 7", "      min: 12")  # the province's 10 is now too low
    before = (store / OVERRIDE_PATH).read_bytes()
    result = runner.invoke(app, ["override", "rebase", "510000-O-0001"])
    assert result.exit_code == 1
    assert "readmission_days：取值 10 低于下限 12（现允许 12～30天）" in result.output
    assert (store / OVERRIDE_PATH).read_bytes() == before


def test_rebase_refuses_a_parameter_the_rule_no_longer_has(store: Path) -> None:
    edit_rule(store, "readmission_days", "readmit_days")
    result = runner.invoke(app, ["override", "rebase", "510000-O-0001"])
    assert result.exit_code == 1 and "上级规则已没有这个参数" in result.output


def test_rebase_dry_run_and_json(store: Path) -> None:
    edit_rule(store, "value: 15", "value: 14")
    result = runner.invoke(app, ["override", "rebase", "510000-O-0001", "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["written"] is False and out["changes"] == ["parameters.readmission_days.value：15 → 14"]
    assert git(store, "status", "--porcelain") == ""


def test_rebase_when_nothing_changed_and_unknown_ids(store: Path) -> None:
    result = runner.invoke(app, ["override", "rebase", "510000-O-0001"])
    assert result.exit_code == 0 and "无需重新绑定" in result.output
    assert runner.invoke(app, ["override", "rebase", "CN-R-0001"]).exit_code == 2
    assert runner.invoke(app, ["override", "rebase", "510000-O-0009"]).exit_code == 2
