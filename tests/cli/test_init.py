"""twoku init: a new store that validates and takes new items; a fork registering its region."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import run_twoku
from tests.storefactory import git
from twoku.cli import app
from twoku.store.documents import yamlio

runner = CliRunner()


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "测试员")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.org")


def config(root: Path) -> dict[str, object]:
    data = yamlio.to_json(yamlio.load((root / "twoku.yaml").read_bytes())[0])
    assert isinstance(data, dict)
    return data


def test_init_makes_a_committed_store_that_validates(tmp_path: Path) -> None:
    root = tmp_path / "sc"
    result = runner.invoke(app, ["init", str(root), "--region", "510000"])
    assert result.exit_code == 0, result.output
    assert config(root) == {
        "schema_version": 2,
        "name": "四川省两库",
        "region": "510000",
        "regions": {"510000": "四川省"},
        "argumentation": {"default": ["业务论证"], "focus": ["学术论证", "业务论证", "行业论证"]},
    }
    assert (
        (root / "twoku.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=schema/store.schema.json\n")
    )
    for name in ("rule", "knowledge", "override", "store"):
        assert (root / "schema" / f"{name}.schema.json").is_file()
    for folder in ("national/rules", "provincial/510000/overrides", "argumentation", "adjustments"):
        assert (root / folder / ".gitkeep").is_file()
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "四川省（510000）" in readme and "医保发〔2022〕12号" in readme
    assert "--upstream 上级库" in readme  # a province started on its own is told how to start from above
    assert ".*.tmp" in (root / ".gitignore").read_text(encoding="utf-8")
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "log", "--format=%s").strip() == "初始化四川省两库（本库层级 510000）"
    # the new store validates, and new items land in the province's layer by default
    assert run_twoku("validate", cwd=root).returncode == 0
    made = run_twoku("new", "knowledge", "--category", "laws", "--no-input", "--format", "json", cwd=root)
    assert json.loads(made.stdout)["path"] == "provincial/510000/knowledge/laws/510000-K-0001.yaml"
    check = run_twoku("validate", "--format", "json", cwd=root)
    assert check.returncode == 0 and json.loads(check.stdout)["summary"]["errors"] == 0


def test_init_a_city_names_its_chain(tmp_path: Path) -> None:
    root = tmp_path / "cd"
    result = runner.invoke(app, ["init", str(root), "--region", "510100", "--name", "成都市", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] is True
    assert config(root)["regions"] == {"510000": "四川省", "510100": "成都市"}
    assert (root / "provincial/510000/municipal/510100/rules/.gitkeep").is_file()


@pytest.mark.parametrize(("code", "message"), [("5101", "不是六位"), ("990000", "省级代码"), ("510104", "县级代码")])
def test_unknown_or_malformed_region_is_refused(tmp_path: Path, code: str, message: str) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "x"), "--region", code])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x").exists()


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "a.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path / "busy"), "--region", "CN"])
    assert result.exit_code == 2 and "不是空目录" in result.output
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["a.txt"]


def test_init_in_a_clone_registers_the_forks_region(shipped: Path) -> None:
    before = (shipped / "twoku.yaml").read_text(encoding="utf-8")
    findings = runner.invoke(app, ["validate", "--format", "json"]).stdout
    url = "https://git.example.org/sc/twoku-510000.git"
    result = runner.invoke(app, ["init", ".", "--region", "510100", "--upstream", url])
    assert result.exit_code == 0, result.output
    after = (shipped / "twoku.yaml").read_text(encoding="utf-8")
    # one line changed, one added; the comments and the rest of the layout kept
    assert after == before.replace("region: CN\n", "region: '510100'\n") + f"upstream: {url}\n"
    data = config(shipped)
    assert data["region"] == "510100" and data["upstream"] == url
    assert data["regions"] == {"510000": "四川省（示例）", "510100": "成都市（示例）"}  # names kept
    assert git(shipped, "status", "--porcelain") == ""
    assert git(shipped, "log", "-1", "--format=%s").strip() == "登记本库层级 510100（成都市（示例））"
    assert runner.invoke(app, ["validate", "--format", "json"]).stdout == findings  # nothing new to report
    # a sibling province cannot fork a city's store
    refused = runner.invoke(app, ["init", ".", "--region", "320000"])
    assert refused.exit_code == 2 and "不在本库层级 510100 之下" in refused.output


def _json(result: object) -> dict[str, object]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data: dict[str, object] = json.loads(result.stdout)  # type: ignore[attr-defined]
    return data


@pytest.mark.parametrize("via", ["repository", "bundle"])
def test_a_city_started_from_its_upper_store_holds_it_and_takes_its_releases(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    """Issue #21.3: `init --upstream` made an empty store that could take no release from above."""
    upstream = str(shipped)
    if via == "bundle":  # what crosses a segregated network: one file
        upstream = str(tmp_path / "upper.bundle")
        git(shipped, "bundle", "create", upstream, "--all")
    city = tmp_path / "city"
    made = _json(runner.invoke(app, ["init", str(city), "--region", "510700", "--upstream", upstream, "-f", "json"]))
    assert made["created"] is True and made["region"] == "510700"
    assert config(city)["region"] == "510700"
    assert (city / "national/rules").is_dir() and any((city / "provincial/510000/overrides").glob("*.yaml"))
    readme = (city / "provincial/510000/municipal/510700/README.md").read_text(encoding="utf-8")
    assert "twoku intake" in readme and "git pull upstream" in readme and "git bundle create" in readme
    assert git(city, "status", "--porcelain") == ""
    checked = run_twoku("validate", cwd=city)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = run_twoku("ls", "rules", "--region", "510700", "--format", "json", cwd=city)
    assert "CN-R-0017" in rules.stdout
    # the upper level tightens a rule and releases it; the city takes it in and merges it
    rule = next(shipped.glob("national/rules/*/CN-R-0030.yaml"))
    rel = rule.relative_to(shipped).as_posix()
    rule.write_text(rule.read_text(encoding="utf-8").replace("max: 30", "max: 28"), encoding="utf-8")
    git(shipped, "commit", "-qam", "年度调整：平衡试验间隔上限改为 28 天")
    monkeypatch.chdir(shipped)
    out = tmp_path / "release.tar.gz"
    _json(runner.invoke(app, ["release", "--out", str(out), "--since", "HEAD~1", "-f", "json"]))
    monkeypatch.chdir(city)
    got = _json(runner.invoke(app, ["intake", str(out), "-f", "json"]))
    branch = str(got["branch"])
    assert branch.startswith("intake/CN/")
    git(city, "merge", "-q", "--no-edit", branch)
    assert "max: 28" in (city / rel).read_text(encoding="utf-8")
    assert run_twoku("validate", cwd=city).returncode in (0, 1)  # drifted overrides are the city's to review


def test_an_upper_store_out_of_reach_is_refused_leaving_nothing(tmp_path: Path) -> None:
    """An empty store that says it has an upstream could take no release: refuse, and say how to start offline."""
    root = tmp_path / "sc"
    url = "https://git.invalid/nhsa/twoku.git"
    result = runner.invoke(app, ["init", str(root), "--region", "510000", "--upstream", url])
    assert result.exit_code == 1 and "无法从" in result.output and "git bundle create" in result.output
    assert not root.exists()
    (tmp_path / "plain").mkdir()
    git(tmp_path / "plain", "init", "-q")
    (tmp_path / "plain" / "a.txt").write_text("x", encoding="utf-8")
    git(tmp_path / "plain", "add", "a.txt")
    git(tmp_path / "plain", "commit", "-qm", "x")
    result = runner.invoke(app, ["init", str(root), "--region", "510000", "--upstream", str(tmp_path / "plain")])
    assert result.exit_code == 2 and "不是 twoku 库" in result.output and not root.exists()


@pytest.mark.parametrize("which", ["init", "repository"])
def test_default_outputs_are_ignored_by_git(tmp_path: Path, which: str) -> None:
    """Issue #21.10: publish's and report-upstream's default outputs landed untracked in the store root."""
    root = tmp_path / "sc"
    if which == "init":
        assert runner.invoke(app, ["init", str(root), "--region", "510000"]).exit_code == 0
    else:
        root.mkdir()
        git(root, "init", "-q")
        (root / ".gitignore").write_bytes((Path(__file__).resolve().parents[2] / ".gitignore").read_bytes())
    outputs = ["public-summary-510000-2026-12-01/index.html", "twoku-report-510000-2026-12-01.tar.gz"]
    for name in outputs:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")
    assert git(root, "check-ignore", *outputs).split() == outputs
    assert git(root, "status", "--porcelain", "--untracked-files=all").strip() in ("", "?? .gitignore")
