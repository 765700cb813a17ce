"""twoku migrate: a schema-1 store (or v1-shaped files in a schema-2 store) rewritten in one commit, the key
renamed in place and nothing else; refusals with file and line that change nothing; no digest changes."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.storefactory import RULE, RULE_PATH, commit_all, git, init_repo, make_store
from twoku.cli import app
from twoku.model.digest import content_digest
from twoku.store.documents import yamlio
from twoku.store.writes import faults

runner = CliRunner()
OVERRIDE_PATH = "provincial/510000/overrides/510000-O-0001.yaml"
V1_CONFIG = "name: 测试库\nschema_version: 1  # 结构版本\nregion: CN\n"
# A schema-1 rule as people write them: a comment on the key, the uses in block style, quoting.
V1_RULE = RULE.replace("uses: [支付审核, 稽核]", "'scenarios':   # 第十九条\n  - 支付审核\n  - \"稽核\"")


def v1_store(root: Path) -> Path:
    make_store(root, {"twoku.yaml": V1_CONFIG, RULE_PATH: V1_RULE}, commit=False)
    override = root / OVERRIDE_PATH
    override.write_text(override.read_text(encoding="utf-8") + "scenarios: [协议考核]\n", encoding="utf-8")
    init_repo(root)
    commit_all(root, "结构版本 1 的库")
    return root


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def findings(root: Path) -> list[dict[str, object]]:
    _, out = invoke("validate", "--format", "json")
    return list(json.loads(out)["findings"])


def log(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def digests(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.glob("*/**/*.yaml")):
        data, _ = yamlio.load_json(path.read_bytes())
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            out[data["id"]] = content_digest(data)
    return out


@pytest.fixture
def old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = v1_store(tmp_path / "old")
    monkeypatch.chdir(root)
    return root


def test_a_schema_1_store_is_one_finding_and_the_library_commands_refuse(old: Path) -> None:
    found = findings(old)
    assert [(f["code"], f["path"], f["line"]) for f in found] == [("TK203", "twoku.yaml", 2)]
    assert "运行 twoku migrate" in str(found[0]["hint"])
    for args in (["ls", "rules"], ["show", "CN-R-0001"], ["signoff", "status"]):
        code, out = invoke(*args)
        assert code == 1 and "twoku.yaml:2" in out and "结构版本 1" in out and "twoku migrate" in out, args


def test_migrate_renames_the_key_in_place_and_commits_once(old: Path) -> None:
    before = {p: (old / p).read_text(encoding="utf-8") for p in ("twoku.yaml", RULE_PATH, OVERRIDE_PATH)}
    old_digests = digests(old)
    code, out = invoke("migrate")
    assert code == 0, out
    assert f"{RULE_PATH}:" in out and "scenarios → uses" in out
    after = {p: (old / p).read_text(encoding="utf-8") for p in before}
    # The key renamed on its line, its quotes, comment and values kept; nothing else touched.
    assert after["twoku.yaml"] == V1_CONFIG.replace("schema_version: 1", "schema_version: 2")
    assert after[RULE_PATH] == before[RULE_PATH].replace("'scenarios':", "'uses':")
    assert after[OVERRIDE_PATH] == before[OVERRIDE_PATH].replace("scenarios: [协议考核]", "uses: [协议考核]")
    assert digests(old) == old_digests  # no sign-off goes stale, no override drifts
    assert log(old)[0].startswith("schema v2: twoku migrate 结构版本 1 → 2（规则 1 条、本地化 1 条")
    assert len(log(old)) == 2 and git(old, "status", "--porcelain") == ""
    body = git(old, "log", "-1", "--format=%b")
    assert "内容摘要不变" in body and f"{RULE_PATH}:18" in body and "twoku.yaml:2" in body
    assert findings(old) == []
    code, out = invoke("show", "CN-R-0001", "--region", "510000")
    assert code == 0 and "应用场景" in out and "协议考核" in out  # the override's added use, merged
    code, out = invoke("diff", "--since", "HEAD~1", "--format", "json")
    assert code == 0 and json.loads(out)["items"] == []  # a renamed key is no change of content


def test_migrate_again_does_nothing(old: Path) -> None:
    assert invoke("migrate")[0] == 0
    head = git(old, "rev-parse", "HEAD")
    code, out = invoke("migrate")
    assert code == 0 and "没有需要改写的文件" in out
    code, out = invoke("migrate", "--format", "json")
    assert code == 0 and json.loads(out)["nothing_to_do"] is True
    assert git(old, "rev-parse", "HEAD") == head


def test_dry_run_lists_and_changes_nothing(old: Path) -> None:
    code, out = invoke("migrate", "--dry-run", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["from_version"], data["to_version"], data["dry_run"], data["written"]) == (1, 2, True, False)
    assert data["config"]["line"] == 2
    assert [(f["path"], f["line"], f["kind"]) for f in data["files"]] == [
        (RULE_PATH, 18, "rule"),
        (OVERRIDE_PATH, 8, "override"),
    ]
    assert data["counts"] == {"rule": 1, "override": 1}
    assert git(old, "status", "--porcelain") == "" and len(log(old)) == 1


def test_v1_shaped_files_merged_into_a_v2_store(store: Path) -> None:
    (store / RULE_PATH).write_text(V1_RULE, encoding="utf-8")
    commit_all(store, "合并了结构版本 1 的分支")
    found = findings(store)
    assert [(f["code"], f["path"], f["line"]) for f in found] == [("TK203", RULE_PATH, 18)]
    code, out = invoke("show", "CN-R-0001", "--format", "json")
    fields = json.loads(out)["fields"]
    assert fields["uses"]["value"] == ["支付审核", "稽核"] and "scenarios" not in fields  # never 就医场景
    config = (store / "twoku.yaml").read_bytes()
    code, out = invoke("migrate")
    assert code == 0 and "结构版本 2 的库中的旧文件" in out
    assert (store / "twoku.yaml").read_bytes() == config
    assert log(store)[0].startswith("schema v2: twoku migrate 把按结构版本 1 书写的文件改写为结构版本 2（规则 1 条")
    assert findings(store) == []


def test_what_cannot_be_translated_is_listed_and_nothing_changes(old: Path) -> None:
    rule = old / RULE_PATH
    rule.write_text(V1_RULE.replace('  - "稽核"', "  - 住院"), encoding="utf-8")
    other = old / "national/rules/actor-supervision/CN-R-0002.yaml"
    other.write_text("id: CN-R-0002\nscenarios: [稽核\n", encoding="utf-8")
    commit_all(old, "两个无法改写的文件")
    head = git(old, "rev-parse", "HEAD")
    code, out = invoke("migrate")
    assert code == 1
    assert f"{RULE_PATH}:18" in out and "既有第十九条的应用场景" in out
    assert "CN-R-0002.yaml:" in out and "无法读取" in out
    assert "未改动任何文件" in out
    assert git(old, "status", "--porcelain") == "" and git(old, "rev-parse", "HEAD") == head
    code, out = invoke("migrate", "--format", "json")
    assert code == 1 and [r["path"] for r in json.loads(out)["refused"]] == [
        RULE_PATH,
        "national/rules/actor-supervision/CN-R-0002.yaml",
    ]


def test_uncommitted_edits_of_a_file_to_rewrite_are_refused(old: Path) -> None:
    rule = old / RULE_PATH
    rule.write_text(rule.read_text(encoding="utf-8") + "# 未提交的修改\n", encoding="utf-8")
    code, out = invoke("migrate")
    assert code == 1 and "未提交的修改" in out and RULE_PATH in out
    assert "scenarios" in rule.read_text(encoding="utf-8") and len(log(old)) == 1


def test_a_failure_while_writing_leaves_the_store_as_it_was(old: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p: (old / p).read_bytes() for p in ("twoku.yaml", RULE_PATH, OVERRIDE_PATH)}
    monkeypatch.setenv(faults.FAIL_AT, "committed")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 3, result.output
    assert {p: (old / p).read_bytes() for p in before} == before
    assert len(log(old)) == 1 and git(old, "status", "--porcelain") == ""


def test_a_store_of_a_newer_schema_is_refused(old: Path) -> None:
    (old / "twoku.yaml").write_text("schema_version: 3\nregion: CN\n", encoding="utf-8")
    code, out = invoke("migrate")
    assert code == 1 and "高于本 twoku 所支持的结构版本 2" in out and "升级 twoku" in out
    found = findings(old)
    assert [(f["code"], f["line"]) for f in found] == [("TK203", 1)]


def _migration_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "log", "--format=%H", "-F", "--grep=schema v2: twoku migrate 结构版本 1 → 2"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out[-1] if out else None


def _archive(commit: str, root: Path) -> None:
    tree = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
    root.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tree)) as tar:
        tar.extractall(root, filter="data")


def test_the_shipped_store_as_it_was_before_schema_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store this repository shipped in schema 1 (the parent of its migration commit), migrated by the tool,
    is what that commit holds, byte for byte; every item keeps its digest, no record goes stale."""
    commit = _migration_commit()
    if commit is None:
        pytest.skip("the repository's history (its schema v2 commit) is not here")
    old, new = tmp_path / "old", tmp_path / "new"
    _archive(f"{commit}^", old)
    _archive(commit, new)
    init_repo(old)
    commit_all(old, "结构版本 1 的参考库")
    monkeypatch.chdir(old)
    assert [f["code"] for f in findings(old)] == ["TK203"]
    before = digests(old)
    code, out = invoke("migrate")
    assert code == 0, out
    changed = git(old, "show", "--name-only", "--format=", "HEAD").split()
    assert len(changed) == 40 and "twoku.yaml" in changed  # 37 rules, 2 overrides and the config
    for path in changed:
        assert (old / path).read_bytes() == (new / path).read_bytes(), path
    assert digests(old) == before
    codes = {f["code"] for f in findings(old)}
    assert not codes & {"TK203", "TK506", "TK604"}, codes  # nothing migrated stale, nothing left over


def test_thousands_of_files_go_to_git_by_a_file_not_the_command_line(
    old: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store of thousands of rules (5,000 migrate in some 16 s): past a few hundred paths git reads them from a
    file, and the commit message names the first files and counts the rest."""
    from twoku.ops import migrate as op
    from twoku.store.repo import gitio

    monkeypatch.setattr(gitio, "PATHS_ON_COMMAND_LINE", 1)
    monkeypatch.setattr(op, "LISTED", 1)
    code, out = invoke("migrate")
    assert code == 0, out
    assert git(old, "show", "--name-only", "--format=", "HEAD").split() == sorted(
        ["twoku.yaml", RULE_PATH, OVERRIDE_PATH]
    )
    assert "另有 2 个文件，同样改写" in git(old, "log", "-1", "--format=%b")
    assert git(old, "status", "--porcelain") == ""
