"""twoku signoff record / status / show on real temporary git stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.storefactory import RULE, RULE_PATH, commit_all, digest_of, git, write_files
from twoku.cli import app
from twoku.store.documents import yamlio

runner = CliRunner()

BUSINESS = [
    "-p",
    "张三|某省医疗保障局|医保管理",
    "-p",
    "李四|某市医疗保障事务中心|经办",
]


def record(*ids: str, kind: str = "业务论证", people: list[str] = BUSINESS, extra: tuple[str, ...] = ()) -> object:
    args = ["signoff", "record", *ids, "--kind", kind, "--date", "2025-11-20", "--organizer", "国家医疗保障局"]
    return runner.invoke(app, [*args, *people, "--conclusion", "通过", *extra])


def records(root: Path) -> list[str]:
    folder = root / "argumentation"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def set_rule(root: Path, old: str, new: str, message: str = "修改规则") -> None:
    path = root / RULE_PATH
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    commit_all(root, message)


def test_record_writes_commits_and_binds_the_digest(store: Path) -> None:
    result = record("CN-R-0001", "CN-K-0001")
    assert result.exit_code == 0, result.output
    path = store / "argumentation" / "CN-A-0001.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schema/argumentation.schema.json\n")
    data = yamlio.to_json(yamlio.load(text.encode())[0])
    assert data["subjects"][0] == {"id": "CN-R-0001", "digest": digest_of(RULE)}
    assert data["participants"][1]["affiliation_type"] == "医保经办机构"
    assert git(store, "log", "-1", "--format=%s").strip() == "论证记录 CN-A-0001：业务论证 CN-R-0001 等 2 条"
    assert git(store, "status", "--porcelain").strip() == ""
    assert runner.invoke(app, ["validate"]).exit_code == 0
    # the next record of the layer takes the next number
    assert record("CN-R-0001").exit_code == 0
    assert records(store) == ["CN-A-0001.yaml", "CN-A-0002.yaml"]


def test_record_clears_the_gate_for_an_active_rule(store: Path) -> None:
    # in force from a day after the argumentation recorded below (2025-11-20): never before it (TK611)
    set_rule(store, "status: 已论证\neffective: 2024-01-01", "status: 生效\neffective: 2026-01-01")
    before = json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)
    assert "TK603" in json.dumps(before)
    assert record("CN-R-0001").exit_code == 0
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 0, result.stdout
    assert "TK603" not in result.stdout


def test_digest_ignores_formatting_and_status(store: Path) -> None:
    assert record("CN-R-0001").exit_code == 0
    # comments, quoting and the lifecycle status are not normative content
    set_rule(store, "name: 分解住院\n", "# 说明\nname: '分解住院'\n")
    set_rule(store, "status: 已论证", "status: 生效")
    status = json.loads(runner.invoke(app, ["signoff", "status", "--format", "json"]).stdout)
    assert status["rules"][0]["kinds"]["业务论证"]["state"] == "current"


def test_stale_after_an_edit_says_what_changed(store: Path) -> None:
    assert record("CN-R-0001").exit_code == 0
    set_rule(store, "value: 15", "value: 20", "再入院间隔改为 20 天")
    result = runner.invoke(app, ["signoff", "status", "--format", "json"])
    assert result.exit_code == 0
    rule = json.loads(result.stdout)["rules"][0]
    business = rule["kinds"]["业务论证"]
    assert business["state"] == "stale" and business["records"] == ["CN-A-0001"]
    assert any("parameters.readmission_days.value" in c and "20" in c for c in business["changes"])
    assert rule["ok"] is False
    text = runner.invoke(app, ["signoff", "status"], env={"COLUMNS": "200"}).stdout
    assert "已过时" in text and "parameters.readmission_days.value" in text
    shown = json.loads(runner.invoke(app, ["signoff", "show", "CN-A-0001", "--format", "json"]).stdout)
    assert shown["subjects"][0]["state"] == "stale"


def test_status_json(store: Path) -> None:
    write_files(store, {RULE_PATH: RULE.replace("status: 已论证", "status: 生效\nfocus: [阈值复杂]")})
    commit_all(store, "阈值复杂")
    assert record("CN-R-0001").exit_code == 0
    result = runner.invoke(app, ["signoff", "status", "--region", "510100", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["region"] == "510100" and data["region_name"] == "成都市（测试）"
    (rule,) = data["rules"]
    assert rule["id"] == "CN-R-0001" and rule["layer"] == "CN"
    assert rule["required"] == ["学术论证", "业务论证", "行业论证"]
    assert {k: v["state"] for k, v in rule["kinds"].items()} == {
        "学术论证": "missing",
        "业务论证": "current",
        "行业论证": "missing",
    }
    assert rule["blocking"] is True and rule["ok"] is False


@pytest.mark.parametrize(
    ("kind", "person", "why"),
    [
        ("学术论证", "王医生|某市第一人民医院|临床医学", "定点医药机构"),
        ("业务论证", "赵教授|某医科大学|医保管理", "高等院校"),
        ("行业论证", "钱处长|某省医疗保障局|医保管理", "医保行政部门"),
    ],
)
def test_tenth_article_refusals(store: Path, kind: str, person: str, why: str) -> None:
    head = git(store, "rev-parse", "HEAD")
    result = record("CN-R-0001", kind=kind, people=["-p", person])
    assert result.exit_code == 1
    assert "未写入" in result.output and why in result.output and kind in result.output
    assert records(store) == []
    assert git(store, "rev-parse", "HEAD") == head


def test_each_kind_accepts_its_people(store: Path) -> None:
    assert record("CN-R-0001", kind="学术论证", people=["-p", "孙研究员|某医保研究院|医保管理"]).exit_code == 0
    assert record("CN-R-0001", kind="行业论证", people=["-p", "周主任|四川大学华西医院|临床医学"]).exit_code == 0
    assert records(store) == ["CN-A-0001.yaml", "CN-A-0002.yaml"]


def test_unknown_id_is_refused(store: Path) -> None:
    result = record("CN-R-0001", "CN-R-0999")
    assert result.exit_code == 2 and "CN-R-0999" in result.output
    assert records(store) == []


def test_dirty_subject_is_refused(store: Path) -> None:
    (store / RULE_PATH).write_text(RULE.replace("value: 15", "value: 16"), encoding="utf-8")
    result = record("CN-R-0001")
    assert result.exit_code == 1 and "未提交" in result.output and RULE_PATH in result.output
    assert records(store) == []


def test_bad_date_and_participant_are_refused(store: Path) -> None:
    args = ["signoff", "record", "CN-R-0001", "--kind", "业务论证", "--organizer", "某局", "--conclusion", "通过"]
    result = runner.invoke(app, [*args, "--date", "2025-02-30", *BUSINESS])
    assert result.exit_code == 2 and "不是有效日期" in result.output
    result = runner.invoke(app, [*args, "--date", "2025-02-03", "-p", "张三|某某公司|经办"])
    assert result.exit_code == 2 and "单位类型" in result.output
    result = runner.invoke(app, [*args, "--date", "2025-02-03", "-p", "张三|某省医疗保障局|会计"])
    assert result.exit_code == 2 and "领域" in result.output
    assert records(store) == []


def test_subjects_of_two_layers_need_a_layer(store: Path) -> None:
    result = record("CN-R-0001", "510000-O-0001")
    assert result.exit_code == 2 and "--layer" in result.output
    result = record("CN-R-0001", "510000-O-0001", extra=("--layer", "510000"))
    assert result.exit_code == 0, result.output
    assert records(store) == ["510000-A-0001.yaml"]


def test_no_commit_opinions_and_minutes(store: Path) -> None:
    (store / "意见.txt").write_text("- 建议运行一年后复核\n\n2. 阈值合理\n", encoding="utf-8")
    write_files(store, {"argumentation/minutes/2025-11-20.md": "纪要\n"})
    head = git(store, "rev-parse", "HEAD")
    extra = ("--opinions", "意见.txt", "--minutes", "argumentation/minutes/2025-11-20.md", "--no-commit")
    assert record("CN-R-0001", extra=extra).exit_code == 0
    assert git(store, "rev-parse", "HEAD") == head
    shown = json.loads(runner.invoke(app, ["signoff", "show", "CN-A-0001", "--format", "json"]).stdout)
    assert shown["data"]["opinions"] == ["建议运行一年后复核", "阈值合理"]
    assert shown["data"]["minutes"] == "argumentation/minutes/2025-11-20.md"
    assert shown["subjects"][0]["state"] == "current" and shown["problems"] == []


def test_show_text_and_unknown_record(store: Path) -> None:
    assert record("CN-R-0001").exit_code == 0
    result = runner.invoke(app, ["signoff", "show", "CN-A-0001"])
    assert result.exit_code == 0 and "张三" in result.output and "分解住院" in result.output
    assert runner.invoke(app, ["signoff", "show", "CN-A-0009"]).exit_code == 2


def test_help_has_examples() -> None:
    for command in ("record", "status", "show"):
        result = runner.invoke(app, ["signoff", command, "--help"])
        assert result.exit_code == 0 and "示例" in result.output


def test_record_commits_only_its_file(store: Path) -> None:
    write_files(store, {"notes.txt": "另一位同事暂存的修改\n"})
    git(store, "add", "notes.txt")
    assert record("CN-R-0001").exit_code == 0
    assert git(store, "show", "--name-only", "--format=", "HEAD").split() == ["argumentation/CN-A-0001.yaml"]
    assert git(store, "diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_a_failed_commit_leaves_nothing(store: Path) -> None:
    hook = store / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 拒绝提交 >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    result = record("CN-R-0001")
    assert result.exit_code == 1 and "提交" in result.output
    assert records(store) == []
    assert git(store, "status", "--porcelain").strip() == ""


def test_minutes_are_committed_with_the_record(store: Path) -> None:
    write_files(store, {"argumentation/minutes/2025-11-20.md": "纪要\n"})
    assert record("CN-R-0001", extra=("--minutes", "argumentation/minutes/2025-11-20.md")).exit_code == 0
    assert sorted(git(store, "show", "--name-only", "--format=", "HEAD").split()) == [
        "argumentation/CN-A-0001.yaml",
        "argumentation/minutes/2025-11-20.md",
    ]


def test_a_new_record_of_a_rule_and_its_override_supersedes_the_stale_one(shipped: Path) -> None:
    """Issue #21.6: TK604 outlived `signoff record` and named the override by its multi-line reason."""
    path = shipped / "provincial/510000/municipal/510100/overrides/510100-O-0002.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("以此规避分解住院监控。", "以此规避分解住院监控，本年仍多见。"), encoding="utf-8")
    commit_all(shipped, "修改本地化理由")
    result = runner.invoke(app, ["validate", "--format", "json"])
    stale = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK604"]
    assert [(f["path"], f["item"]) for f in stale] == [("argumentation/510100-A-0001.yaml", "510100-A-0001")]
    assert stale[0]["message"].startswith("510100-O-0002（CN-R-0017 的本地化）在业务论证后已被修改")
    assert "\n" not in stale[0]["message"]
    people = ["-p", "张三|某市医疗保障局|医保管理", "-p", "李四|某市医疗保障事务中心|经办"]
    args = ["signoff", "record", "510100-O-0002", "--kind", "业务论证", "--date", "2026-11-20"]
    done = runner.invoke(app, [*args, "--organizer", "成都市医疗保障局", *people, "--conclusion", "通过"])
    assert done.exit_code == 0, done.output
    for cache in ([], ["--no-cache"]):  # the re-check after the new record, and a full check, agree
        result = runner.invoke(app, ["validate", "--format", "json", *cache])
        assert "TK604" not in result.stdout, result.stdout
