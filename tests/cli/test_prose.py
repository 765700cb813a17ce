"""What institutions read states the region's values (issue 21.1): rule prose names parameters by
placeholder, and show and publish render it with the region's effective value and unit."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.storefactory import RULE_PATH, commit_all, write_files
from twoku.cli import app

runner = CliRunner()


def show(*args: str) -> str:
    result = runner.invoke(app, ["show", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_show_states_the_citys_values_not_the_national_numbers(shipped: Path) -> None:
    out = show("CN-R-0017", "--region", "510100")
    # 510000 sets 10 days, 510100 drops the same-diagnosis condition: the prose says so.
    assert "出院后10天内又在本院住院的（是否仅限同一疾病：否）" in out
    assert "15天内" not in out and "{{param" not in out
    assert "小于或等于10天（参数 readmission_days）" in out
    assert "true" not in out and "false" not in out


def test_show_renders_the_title_with_the_regions_value(shipped: Path) -> None:
    assert "间隔少于21天" in show("CN-R-0030", "--region", "510100")
    assert "间隔少于14天" in show("CN-R-0030")


def test_show_json_keeps_the_prose_as_written_beside_the_rendered_text(shipped: Path) -> None:
    result = runner.invoke(app, ["show", "CN-R-0023", "--region", "510000", "--format", "json"])
    point = json.loads(result.output)["fields"]["monitoring_point"]
    assert "{{param:growth_threshold_pct}}" in point["value"]
    assert "增长超过15%" in point["rendered"] and "上年同期" in point["rendered"]


def test_published_summary_states_the_regions_values(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "pub"
    result = runner.invoke(
        app, ["publish", "--public-summary", "--region", "510100", "--out", str(out), "--format", "md,json,html"]
    )
    assert result.exit_code == 0, result.output
    md = next(out.glob("*.md")).read_text(encoding="utf-8")
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    rules = {r["id"]: r for r in json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))["rules"]}
    assert "### CN-R-0030 医疗服务项目周期超频次（间隔少于21天）" in md
    assert "同一患者在21天内重复做同一项目的" in md
    assert "增长超过15%的" in md and "超过20%" not in md
    assert "出院后10天内" in rules["CN-R-0017"]["monitoring_point"]
    assert rules["CN-R-0030"]["name"].endswith("少于21天）")
    for text in (md, html, json.dumps(rules, ensure_ascii=False)):
        assert "{{param" not in text
    assert "true" not in md and "false" not in md


def test_a_store_with_placeholder_prose_renders_each_layers_value(store: Path) -> None:
    text = (store / RULE_PATH).read_text(encoding="utf-8")
    write_files(
        store,
        {
            RULE_PATH: text.replace(
                "definition: 参保人出院后短期内再次入院。",
                "definition: 出院后{{param:readmission_days}}内再次入院（同一诊断：{{param:same_diagnosis_only}}）。",
            )
        },
    )
    commit_all(store)
    assert "出院后10天内再次入院（同一诊断：是）" in show("CN-R-0001", "--region", "510000")
    assert "出院后15天内再次入院（同一诊断：是）" in show("CN-R-0001")


def test_the_change_section_of_a_publication_states_the_regions_values(shipped: Path, tmp_path: Path) -> None:
    from tests.cli.test_publish import argued_again, data_of, dump, load, publish

    rule_30 = "national/rules/service-policy/CN-R-0030.yaml"
    publish("--region", "510100", "--as-of", "2027-06-30", out=tmp_path / "first")
    rule = load(shipped, rule_30)
    rule["monitoring_point"] = rule["monitoring_point"].replace("后一次检查费用", "后一次检查的费用")
    rule["condition"]["all"].append({"field": "amount", "op": "gt", "value": 0})
    dump(shipped, rule_30, rule)
    argued_again(shipped, rule_30)
    commit_all(shipped, "监控要点措辞")
    again = publish("--region", "510100", "--as-of", "2027-07-01", out=tmp_path / "second")
    changes = {c["id"]: c for c in data_of(again)["changes"]}
    fields = {f["label"]: f for f in changes["CN-R-0030"]["fields"]}
    assert "同一患者在21天内重复做同一项目的，后一次检查的费用" in fields["监控要点"]["new"]
    assert changes["CN-R-0030"]["title"].endswith("少于21天）")
    section = again["md"].decode("utf-8").split("## 变更情况")[1]
    assert "{{param" not in section and "21天内" in section
    assert "可执行条件：已修改（详见规则）" in section and "amount" not in section
