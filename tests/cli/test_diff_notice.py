"""``diff --format md``, the publishable change notice (issue 21.4): it discloses what publish
discloses, reads as prose, states the region's values and agrees with ``signoff status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tests.storefactory import commit_all, digest_of, write_files
from twoku.cli import app

runner = CliRunner()
RULE_17 = "national/rules/actor-supervision/CN-R-0017.yaml"
RULE_30 = "national/rules/service-policy/CN-R-0030.yaml"


def notice(*args: str) -> str:
    result = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def values_to_society(root: Path) -> None:
    """The store publishes its thresholds to society too (twoku.yaml ``disclosure``; by default they are withheld)."""
    config = root / "twoku.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "disclosure:\n  parameters: society\n", encoding="utf-8")


def edit(root: Path, rel: str, change: Any) -> None:
    data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    change(data)
    write_files(root, {rel: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})


def rebind(root: Path, rel: str) -> None:
    """What re-argumentation leaves: the rule's records and overrides bound to its present content."""
    rule_id, digest = (
        yaml.safe_load((root / rel).read_text(encoding="utf-8"))["id"],
        digest_of((root / rel).read_text(encoding="utf-8")),
    )
    for path in [*root.glob("argumentation/*.yaml"), *root.glob("provincial/**/overrides/*.yaml")]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for subject in data.get("subjects") or []:
            if subject["id"] == rule_id:
                subject["digest"] = digest
        if data.get("target") == rule_id:
            data["base_digest"] = digest
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def signoff_states(rule_id: str) -> set[str]:
    data = json.loads(runner.invoke(app, ["signoff", "status", "--format", "json"]).stdout)
    (rule,) = [r for r in data["rules"] if r["id"] == rule_id]
    return {k["state"] for k in rule["kinds"].values()}


def _rewrite_17(data: dict[str, Any]) -> None:
    data["logic"] += "6. 内部口径：按病组核对。\n"
    data["condition"]["all"].append({"field": "fund_amount", "op": "gt", "value": 0})
    data["examples"][0]["name"] = "改名的用例"
    data["focus"] = ["阈值复杂"]
    data["notes"] = "内部备注：待与卫健委核对"
    data["violations"].append("出院当日又在本院办理入院")


def test_the_notice_to_society_shows_only_what_publish_shows_society(shipped: Path) -> None:
    edit(shipped, RULE_17, _rewrite_17)
    commit_all(shipped)
    md = notice()
    assert "### CN-R-0017 分解住院" in md
    assert "- **具体违规情形** 新增：出院当日又在本院办理入院" in md
    for withheld in ("内部口径", "判断逻辑", "可执行条件", "改名的用例", "line_id", "论证重点", "内部备注", "notes"):
        assert withheld not in md, withheld
    assert "|" not in md  # prose, not table cells


def test_the_notice_to_institutions_names_a_changed_condition_without_dumping_it(shipped: Path) -> None:
    edit(shipped, RULE_17, _rewrite_17)
    commit_all(shipped)
    md = notice("--audience", "institutions")
    assert "6. 内部口径：按病组核对。" in md  # the logic is theirs to read (第十二条)
    assert "- **可执行条件**：已修改（内容较长，详见规则文件）" in md
    assert "fund_amount" not in md and "改名的用例" not in md and "line_id" not in md
    assert "内部备注" not in md


def test_reargue_agrees_with_signoff_status(shipped: Path) -> None:
    edit(shipped, RULE_30, lambda d: d.update(monitoring_point=d["monitoring_point"] + "急诊除外。\n"))
    commit_all(shipped)
    assert "stale" in signoff_states("CN-R-0030")
    md = notice()
    assert "需重新论证" in md and "CN-R-0030" in md.split("## 需重新论证", 1)[1]
    rebind(shipped, RULE_30)  # argued again: the records now cover the present content
    commit_all(shipped)
    assert signoff_states("CN-R-0030") == {"current"}
    both = runner.invoke(app, ["diff", "--since", "HEAD~2", "--format", "md"]).stdout
    assert "### CN-R-0030" in both and "需重新论证" not in both
    item = next(
        i
        for i in json.loads(runner.invoke(app, ["diff", "--since", "HEAD~2", "--format", "json"]).stdout)["items"]
        if i["id"] == "CN-R-0030"
    )
    assert item["reargue"] is False


def test_the_notice_withholds_the_values_from_society_by_default(shipped: Path) -> None:
    edit(shipped, RULE_30, lambda d: d.update(monitoring_point=d["monitoring_point"] + "急诊除外。\n"))
    commit_all(shipped)
    city = notice("--region", "510100")
    assert "### CN-R-0030 医疗服务项目周期超频次（间隔少于（阈值向定点医药机构公开））" in city
    assert "21天" not in city and "14天" not in city and "{{param" not in city
    assert "21天" in notice("--region", "510100", "--audience", "institutions")


def test_the_notice_states_the_regions_values(shipped: Path) -> None:
    values_to_society(shipped)
    edit(shipped, RULE_30, lambda d: d.update(monitoring_point=d["monitoring_point"] + "急诊除外。\n"))
    commit_all(shipped)
    city = notice("--region", "510100")
    assert "### CN-R-0030 医疗服务项目周期超频次（间隔少于21天）" in city
    assert "> 同一患者在21天内重复做同一项目的" in city and "{{param" not in city
    national = notice()
    assert "> 同一患者在14天内重复做同一项目的" in national


def test_a_yes_no_value_reads_as_shi_fou_in_every_format(shipped: Path) -> None:
    override = "provincial/510000/municipal/510100/overrides/510100-O-0002.yaml"
    values_to_society(shipped)
    edit(shipped, override, lambda d: d["parameters"].update(same_diagnosis_only=True))
    commit_all(shipped)
    text = runner.invoke(app, ["diff", "--since", "HEAD~1"]).stdout
    assert "parameters.same_diagnosis_only：否 → 是" in text
    assert "- **本地参数 › same_diagnosis_only**：否 → 是" in notice()
    for out in (text, notice()):
        assert "True" not in out and "False" not in out and "true" not in out and "false" not in out
