"""twoku diff: per-item changes between two revisions of a real git store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.storefactory import RULE, RULE_PATH, commit_all, git, write_files
from twoku.cli import app

runner = CliRunner()

NEW_RULE = """\
id: CN-R-0002
name: 挂床住院
category: 行为主体监管类
definition: 参保人住院期间长时间离开医院。
logic: 住院期间无诊疗记录的天数超过 absent_days 的，判为可疑。
parameters:
  absent_days:
    value: 3
    unit: 天
    description: 无诊疗记录天数
uses: [稽核]
stages: [事后]
level: 可疑
basis:
  - id: CN-K-0001
    article: 第十五条
status: 草稿
"""
REFORMATTED_RULE = (
    RULE.replace("name: 分解住院", 'name: "分解住院"')
    .replace("uses: [支付审核, 稽核]", "uses:\n    - 稽核\n    - '支付审核'")
    .replace("  readmission_days:\n    value: 15", "  readmission_days:\n    value:   15")
)
ANNUAL = "id: CN-annual-2025\nkind: 年度调整\nregion: CN\nyear: 2025\ntitle: 2025年度调整\nstatus: {status}\n"


def diff_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["diff", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in data["items"]}


def head(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", rev).strip()


def change_rule(root: Path, text: str, message: str = "修改规则") -> None:
    write_files(root, {RULE_PATH: text})
    commit_all(root, message)


def test_modified_threshold_and_new_scenario(store: Path) -> None:
    change_rule(store, RULE.replace("value: 15", "value: 12").replace("[支付审核, 稽核]", "[支付审核, 稽核, 协议考核]"))
    item = by_id(diff_json("--since", "HEAD~1"))["CN-R-0001"]
    assert item["change"] == "modified" and item["reargue"] is True
    assert {"path": "parameters.readmission_days.value", "kind": "changed", "old": 15, "new": 12} in item["changes"]
    assert {"path": "uses", "kind": "added", "old": None, "new": "协议考核"} in item["changes"]
    assert len(item["changes"]) == 2


def test_added_rule(store: Path) -> None:
    write_files(store, {"national/rules/actor-supervision/CN-R-0002.yaml": NEW_RULE})
    commit_all(store, "新增规则")
    data = diff_json("--since", "HEAD~1")
    assert [(i["id"], i["change"]) for i in data["items"]] == [("CN-R-0002", "added")]
    assert data["summary"]["added"] == 1


def test_deprecated_rule(store: Path) -> None:
    change_rule(store, RULE.replace("status: 已论证", "status: 生效"), "生效")  # published, so the notice tells of it
    deprecated = RULE.replace("status: 已论证", "status: 废弃") + (
        "deprecated:\n  date: 2026-01-01\n  reason: 并入新规则\n  replaced_by: CN-R-0002\n"
    )
    change_rule(store, deprecated, "废弃规则")
    item = by_id(diff_json("--since", "HEAD~1"))["CN-R-0001"]
    assert item["change"] == "deprecated"
    assert item["reargue"] is False  # status and deprecation are not normative content
    assert {"path": "status", "kind": "changed", "old": "生效", "new": "废弃"} in item["changes"]
    md = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md"]).stdout
    assert "## 废弃（1 条）" in md and "并入新规则" in md and "CN-R-0002" in md


def test_removed_item_is_flagged(store: Path) -> None:
    git(store, "rm", "-q", "national/knowledge/medical/CN-K-0002.yaml")
    commit_all(store, "删除知识")
    item = by_id(diff_json("--since", "HEAD~1"))["CN-K-0002"]
    assert item["change"] == "removed" and "废弃" in item["warning"]
    text = runner.invoke(app, ["diff", "--since", "HEAD~1"]).output
    assert "删除（1 条）" in text and "不应删除" in text


def test_moved_item_with_git_rename(store: Path) -> None:
    new_path = "national/rules/drug-rational-use/CN-R-0001.yaml"
    (store / new_path).parent.mkdir(parents=True)
    git(store, "mv", RULE_PATH, new_path)
    commit_all(store, "移动规则")
    data = diff_json("--since", "HEAD~1")
    assert [(i["id"], i["change"]) for i in data["items"]] == [("CN-R-0001", "moved")]
    item = data["items"][0]
    assert (item["old_path"], item["path"]) == (RULE_PATH, new_path)
    assert item["changes"] == [] and item["reargue"] is False


def test_moved_and_changed_in_the_working_tree(store: Path) -> None:
    new_path = "national/rules/drug-rational-use/CN-R-0001.yaml"
    write_files(store, {RULE_PATH: None, new_path: RULE.replace("value: 15", "value: 20")})
    item = by_id(diff_json("--since", "HEAD"))["CN-R-0001"]
    assert item["change"] == "moved" and item["reargue"] is True
    assert item["changes"][0]["path"] == "parameters.readmission_days.value"


def test_reindenting_and_quoting_is_no_change(store: Path) -> None:
    change_rule(store, REFORMATTED_RULE, "只改格式")
    data = diff_json("--since", "HEAD~1")
    assert data["items"] == []
    assert "没有条目变更" in runner.invoke(app, ["diff", "--since", "HEAD~1"]).output


def test_last_annual_is_this_layers_tag_not_another_layers(store: Path) -> None:
    """Issue #21.10: tags annual/2026 of two layers clashed; they carry the region, the old form still reads."""
    change_rule(store, RULE.replace("value: 15", "value: 14"), "本层调整前的修改")
    git(store, "tag", "-a", "annual/2025", "-m", "旧式标签")  # the old form: read as this store's own
    legacy = head(store)
    change_rule(store, RULE.replace("value: 15", "value: 13"), "上级的调整")
    git(store, "tag", "-a", "annual/510000/2026", "-m", "另一层级的年度调整")  # not this store's (CN)
    change_rule(store, RULE.replace("value: 15", "value: 12"))
    assert diff_json()["since"] == {"rev": "last-annual", "commit": legacy, "via": "annual/2025"}
    git(store, "tag", "-a", "annual/CN/2026", "-m", "本层年度调整", "HEAD~1")
    assert diff_json()["since"] == {"rev": "last-annual", "commit": head(store, "HEAD~1"), "via": "annual/CN/2026"}


def test_last_annual_from_a_tag_is_the_default(store: Path) -> None:
    change_rule(store, RULE.replace("value: 15", "value: 14"), "调整前的修改")
    git(store, "tag", "-a", "annual/2025", "-m", "2025 年度调整")
    tagged = head(store)
    change_rule(store, RULE.replace("value: 15", "value: 12"))
    data = diff_json()
    assert data["since"] == {"rev": "last-annual", "commit": tagged, "via": "annual/2025"}
    assert data["until"]["rev"] == "HEAD"
    item = by_id(data)["CN-R-0001"]
    assert item["changes"] == [{"path": "parameters.readmission_days.value", "kind": "changed", "old": 14, "new": 12}]


def test_last_annual_from_adjustment_history_without_tags(store: Path) -> None:
    write_files(store, {"adjustments/CN-annual-2025.yaml": ANNUAL.format(status="进行中")})
    commit_all(store, "开始年度调整")
    change_rule(store, RULE.replace("value: 15", "value: 14"), "年度调整中的修改")
    write_files(store, {"adjustments/CN-annual-2025.yaml": ANNUAL.format(status="已完成")})
    commit_all(store, "完成年度调整")
    closed = head(store)
    write_files(store, {"national/rules/actor-supervision/CN-R-0002.yaml": NEW_RULE})
    commit_all(store, "调整后新增规则")
    # a later fix in the closed record does not move the point past the close
    write_files(store, {"adjustments/CN-annual-2025.yaml": ANNUAL.format(status="已完成") + "notes: 补充说明\n"})
    commit_all(store, "补充记录")
    data = diff_json("--since", "last-annual")
    assert data["since"]["commit"] == closed and data["since"]["via"] == "adjustments/CN-annual-2025.yaml"
    assert [(i["id"], i["change"]) for i in data["items"]] == [("CN-R-0002", "added")]


def test_without_last_annual_the_default_is_the_first_commit(store: Path) -> None:
    first = head(store)
    change_rule(store, RULE.replace("value: 15", "value: 12"))
    data = diff_json()
    assert data["since"]["commit"] == first and "CN-R-0001" in by_id(data)


def test_missing_last_report_is_a_clear_usage_error(store: Path) -> None:
    result = runner.invoke(app, ["diff", "--since", "last-report"])
    assert result.exit_code == 2
    assert "last-report" in result.output and "report/*" in result.output and "git tag" in result.output
    result = runner.invoke(app, ["diff", "--since", "last-annual"])
    assert result.exit_code == 2 and "已完成" in result.output
    assert runner.invoke(app, ["diff", "--since", "no-such-rev"]).exit_code == 2


def test_dirty_tree_defaults_to_worktree(store: Path) -> None:
    write_files(
        store,
        {
            RULE_PATH: RULE.replace("value: 15", "value: 12"),
            "national/rules/actor-supervision/CN-R-0002.yaml": NEW_RULE,  # untracked
        },
    )
    data = diff_json()
    assert data["until"] == {"rev": "WORKTREE", "commit": None, "via": None}
    assert {i["id"]: i["change"] for i in data["items"]} == {"CN-R-0001": "modified", "CN-R-0002": "added"}
    commit_all(store)
    assert diff_json("--since", "HEAD~1")["until"]["rev"] == "HEAD"


def test_override_is_shown_against_its_rule(store: Path) -> None:
    path = "provincial/510000/overrides/510000-O-0001.yaml"
    text = (store / path).read_text(encoding="utf-8")
    write_files(store, {path: text.replace("readmission_days: 10", "readmission_days: 8") + "notes: 内部备注\n"})
    commit_all(store, "本省收紧")
    item = by_id(diff_json("--since", "HEAD~1"))["510000-O-0001"]
    assert (item["target"], item["target_name"]) == ("CN-R-0001", "分解住院")
    assert item["reargue"] is True
    society = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md"]).stdout
    assert "10 → 8" not in society  # thresholds are the institutions' unless the store publishes them (第十二条)
    md = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md", "--audience", "institutions"]).stdout
    assert "### 510000-O-0001 本地化 CN-R-0001 分解住院" in md
    assert "- **本地参数 › readmission_days**：10 → 8" in md
    assert "notes" not in md and "内部备注" not in md


def test_markdown_change_notice(store: Path) -> None:
    config = store / "twoku.yaml"  # this store publishes its thresholds to society too
    config.write_text(config.read_text(encoding="utf-8") + "disclosure:\n  parameters: society\n", encoding="utf-8")
    active = RULE.replace("status: 已论证", "status: 生效")
    change_rule(store, active, "生效")
    write_files(
        store,
        {
            RULE_PATH: active.replace("value: 15", "value: 12"),
            "national/rules/actor-supervision/CN-R-0002.yaml": NEW_RULE,  # a draft: never published
        },
    )
    commit_all(store)
    md = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md"]).stdout
    assert md.startswith("# 两库变更公告")
    assert "公开对象：社会公众" in md
    assert "## 修改（1 条）" in md and "## 需重新论证" in md and "## 新增" not in md and "CN-R-0002" not in md
    assert "### CN-R-0001 分解住院" in md and "规则 · 行为主体监管类 · 国家 · 状态 生效 · 需重新论证" in md
    assert "- **参数 › readmission_days › 取值**：15天 → 12天" in md
    assert "|" not in md and "base_digest" not in md


def test_region_and_layer_filters(store: Path) -> None:
    write_files(
        store,
        {
            RULE_PATH: RULE.replace("value: 15", "value: 12"),
            "provincial/520000/knowledge/laws/520000-K-0001.yaml": "id: 520000-K-0001\ncategory: 法律法规\ntitle: 贵州某规\nstatus: 生效\n",
            "provincial/510000/knowledge/laws/510000-K-0001.yaml": "id: 510000-K-0001\ncategory: 法律法规\ntitle: 四川某规\nstatus: 生效\n",
        },
    )
    commit_all(store)
    ids = set(by_id(diff_json("--since", "HEAD~1", "--region", "510100")))
    assert ids == {"CN-R-0001", "510000-K-0001"}
    assert set(by_id(diff_json("--since", "HEAD~1", "--layer", "CN"))) == {"CN-R-0001"}
    assert set(by_id(diff_json("--since", "HEAD~1", "--layer", "520000"))) == {"520000-K-0001"}
    assert runner.invoke(app, ["diff", "--region", "51"]).exit_code == 2


def test_text_output(store: Path) -> None:
    change_rule(store, RULE.replace("value: 15", "value: 12"))
    result = runner.invoke(app, ["diff", "--since", "HEAD~1"])
    assert result.exit_code == 0
    assert "修改（1 条）" in result.output and "需重新论证" in result.output
    assert "parameters.readmission_days.value：15 → 12" in result.output


def test_last_instant_and_last_publish_from_tags(store: Path) -> None:
    git(store, "tag", "publish/2026-01-05")
    published = head(store)
    change_rule(store, RULE.replace("value: 15", "value: 14"), "即时调整")
    git(store, "tag", "-a", "instant/20260301-new-law", "-m", "新法施行")
    instant = head(store)
    change_rule(store, RULE.replace("value: 15", "value: 12"))
    data = diff_json("--since", "last-instant", "--until", "HEAD")
    assert (data["since"]["commit"], data["since"]["via"]) == (instant, "instant/20260301-new-law")
    assert by_id(data)["CN-R-0001"]["changes"][0]["old"] == 14
    data = diff_json("--since", "last-publish", "--until", "last-instant")
    assert (data["since"]["commit"], data["until"]["commit"]) == (published, instant)
    assert by_id(data)["CN-R-0001"]["changes"][0]["new"] == 14


def test_since_cannot_be_the_worktree(store: Path) -> None:
    result = runner.invoke(app, ["diff", "--since", "WORKTREE"])
    assert result.exit_code == 2 and "WORKTREE" in result.output
