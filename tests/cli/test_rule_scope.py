"""Where a rule applies (schema 2): 就医场景, 时间区间, 机构, 险种, 监管对象, 建议阈值 — written by new, shown by show,
published to whom the schema says; --scenario keeps its spelling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.storefactory import CONFIG, RULE, RULE_PATH, make_store
from twoku.cli import app

runner = CliRunner()
OVERRIDE_PATH = "provincial/510000/overrides/510000-O-0001.yaml"
SCOPE = """\
scenarios: [住院]
period: {unit: 天数, length: 15, note: 自出院之日起算}
institutions: {levels: [二级, 三级], types: [医院]}
insurance_types: [职工基本医疗保险]
supervised: [定点医疗机构]
suggested_threshold: 出院后{{param:readmission_days}}内再次入院即提示
"""
OVERRIDE = """\
id: 510000-O-0001
target: CN-R-0001
base_digest: {digest_of:national/rules/actor-supervision/CN-R-0001.yaml}
parameters:
  readmission_days: 10
uses: [协议考核]
scenarios: [门诊]
reason: 本省协议管理要求更严。
status: 生效
"""


@pytest.fixture
def scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rule = RULE.replace("stages: [事后]", SCOPE + "stages: [事后]").replace("status: 已论证", "status: 生效")
    waiver = "waivers:\n  - {code: TK603, id: CN-R-0001, reason: 测试库不记录论证, expires: 2099-01-01}\n"
    config = CONFIG + waiver
    root = make_store(tmp_path / "store", {"twoku.yaml": config, RULE_PATH: rule, OVERRIDE_PATH: OVERRIDE})
    monkeypatch.chdir(root)
    return root


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_show_gives_each_field_in_words_and_the_override_adds_uses_and_settings(scoped: Path) -> None:
    fields: dict[str, Any] = json.loads(invoke("show", "CN-R-0001", "--region", "510000", "--format", "json"))["fields"]
    assert fields["uses"]["value"] == ["支付审核", "稽核", "协议考核"] and fields["uses"]["layer"] == "510000"
    assert fields["scenarios"]["value"] == ["住院", "门诊"] and fields["scenarios"]["source"] == "510000-O-0001"
    assert fields["suggested_threshold"]["rendered"] == "出院后10天内再次入院即提示"  # the province's value
    text = invoke("show", "CN-R-0001", "--region", "510000")
    for words in (
        "就医场景",
        "时间区间",
        "15天内（自出院之日起算）",
        "级别：二级、三级；类型：医院",
        "监管对象",
        "建议阈值",
    ):
        assert words in text, words
    listed = invoke("ls", "overrides", "--region", "510000")
    assert "增加应用场景：协议考核" in listed and "增加就医场景：门诊" in listed


def test_publish_shows_where_a_rule_applies_and_keeps_the_threshold_from_society(scoped: Path, tmp_path: Path) -> None:
    for audience, threshold in (("society", False), ("institutions", True)):
        out = tmp_path / audience
        invoke("publish", "--public-summary", "--region", "510000", "--audience", audience, "--out", str(out))
        md = next(out.glob("*.md")).read_text(encoding="utf-8")
        assert "- 应用场景：支付审核、协议考核、稽核" in md
        assert "- 就医场景：门诊、住院" in md and "- 时间区间：15天内（自出院之日起算）" in md
        assert "- 医疗机构级别：二级、三级" in md and "- 参保险种：职工基本医疗保险" in md
        assert ("- 建议阈值：出院后10天内再次入院即提示" in md) is threshold
        rule = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))["rules"][0]
        assert rule["uses"] == ["支付审核", "协议考核", "稽核"] and rule["scenarios"] == ["门诊", "住院"]
        assert (rule["suggested_threshold"] is not None) is threshold
        html = next(out.glob("*.html")).read_text(encoding="utf-8")
        assert 'id="f-setting"' in html and '<option value="住院">住院</option>' in html
        assert 'data-uses="支付审核|协议考核|稽核"' in html and 'data-settings="门诊|住院"' in html


def test_new_rule_scenario_takes_a_use_or_a_care_setting(scoped: Path) -> None:
    args = ["new", "rule", "--layer", "CN", "--category", "行为主体监管类", "--name", "挂床住院", "--no-input"]
    out = invoke(*args, "--scenario", "稽核", "--scenario", "住院", "--basis", "CN-K-0001", "--format", "json")
    text = (scoped / json.loads(out)["path"]).read_text(encoding="utf-8")
    assert "\nuses:  # 应用场景，第十九条" in text and "\n  - 稽核\nscenarios:\n  - 住院\n" in text
    wrong = invoke(*args, "--scenario", "稽查", "--basis", "CN-K-0001", code=2)
    assert "不是应用场景，也不是就医场景" in wrong and "异地就医" in wrong
