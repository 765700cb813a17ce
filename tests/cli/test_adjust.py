"""twoku adjust annual / instant / close / status on real temporary git stores."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.storefactory import LAW, RULE, RULE_PATH, commit_all, git, write_files
from twoku.cli import app
from twoku.store.documents import yamlio

runner = CliRunner()

LAW_PATH = "national/knowledge/laws/CN-K-0001.yaml"
NEW_LAW = """\
id: CN-K-0003
category: 法律法规
title: 医疗保障基金使用监督管理条例（修订）
issuer: 国务院
effective: 2026-09-01
status: 生效
"""
OLD_LAW = LAW.replace(
    "status: 生效\n",
    "status: 废弃\nsuperseded_by: CN-K-0003\ndeprecated:\n  date: 2026-09-01\n  reason: 条例修订\n"
    "  replaced_by: CN-K-0003\n",
)
INSTANT_ID = "CN-instant-20260601-regulation"
INSTANT_PATH = f"adjustments/{INSTANT_ID}.yaml"


def supersede_law(root: Path) -> None:
    """The regulation is revised: a new law in force from 2026-09-01 replaces CN-K-0001."""
    write_files(root, {"national/knowledge/laws/CN-K-0003.yaml": NEW_LAW, LAW_PATH: OLD_LAW})
    commit_all(root, "条例修订")


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["adjust", *args])


def as_json(*args: str) -> Any:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yamlio.to_json(yamlio.load(path.read_bytes())[0])
    return data


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def tags(root: Path) -> list[str]:
    return git(root, "tag", "-l").split()


def hook(root: Path, name: str, body: str) -> None:
    path = root / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def schema_findings(root: Path) -> list[str]:
    report = json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)
    return [f["code"] for f in report["findings"] if f["code"].startswith(("TK1", "TK2", "TK3"))]


# --- instant -------------------------------------------------------------------------------


def test_instant_takes_the_new_laws_effective_date_as_deadline(store: Path) -> None:
    supersede_law(store)
    data = as_json("instant", "--trigger", "CN-K-0001", "--slug", "regulation", "--date", "2026-06-01")
    record = read(store / INSTANT_PATH)
    assert record["deadline"] == "2026-09-01"  # 第十六条: CN-K-0003 takes effect then
    assert record["status"] == "进行中" and record["trigger_kind"] == "法律法规政策调整"
    assert record["scope"][:2] == ["CN-K-0001", "CN-K-0003"]
    assert {c["id"] for c in data["citing"]} == {"CN-K-0002", "CN-R-0001"}
    assert (store / INSTANT_PATH).read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")
    assert git(store, "log", "-1", "--format=%s").startswith(f"启动即时调整 {INSTANT_ID}")
    assert git(store, "status", "--porcelain").strip() == ""
    assert schema_findings(store) == []


def test_instant_on_the_new_law_itself_and_an_explicit_deadline(store: Path) -> None:
    supersede_law(store)
    data = as_json("instant", "--trigger", "CN-K-0003", "--slug", "new-law", "--date", "2026-06-01")
    assert data["data"]["deadline"] == "2026-09-01"
    assert {c["cited"] for c in data["citing"]} == {"CN-K-0001"}  # what the new law replaces
    data = as_json(
        "instant",
        "-t",
        "CN-K-0002",
        "-s",
        "label",
        "--deadline",
        "2026-07-01",
        "--kind",
        "技术更新升级",
        "-d",
        "2026-06-02",
    )
    assert (data["data"]["deadline"], data["data"]["trigger_kind"]) == ("2026-07-01", "技术更新升级")


def test_instant_refuses_without_a_deadline_and_writes_nothing(store: Path) -> None:
    before = head(store)
    result = invoke("instant", "--trigger", "CN-K-0002", "--slug", "label")  # a clinical fact: no effective date
    assert result.exit_code == 2
    assert "完成时限" in result.output and "--deadline" in result.output
    assert not (store / "adjustments").exists()
    assert head(store) == before


def test_instant_refuses_bad_arguments(store: Path) -> None:
    assert invoke("instant", "--trigger", "CN-K-0099", "--slug", "x", "--deadline", "2026-07-01").exit_code == 2
    assert invoke("instant", "--trigger", "CN-R-0001", "--slug", "x", "--deadline", "2026-07-01").exit_code == 2
    assert invoke("instant", "--trigger", "CN-K-0001", "--slug", "新法", "--deadline", "2026-07-01").exit_code == 2
    bad_kind = invoke("instant", "--trigger", "CN-K-0001", "--slug", "x", "--deadline", "2026-07-01", "--kind", "别的")
    assert bad_kind.exit_code == 2
    assert invoke("instant", "--trigger", "CN-K-0001", "--slug", "x", "--deadline", "7月1日").exit_code == 2
    assert not (store / "adjustments").exists()


def test_a_second_open_adjustment_for_the_same_trigger_is_refused(store: Path) -> None:
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    again = invoke("instant", "-t", "CN-K-0001", "-s", "again", "-d", "2026-06-02")
    assert again.exit_code == 1 and INSTANT_ID in again.output


def test_a_refused_commit_leaves_no_instant_record(store: Path) -> None:
    supersede_law(store)
    before = head(store)
    hook(store, "pre-commit", "echo 拒绝 >&2\nexit 1\n")
    result = invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01")
    assert result.exit_code == 1
    assert not (store / INSTANT_PATH).exists()
    assert head(store) == before
    assert git(store, "status", "--porcelain").strip() == ""


# --- status --------------------------------------------------------------------------------


def test_status_lists_open_adjustments_deadlines_and_what_still_cites(store: Path) -> None:
    empty = as_json("status")
    assert empty["open"] == [] and empty["citing"] == []
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    data = as_json("status")
    [entry] = data["open"]
    assert entry["id"] == INSTANT_ID and entry["deadline"] == "2026-09-01"
    assert entry["days_left"] == (dt.date(2026, 9, 1) - dt.date.today()).days
    assert sorted((c["id"], c["cited"], c["replacement"]) for c in data["citing"]) == [
        ("CN-K-0002", "CN-K-0001", "CN-K-0003"),
        ("CN-R-0001", "CN-K-0001", "CN-K-0003"),
    ]
    text = invoke("status")
    assert text.exit_code == 0
    assert INSTANT_ID in text.output and "CN-R-0001" in text.output and "改为 CN-K-0003" in text.output
    # the rule moves to the new law: it no longer shows
    write_files(store, {RULE_PATH: RULE.replace("id: CN-K-0001\n    article", "id: CN-K-0003\n    article")})
    commit_all(store, "依据改为修订后的条例")
    assert [c["id"] for c in as_json("status")["citing"]] == ["CN-K-0002"]


# --- close ---------------------------------------------------------------------------------


def test_close_finishes_commits_and_tags(store: Path) -> None:
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    data = as_json("close", "--date", "2026-08-20")
    assert data["tag"] == "instant/CN/20260601-regulation"
    record = read(store / INSTANT_PATH)
    assert (record["status"], record["closed"], record["opened"]) == ("已完成", "2026-08-20", "2026-06-01")
    assert git(store, "cat-file", "-t", "instant/CN/20260601-regulation").strip() == "tag"  # annotated
    assert git(store, "rev-parse", "instant/CN/20260601-regulation^{commit}").strip() == head(store)
    assert git(store, "status", "--porcelain").strip() == ""
    assert as_json("status")["open"] == []
    since = json.loads(runner.invoke(app, ["diff", "--since", "last-instant", "--format", "json"]).stdout)
    assert since["since"]["commit"] == head(store)
    assert invoke("close").exit_code == 2  # nothing open any more


def test_close_needs_an_id_when_several_are_open(store: Path) -> None:
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    assert invoke("instant", "-t", "CN-K-0002", "-s", "label", "--deadline", "2026-07-01").exit_code == 0
    ambiguous = invoke("close")
    assert ambiguous.exit_code == 2 and INSTANT_ID in ambiguous.output
    assert invoke("close", INSTANT_ID, "--date", "2026-06-10").exit_code == 0
    assert read(store / INSTANT_PATH)["status"] == "已完成"


def test_a_refused_close_restores_the_record_and_leaves_no_tag(store: Path) -> None:
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    original = (store / INSTANT_PATH).read_bytes()
    before = head(store)
    hook(store, "pre-commit", "exit 1\n")
    assert invoke("close").exit_code == 1
    assert (store / INSTANT_PATH).read_bytes() == original
    assert head(store) == before and tags(store) == []
    assert git(store, "status", "--porcelain").strip() == ""


def test_close_refuses_when_the_tag_already_exists(store: Path) -> None:
    supersede_law(store)
    assert invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01").exit_code == 0
    git(store, "tag", "instant/CN/20260601-regulation")
    before = head(store)
    result = invoke("close")
    assert result.exit_code == 1 and "instant/CN/20260601-regulation" in result.output
    assert read(store / INSTANT_PATH)["status"] == "进行中" and head(store) == before


# --- annual --------------------------------------------------------------------------------


def test_annual_records_what_changed_since_the_last_one(store: Path) -> None:
    write_files(store, {RULE_PATH: RULE.replace("value: 15", "value: 10")})
    commit_all(store, "再入院间隔改为 10 天")
    plan = store.parent / "plan.txt"
    plan.write_text("\ufeff一、缩短再入院间隔  \r\n二、复核依据\r\n\r\n", encoding="utf-8")
    data = as_json("annual", "--year", "2026", "--plan", str(plan), "--date", "2026-12-20")
    path = store / "adjustments" / "CN-annual-2026.yaml"
    record = read(path)
    assert record["status"] == "已完成" and record["closed"] == "2026-12-20"
    assert record["scope"] == ["CN-R-0001"]
    assert record["changes"] == ["修改 CN-R-0001 分解住院：parameters.readmission_days.value：15 → 10"]
    assert record["plan"] == "一、缩短再入院间隔\n二、复核依据\n"
    assert "plan: |" in path.read_text(encoding="utf-8")
    assert data["tag"] == "annual/CN/2026"  # issue #21.10: the layer's region, so layers' tags never clash
    assert git(store, "cat-file", "-t", "annual/CN/2026").strip() == "tag"
    assert git(store, "rev-parse", "annual/CN/2026^{commit}").strip() == head(store)
    assert schema_findings(store) == []
    # the next year starts from this one
    write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": NEW_LAW})
    commit_all(store, "新条例")
    assert as_json("annual", "--year", "2027", "--date", "2027-12-20")["data"]["scope"] == ["CN-K-0003"]


def test_annual_twice_for_a_year_is_refused(store: Path) -> None:
    assert invoke("annual", "--year", "2026").exit_code == 0
    before = head(store)
    assert invoke("annual", "--year", "2026").exit_code == 1
    assert head(store) == before


def test_annual_refuses_an_existing_tag_before_writing(store: Path) -> None:
    git(store, "tag", "-a", "annual/CN/2026", "-m", "手工标签")
    before = head(store)
    result = invoke("annual", "--year", "2026")
    assert result.exit_code == 1 and "annual/CN/2026" in result.output
    assert not (store / "adjustments").exists() and head(store) == before


def test_annual_refused_tag_takes_the_commit_back(store: Path) -> None:
    # a hook that lets commits through but refuses every tag: the commit must not stay alone
    hook(
        store,
        "reference-transaction",
        'if [ "$1" = prepared ]; then grep -q " refs/tags/" && { echo 不许打标签 >&2; exit 1; }; fi\nexit 0\n',
    )
    before = head(store)
    result = invoke("annual", "--year", "2026")
    assert result.exit_code == 1 and "已撤销提交" in result.output
    assert head(store) == before
    assert tags(store) == []
    assert not (store / "adjustments").exists()
    assert git(store, "status", "--porcelain").strip() == ""


def test_annual_refused_commit_leaves_nothing(store: Path) -> None:
    hook(store, "pre-commit", "exit 1\n")
    before = head(store)
    assert invoke("annual", "--year", "2026").exit_code == 1
    assert head(store) == before and tags(store) == []
    assert not (store / "adjustments" / "CN-annual-2026.yaml").exists()
    assert git(store, "status", "--porcelain").strip() == ""


def test_annual_refuses_uncommitted_library_changes(store: Path) -> None:
    write_files(store, {RULE_PATH: RULE.replace("value: 15", "value: 10")})
    result = invoke("annual", "--year", "2026")
    assert result.exit_code == 1 and "未提交" in result.output
    assert not (store / "adjustments").exists()


def test_adjust_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["adjust", "--help"])
    assert result.exit_code == 0
    for command in ("annual", "instant", "close", "status"):
        assert command in result.output


def test_late_adjustments_are_called_out(store: Path) -> None:
    supersede_law(store)
    opened = invoke("instant", "-t", "CN-K-0001", "-s", "regulation", "-d", "2026-06-01", "--deadline", "2026-05-01")
    assert opened.exit_code == 0 and "已经逾期" in opened.output
    closed = invoke("close", "--date", "2026-06-15")
    assert closed.exit_code == 0 and "晚于完成时限 2026-05-01" in closed.output


def test_status_of_the_shipped_library(shipped: Path) -> None:
    data = as_json("status")
    assert data["open"] == [] and data["last_annual"] == "CN-annual-2025"
    assert data["citing"] == []  # the 2025 adjustment moved every rule off the superseded drug list
