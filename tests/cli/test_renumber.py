"""twoku renumber: move the file, change its ID, update references; the two-branch collision."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.storefactory import RULE, commit_all, digest_of, git, write_files
from twoku.cli import app

runner = CliRunner()

RECORD = """\
id: CN-A-0001
kind: 业务论证
date: 2025-11-20
organizer: 国家医疗保障局
subjects:
  - id: CN-K-0001
    digest: sha256:{zero}
  - id: CN-R-0001
    digest: {rule}
participants:
  - {{name: 张三, affiliation: 某省医疗保障局, affiliation_type: 医保行政部门, field: 医保管理}}
conclusion: 通过
""".format(zero="0" * 64, rule=digest_of(RULE))

ADJUSTMENT = """\
id: CN-annual-2025
kind: 年度调整
region: CN
opened: 2025-01-10
status: 进行中
scope: [CN-K-0001, CN-R-0001]  # 本年度范围
"""


def report(root: Path) -> dict[str, object]:
    out: dict[str, object] = json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)
    return out


def test_renumber_moves_the_file_and_updates_every_reference(store: Path) -> None:
    write_files(store, {"argumentation/CN-A-0001.yaml": RECORD, "adjustments/CN-annual-2025.yaml": ADJUSTMENT})
    commit_all(store)
    errors_before = report(store)["summary"]["errors"]  # type: ignore[index]
    result = runner.invoke(app, ["renumber", "CN-K-0001", "CN-K-0005", "--commit"])
    assert result.exit_code == 0, result.output
    assert not (store / "national/knowledge/laws/CN-K-0001.yaml").exists()
    moved = (store / "national/knowledge/laws/CN-K-0005.yaml").read_text(encoding="utf-8")
    assert moved.startswith("id: CN-K-0005\n")
    rule = (store / "national/rules/actor-supervision/CN-R-0001.yaml").read_text(encoding="utf-8")
    assert "  - id: CN-K-0005\n    article: 第十五条\n" in rule
    assert "uses: [支付审核, 稽核]" in rule  # the flow style is kept
    fact = (store / "national/knowledge/medical/CN-K-0002.yaml").read_text(encoding="utf-8")
    assert "  - id: CN-K-0005\n" in fact
    record = (store / "argumentation/CN-A-0001.yaml").read_text(encoding="utf-8")
    assert "  - id: CN-K-0005\n" in record and f"  - id: CN-R-0001\n    digest: {digest_of(rule)}\n" in record
    adjustment = (store / "adjustments/CN-annual-2025.yaml").read_text(encoding="utf-8")
    assert "scope: [CN-K-0005, CN-R-0001]  # 本年度范围\n" in adjustment
    # one commit with the rename and the references, nothing left over
    assert git(store, "status", "--porcelain") == ""
    assert git(store, "log", "-1", "--format=%s").strip() == "CN-K-0001 改号为 CN-K-0005，更新 5 个文件中的引用"
    # the province's override and the record of CN-R-0001 of CN-R-0001 stays bound: a new ID in basis is no change of content
    override = (store / "provincial/510000/overrides/510000-O-0001.yaml").read_text(encoding="utf-8")
    assert f"base_digest: {digest_of(rule)}\n" in override
    assert report(store)["summary"] == {"ok": True, "errors": errors_before, "warnings": 1, "waived": 0}


def test_renumber_an_override_updates_its_path(store: Path) -> None:
    result = runner.invoke(app, ["renumber", "510000-O-0001", "510000-O-0003"])
    assert result.exit_code == 0, result.output
    assert (store / "provincial/510000/overrides/510000-O-0003.yaml").is_file()
    status = git(store, "status", "--porcelain")
    assert (
        "R  provincial/510000/overrides/510000-O-0001.yaml -> provincial/510000/overrides/510000-O-0003.yaml" in status
    )
    assert report(store)["summary"]["errors"] == 0  # type: ignore[index]


def test_two_branches_allocate_the_same_id_then_renumber(store: Path) -> None:
    def new_rule(category: str) -> None:
        args = ["new", "rule", "-l", "CN", "-c", category, "-b", "CN-K-0001", "--name", category, "--no-input"]
        assert runner.invoke(app, [*args, "--commit"]).exit_code == 0

    git(store, "checkout", "-q", "-b", "alice")
    new_rule("药品监管类")
    git(store, "checkout", "-q", "main")
    new_rule("药品合理使用类")
    git(store, "merge", "-q", "--no-edit", "alice")
    findings = report(store)["findings"]
    tk301 = [f for f in findings if f["code"] == "TK301"]  # type: ignore[index,union-attr,attr-defined]
    assert tk301 and "twoku renumber CN-R-0002 <新编号>" in tk301[0]["hint"]
    # ambiguous without --path
    result = runner.invoke(app, ["renumber", "CN-R-0002", "CN-R-0003"])
    assert result.exit_code == 2 and "--path" in result.output
    path = "national/rules/drug-supervision/CN-R-0002.yaml"
    result = runner.invoke(app, ["renumber", "CN-R-0002", "CN-R-0003", "--path", path, "--commit"])
    assert result.exit_code == 0, result.output
    assert (store / "national/rules/drug-supervision/CN-R-0003.yaml").is_file()
    assert (store / "national/rules/drug-rational-use/CN-R-0002.yaml").is_file()
    assert "TK301" not in {f["code"] for f in report(store)["findings"]}  # type: ignore[union-attr,index]
    # the next new rule takes the next free number
    out = runner.invoke(app, ["new", "rule", "-l", "CN", "-c", "药品监管类", "-b", "CN-K-0001", "--no-input"])
    assert "CN-R-0004" in out.output


def test_renumber_refusals(store: Path) -> None:
    for args, message in (
        (["CN-K-0001", "CN-K-0002"], "已被使用"),
        (["CN-K-0001", "CN-R-0009"], "层级或类别不同"),
        (["CN-K-0001", "510000-K-0009"], "层级或类别不同"),
        (["CN-K-0009", "CN-K-0010"], "没有编号为 CN-K-0009"),
        (["CN-K-0001", "CN-K-1"], "不符合"),
    ):
        result = runner.invoke(app, ["renumber", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert git(store, "status", "--porcelain") == ""
