"""twoku validate through the CLI: exit codes, formats, paths, regions, the cache."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import run_twoku
from tests.storefactory import commit_all, git, write_files
from twoku.cli import app

runner = CliRunner()

BROKEN_LAW = (
    "id: CN-K-0003\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\neffective: 2025-01-01\nexpires: 2024-12-31\n"
)


def test_clean_store_passes_with_counts_per_layer(store: Path) -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "全部通过" in result.output
    assert "国家" in result.output and "四川省（测试）" in result.output


def test_errors_exit_1_and_name_file_line_code(store: Path) -> None:
    write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW})
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert "national/knowledge/laws/CN-K-0003.yaml" in result.output
    assert "6:1" in result.output and "TK601" in result.output


def test_every_finding_is_reported_not_only_the_first(store: Path) -> None:
    write_files(
        store,
        {
            "national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW,
            "national/knowledge/laws/CN-K-0004.yaml": "id: CN-K-0004\ntitle: [坏\n",
            "national/knowledge/laws/CN-K-0005.yaml": "id: CN-K-0005\ncategory: 法规\ntitle: 某法\nstatus: 生效\n",
        },
    )
    result = runner.invoke(app, ["validate", "--format", "json"])
    data = json.loads(result.stdout)
    assert {f["code"] for f in data["findings"]} == {"TK601", "TK101", "TK201"}
    assert data["summary"]["errors"] == 3 and data["summary"]["ok"] is False


def test_json_report_is_the_data_only(store: Path) -> None:
    result = runner.invoke(app, ["validate", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["summary"] == {"ok": True, "errors": 0, "warnings": 0, "waived": 0}
    assert data["counts"]["CN"] == {"knowledge": 2, "rule": 1}
    assert data["counts"]["510000"] == {"override": 1}


def test_sarif_report_annotates_lines(store: Path) -> None:
    write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW})
    result = runner.invoke(app, ["validate", "--format", "sarif"])
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["rules"][0]["id"] == "TK601"
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "national/knowledge/laws/CN-K-0003.yaml"
    assert location["region"]["startLine"] == 6
    assert run["results"][0]["level"] == "error"


def test_warnings_pass_unless_strict(store: Path) -> None:
    write_files(
        store,
        {
            "national/knowledge/laws/CN-K-0003.yaml": "id: CN-K-0003\ncategory: 法律法规\ntitle: 【待填写：标题】\nstatus: 草稿\n"
        },
    )
    assert runner.invoke(app, ["validate"]).exit_code == 0
    assert runner.invoke(app, ["validate", "--strict"]).exit_code == 1


def test_paths_limit_the_report_not_the_context(store: Path) -> None:
    write_files(store, {"national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW})
    assert runner.invoke(app, ["validate", "national/rules"]).exit_code == 0
    assert runner.invoke(app, ["validate", "national/knowledge/laws/CN-K-0003.yaml"]).exit_code == 1


def test_region_limits_the_report_to_its_chain(store: Path) -> None:
    write_files(
        store,
        {
            "provincial/520000/knowledge/laws/520000-K-0001.yaml": "id: 520000-K-0001\ncategory: 法律法规\ntitle: 某规\nstatus: 生效\n"
            "effective: 2025-01-01\nexpires: 2024-01-01\n"
        },
    )
    assert runner.invoke(app, ["validate", "--region", "510100"]).exit_code == 0
    assert runner.invoke(app, ["validate", "--region", "520000"]).exit_code == 1


def test_usage_errors_exit_2(store: Path) -> None:
    result = runner.invoke(app, ["validate", "--region", "12345"])
    assert result.exit_code == 2
    assert "--region" in result.output
    assert runner.invoke(app, ["validate", "no/such/path"]).exit_code == 2
    assert runner.invoke(app, ["validate", "--format", "xml"]).exit_code == 2


def test_outside_a_store_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert "twoku.yaml" in result.output and "Traceback" not in result.output


def test_cache_is_used_and_invalidated_by_content(store: Path, tmp_path: Path) -> None:
    from twoku.ops.validate import validate

    first = validate(store)
    assert first.cached == 0
    again = validate(store)
    assert again.cached == again.checked
    write_files(
        store,
        {
            "national/knowledge/laws/CN-K-0001.yaml": (store / "national/knowledge/laws/CN-K-0001.yaml")
            .read_text(encoding="utf-8")
            .replace("status: 生效", "status: 生效x")
        },
    )
    changed = validate(store)
    # The changed file is read, and so are those the re-check needs beside it (what cites it); not the rest.
    assert 0 < changed.cached <= changed.checked - 1
    assert [f.code for f in changed.findings] == ["TK201"]
    assert validate(store, use_cache=False).cached == 0


def test_cache_lives_under_git_when_not_told_otherwise(store: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TWOKU_CACHE_DIR")
    assert runner.invoke(app, ["validate"]).exit_code == 0
    assert list((store / ".git" / "twoku").glob("validate-*.pickle"))
    from tests.storefactory import git

    assert git(store, "status", "--porcelain") == ""


def test_waived_findings_still_show_in_json(store: Path) -> None:
    write_files(
        store,
        {
            "national/knowledge/laws/CN-K-0003.yaml": BROKEN_LAW,
            "twoku.yaml": "schema_version: 2\nregion: CN\nwaivers:\n"
            "  - {code: TK601, id: CN-K-0003, reason: 待核实原文, expires: 2099-01-01}\n",
        },
    )
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["summary"]["waived"] == 1
    assert data["findings"][0]["waived"] is True
    assert data["findings"][0]["waiver_reason"] == "待核实原文"


def test_console_script_runs_as_a_process(store: Path) -> None:
    result = run_twoku("validate", "--format", "json", cwd=store)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["ok"] is True
    assert run_twoku("--version", cwd=store).stdout.startswith("twoku ")


def test_checks_lists_every_code(store: Path) -> None:
    result = runner.invoke(app, ["checks", "--format", "json"])
    codes = [c["code"] for c in json.loads(result.stdout)]
    assert "TK101" in codes and "TK506" in codes and len(codes) == len(set(codes))


def test_drift_says_what_changed_upstairs(store: Path) -> None:
    from tests.storefactory import RULE, RULE_PATH, commit_all

    write_files(store, {RULE_PATH: RULE.replace("value: 15", "value: 12")})
    commit_all(store, "国家调整分解住院阈值")
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 1
    [drift] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK506"]
    assert drift["path"] == "provincial/510000/overrides/510000-O-0001.yaml"
    assert drift["line"] == 3
    assert "parameters.readmission_days.value：15 → 12" in drift["message"]


def test_a_file_replaced_by_a_link_after_a_cached_run_is_a_finding(store: Path, tmp_path: Path) -> None:
    """Issue 20, item 1: the re-check after an edit reads through the same gate as a cold run (no link followed,
    no pipe waited on); a link, a link to nothing and a pipe are each TK109."""
    assert runner.invoke(app, ["validate"]).exit_code == 0
    outside = tmp_path / "outside.yaml"
    law = store / "national/knowledge/laws/CN-K-0001.yaml"
    outside.write_bytes(law.read_bytes())
    law.unlink()
    law.symlink_to(outside)
    (store / "national/knowledge/laws/CN-K-0007.yaml").symlink_to(tmp_path / "nothing.yaml")
    import os

    os.mkfifo(store / "national/knowledge/laws/CN-K-0008.yaml")
    for args in (["validate", "--format", "json"], ["validate", "--format", "json", "--no-cache"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        odd = sorted(f["path"].rsplit("/", 1)[1] for f in json.loads(result.stdout)["findings"] if f["code"] == "TK109")
        # git never lists a pipe (it cannot be committed); the folder walk of --no-cache names it, unread
        pipe = ["CN-K-0008.yaml"] if "--no-cache" in args else []
        assert odd == ["CN-K-0001.yaml", "CN-K-0007.yaml", *pipe], result.output


def test_a_linked_folder_or_a_link_of_any_name_is_a_finding(store: Path, tmp_path: Path) -> None:
    """A link the folder walk would not go into, or that is not named .yaml, is still the store's (git keeps it):
    TK109 alike whether git's index or the walk names the files."""
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "CN-R-0099.yaml").write_text("id: CN-R-0099\n", encoding="utf-8")
    (store / "national/rules/elsewhere").symlink_to(tmp_path / "evil")
    (store / "national/knowledge/laws/table.csv").symlink_to("/etc/passwd")
    for committed in (False, True):  # untracked, then in git's index with mode 120000
        if committed:
            commit_all(store, "提交两个链接")
        for args in (["validate", "--format", "json"], ["validate", "--format", "json", "--no-cache"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 1, result.output
            odd = sorted(f["path"] for f in json.loads(result.stdout)["findings"] if f["code"] == "TK109")
            assert odd == ["national/knowledge/laws/table.csv", "national/rules/elsewhere"], result.output
            assert "CN-R-0099" not in result.output


def test_a_link_checked_out_as_a_plain_file_is_a_finding_by_git_s_mode(store: Path, tmp_path: Path) -> None:
    """core.symlinks=false checks a committed link out as a file holding its target's name: git's mode says."""
    git(store, "config", "core.symlinks", "false")
    (tmp_path / "target").write_text("/etc/passwd", encoding="utf-8")
    blob = git(store, "hash-object", "-w", str(tmp_path / "target")).strip()
    path = "national/knowledge/laws/CN-K-0009.yaml"
    git(store, "update-index", "--add", "--cacheinfo", f"120000,{blob},{path}")
    git(store, "checkout", "--", path)
    git(store, "commit", "-q", "-m", "一个链接")
    assert (store / path).is_file() and not (store / path).is_symlink()
    for _ in range(2):  # cold, then from the cache
        result = runner.invoke(app, ["validate", "--format", "json"])
        assert result.exit_code == 1, result.output
        assert [f["path"] for f in json.loads(result.stdout)["findings"] if f["code"] == "TK109"] == [path]
