"""``twoku test --region``: examples run with a region's effective parameters (issue 21.8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_twoku
from tests.storefactory import commit_all, write_files

RULE_30 = "national/rules/service-policy/CN-R-0030.yaml"


def examples_of(out: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["rule"], e["name"]): e for e in json.loads(out)["examples"]}


def test_an_example_for_the_upper_value_is_reported_as_depending_on_the_local_one(shipped: Path) -> None:
    result = run_twoku("test", "--region", "510100", cwd=shipped)
    assert result.returncode == 0, result.stdout + result.stderr  # not a failure
    out = result.stdout
    assert "按 成都市（示例）（510100）的生效取值运行用例" in out
    assert "≈ CN-R-0030 间隔恰为14天不命中" in out
    assert "min_interval_days 在本地为 21天（四川省（示例） 510000-O-0003 设定），用例按规则本层的 14天 写成" in out
    assert "本地不应命中而命中：L2" in out
    assert "0 个失败" in out and "Traceback" not in result.stderr


def test_json_names_only_the_parameter_that_changes_the_outcome(shipped: Path) -> None:
    result = run_twoku("test", "--region", "510100", "--format", "json", cwd=shipped)
    assert result.returncode == 0, result.stderr
    examples = examples_of(result.stdout)
    gap = examples[("CN-R-0030", "间隔恰为14天不命中；已退费的检查不计")]
    assert not gap["passed"] and gap["unexpected"] == ["L2"]
    assert [(d["name"], d["rule_value"], d["local_value"]) for d in gap["depends_on"]] == [
        ("min_interval_days", "14天", "21天")
    ]
    # CN-R-0017 in 510100: 10 days (province) and any diagnosis (city); only the latter matters here.
    readmit = next(e for (rule, _), e in examples.items() if rule == "CN-R-0017" and not e["passed"])
    assert [d["name"] for d in readmit["depends_on"]] == ["same_diagnosis_only"]
    assert json.loads(result.stdout)["depends_on_local_values"] == 2


def test_without_region_the_rules_own_values_hold(shipped: Path) -> None:
    result = run_twoku("test", "CN-R-0030", "--format", "json", cwd=shipped)
    assert result.returncode == 0 and all(e["passed"] for e in json.loads(result.stdout)["examples"])


def test_an_example_wrong_whatever_the_values_is_a_plain_failure(shipped: Path) -> None:
    data = yaml.safe_load((shipped / RULE_30).read_text(encoding="utf-8"))
    data["examples"][0]["hits"] = []  # L2 on day 8 hits under 14 and 21 days alike
    write_files(shipped, {RULE_30: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})
    commit_all(shipped)
    result = run_twoku("test", "CN-R-0030", "--region", "510100", "--format", "json", cwd=shipped)
    assert result.returncode == 1
    first = examples_of(result.stdout)[("CN-R-0030", data["examples"][0]["name"])]
    assert not first["passed"] and "depends_on" not in first
    text = run_twoku("test", "CN-R-0030", "--region", "510100", cwd=shipped).stdout
    assert "✗ CN-R-0030 第1天和第8天" in text and "1 个失败" in text


def test_a_rule_outside_the_region_is_refused(shipped: Path) -> None:
    result = run_twoku("test", "510100-R-0001", "--region", "510000", cwd=shipped)
    assert result.returncode == 2
    assert "510100-R-0001 不在 510000 的生效库中" in result.stderr and "Traceback" not in result.stderr
