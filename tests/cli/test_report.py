"""report-upstream, release and intake on real repositories: national store → province fork → city fork."""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.storefactory import RULE, RULE_PATH, commit_all, git, make_store, write_files
from twoku.cli import app
from twoku.store import archive

runner = CliRunner()

PROVINCE_RULE_PATH = "provincial/510000/rules/actor-supervision/510000-R-0001.yaml"
PROVINCE_RULE = """\
id: 510000-R-0001
name: 挂床住院（四川）
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
violations:
  - 住院期间连续 3 天无诊疗记录
basis:
  - id: CN-K-0001
    article: 第十五条
status: 草稿
"""
CITY_RULE_PATH = "provincial/510000/municipal/510100/rules/actor-supervision/510100-R-0001.yaml"
CITY_RULE = PROVINCE_RULE.replace("510000-R-0001", "510100-R-0001").replace("（四川）", "（成都）")
OVERRIDE_PATH = "provincial/510000/overrides/510000-O-0001.yaml"


def clone(src: Path, dst: Path, region: str, upstream: str) -> Path:
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True, capture_output=True)
    git(dst, "config", "user.name", "测试员")
    git(dst, "config", "user.email", "test@example.org")
    config = (dst / "twoku.yaml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^upstream: .*\n", "", re.sub(r"(?m)^region: .*$", f"region: {region}", config))
    write_files(dst, {"twoku.yaml": config + f"upstream: {upstream}\n"})
    commit_all(dst, f"本库为 {region}")
    return dst


def invoke(cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str, code: int = 0) -> dict[str, Any]:
    monkeypatch.chdir(cwd)
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout) if code == 0 else {}
    return data


def refs(root: Path) -> str:
    return git(root, "for-each-ref", "--format=%(refname) %(objectname)")


def state(root: Path) -> tuple[str, str, str, list[str]]:
    """Everything intake could leave behind: refs, HEAD, the working tree and worktrees."""
    worktrees = sorted(p.name for p in (root / ".git" / "worktrees").glob("*"))
    return refs(root), git(root, "rev-parse", "HEAD"), git(root, "status", "--porcelain", "--ignored"), worktrees


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Path, Path]:
    """A national store and a province forked from it that added a rule and made a mixed commit."""
    national = make_store(tmp_path / "national")
    province = clone(national, tmp_path / "province", "510000", "国家医保局")
    write_files(province, {PROVINCE_RULE_PATH: PROVINCE_RULE})
    commit_all(province, "新增本省规则 挂床住院")
    fact = (province / "national/knowledge/medical/CN-K-0002.yaml").read_text(encoding="utf-8")
    rule = PROVINCE_RULE.replace("absent_days:\n    value: 3", "absent_days:\n    value: 4")
    write_files(province, {PROVINCE_RULE_PATH: rule, "national/knowledge/medical/CN-K-0002.yaml": fact + "notes: x\n"})
    commit_all(province, "调整挂床天数，并顺手改了国家文件")
    return national, province


def test_round_trip_city_to_province_to_nation(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    national, province = chain
    city = clone(province, tmp_path / "city", "510100", "四川省医保局")
    write_files(city, {CITY_RULE_PATH: CITY_RULE})
    commit_all(city, "新增本市规则")

    up = invoke(city, monkeypatch, "report-upstream", "--out", str(tmp_path / "city.tar.gz"))
    assert up["tag"].startswith("report/四川省医保局/")
    assert [i["id"] for i in up["manifest"]["items"]] == ["510100-R-0001"]
    assert [c["subject"] for c in up["manifest"]["left_out"]] == ["本库为 510100"]

    got = invoke(province, monkeypatch, "intake", str(tmp_path / "city.tar.gz"))
    assert got["branch"].startswith("intake/510100/") and not got["already_applied"]
    assert git(province, "show", f"{got['branch']}:{CITY_RULE_PATH}") == CITY_RULE
    assert not (province / CITY_RULE_PATH).exists()  # the user's checkout is untouched
    assert git(province, "branch", "--show-current").strip() == "main"

    report = invoke(province, monkeypatch, "report-upstream", "--propose", "510000-R-0001",
                    "--out", str(tmp_path / "province.tar.gz"))  # fmt: skip
    manifest = report["manifest"]
    assert manifest["region"] == "510000" and manifest["kind"] == "report"
    assert manifest["base"]["commit"] == git(national, "rev-parse", "HEAD").strip()
    assert [(i["id"], i["change"]) for i in manifest["items"]] == [("510000-R-0001", "added")]
    assert manifest["proposed"][0]["id"] == "510000-R-0001"
    assert [p["subject"] for p in manifest["patches"]] == ["新增本省规则 挂床住院", "调整挂床天数，并顺手改了国家文件"]
    # issue #21.10: git names a patch with a Chinese subject 0001-12.patch; it is named by what it changes
    assert [p["name"] for p in manifest["patches"]] == [
        "patches/0001-510000-R-0001.patch",
        "patches/0002-510000-R-0001.patch",
    ]
    assert manifest["patches"][1]["cut"] == ["national/knowledge/medical/CN-K-0002.yaml"]
    assert "本库为 510000" in [c["subject"] for c in manifest["left_out"]]
    assert list(manifest["files"]) == [PROVINCE_RULE_PATH]  # the city's rule stays in the province

    # git am of the series applies cleanly on a plain clone of the national store
    upstream_clone = tmp_path / "upstream-clone"
    subprocess.run(["git", "clone", "-q", str(national), str(upstream_clone)], check=True)
    git(upstream_clone, "config", "user.name", "审阅员")
    git(upstream_clone, "config", "user.email", "r@example.org")
    with tarfile.open(tmp_path / "province.tar.gz") as tar:
        patches = [tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("patches/")]  # type: ignore[union-attr]
    for n, patch in enumerate(patches):
        (tmp_path / f"{n}.patch").write_bytes(patch)
    git(upstream_clone, "am", "-q", *(str(tmp_path / f"{n}.patch") for n in range(len(patches))))
    assert "value: 4" in (upstream_clone / PROVINCE_RULE_PATH).read_text(encoding="utf-8")
    assert "notes: x" not in (upstream_clone / "national/knowledge/medical/CN-K-0002.yaml").read_text(encoding="utf-8")

    got = invoke(national, monkeypatch, "intake", str(tmp_path / "province.tar.gz"))
    assert got["branch"].startswith("intake/510000/") and [i["id"] for i in got["items"]] == ["510000-R-0001"]
    assert not [f for f in got["findings"] if f["severity"] == "error"]
    again = invoke(national, monkeypatch, "intake", str(tmp_path / "province.tar.gz"))
    assert again["already_applied"] is True and again["branch"] is None
    monkeypatch.chdir(national)
    assert "已接收过" in runner.invoke(app, ["intake", str(tmp_path / "province.tar.gz")]).output

    # the next report starts at the tag: nothing new, nothing written
    before = refs(province)
    again_report = invoke(province, monkeypatch, "report-upstream", "--out", str(tmp_path / "again.tar.gz"))
    assert again_report["nothing_new"] is True and not (tmp_path / "again.tar.gz").exists()
    assert refs(province) == before
    monkeypatch.chdir(province)
    assert "没有新的提交" in runner.invoke(app, ["report-upstream"]).output


def test_second_report_verifies_upstream_after_the_first_was_taken_in(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    national, province = chain
    invoke(province, monkeypatch, "report-upstream", "--out", str(tmp_path / "1.tar.gz"))
    first = invoke(national, monkeypatch, "intake", str(tmp_path / "1.tar.gz"))
    git(national, "merge", "-q", "--no-edit", first["branch"])
    write_files(province, {PROVINCE_RULE_PATH: PROVINCE_RULE.replace("value: 3", "value: 5")})
    commit_all(province, "再调整挂床天数")
    second = invoke(province, monkeypatch, "report-upstream", "--out", str(tmp_path / "2.tar.gz"))
    assert second["since"]["via"].startswith("report/国家医保局/")
    assert [(i["id"], i["change"]) for i in second["manifest"]["items"]] == [("510000-R-0001", "modified")]
    got = invoke(national, monkeypatch, "intake", str(tmp_path / "2.tar.gz"))
    assert got["branch"] != first["branch"]
    assert "value: 5" in git(national, "show", f"{got['branch']}:{PROVINCE_RULE_PATH}")


def test_archive_is_deterministic(chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, province = chain
    base = git(province, "rev-parse", "origin/main").strip()
    one = invoke(province, monkeypatch, "report-upstream", "--since", base, "--out", str(tmp_path / "a.tar.gz"))
    first = (tmp_path / "a.tar.gz").read_bytes()
    two = invoke(province, monkeypatch, "report-upstream", "--since", base, "--out", str(tmp_path / "b.tar.gz"))
    assert one["tag"] != two["tag"]  # each report is recorded; the archive of the same range is the same
    assert (tmp_path / "b.tar.gz").read_bytes() == first
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {(0, 0, 0, "")}
    assert "cover.md" in [m.name for m in members]


def test_cover_letter_is_chinese_and_says_why(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, province = chain
    invoke(province, monkeypatch, "report-upstream", "--propose", "510000-R-0001", "--out", str(tmp_path / "r.tar.gz"))
    with tarfile.open(tmp_path / "r.tar.gz") as tar:
        letter = tar.extractfile("cover.md").read().decode("utf-8")  # type: ignore[union-attr]
    assert letter.startswith("# 四川省（测试）（510000）两库本地增补报送")
    assert "建议上级采纳" in letter and "参保人住院期间长时间离开医院" in letter
    assert "本库为 510000" in letter  # the left-out commit is listed
    assert "裁去 national/knowledge/medical/CN-K-0002.yaml" in letter
    assert "## 变更明细" in letter and "### 新增（1 条）" in letter


def test_release_down_reports_what_the_fork_must_act_on(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    national, province = chain
    git(national, "tag", "-a", "annual/2025", "-m", "2025 年度调整完成")
    tightened = RULE.replace("min: 7", "min: 12")
    write_files(national, {RULE_PATH: tightened})
    commit_all(national, "年度调整：再入院间隔下限改为 12 天")
    out = invoke(national, monkeypatch, "release", "--out", str(tmp_path / "rel.tar.gz"))  # since last-annual
    assert out["since"]["via"] == "annual/2025"
    assert [i["id"] for i in out["manifest"]["items"]] == ["CN-R-0001"] and out["tag"] is None
    assert list(out["manifest"]["files"]) == [RULE_PATH]

    before_override = (province / OVERRIDE_PATH).read_bytes()
    got = invoke(province, monkeypatch, "intake", str(tmp_path / "rel.tar.gz"))
    assert got["branch"].startswith("intake/CN/")
    codes = {(f["code"], f["path"]) for f in got["act_on"]}
    assert ("TK505", OVERRIDE_PATH) in codes and ("TK506", OVERRIDE_PATH) in codes
    assert git(province, "show", f"{got['branch']}:{OVERRIDE_PATH}").encode() == before_override
    assert "min: 12" in git(province, "show", f"{got['branch']}:{RULE_PATH}")
    monkeypatch.chdir(province)
    again = runner.invoke(app, ["intake", str(tmp_path / "rel.tar.gz")]).output
    assert "已接收过" in again and "already" not in again  # issue #21.9: one language
    git(province, "update-ref", "-d", "refs/twoku/intake/CN")  # forget it, to see the text report once more
    text = runner.invoke(app, ["intake", str(tmp_path / "rel.tar.gz"), "--branch", "review"]).output
    assert "本库须处理" in text and "TK505" in text and "TK506" in text
    assert git(province, "rev-parse", "review^{tree}") == git(province, "rev-parse", got["branch"] + "^{tree}")


def test_report_refused_where_it_makes_no_sense(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    national, province = chain
    invoke(national, monkeypatch, "report-upstream", code=2)
    write_files(province, {PROVINCE_RULE_PATH: PROVINCE_RULE + "notes: 未提交\n"})
    monkeypatch.chdir(province)
    result = runner.invoke(app, ["report-upstream", "--out", str(tmp_path / "x.tar.gz")])
    assert result.exit_code == 1 and "未提交" in result.output and not (tmp_path / "x.tar.gz").exists()
    git(province, "checkout", "-q", "--", PROVINCE_RULE_PATH)
    result = runner.invoke(app, ["report-upstream", "--propose", "CN-R-0001", "--out", str(tmp_path / "x.tar.gz")])
    assert result.exit_code == 2 and "本层" in result.output and not (tmp_path / "x.tar.gz").exists()
    assert "report/" not in refs(province)


# --- hostile and tampered archives: refused with the reason, nothing written -------------------


def rewrite(src: Path, dst: Path, change: Any) -> None:
    """Copy an archive, letting ``change`` edit its members (a dict of name → bytes)."""
    members = archive.unpack(src)
    change(members)
    dst.write_bytes(archive.pack(members))


def _swap_path(members: dict[str, bytes]) -> None:
    """A patch re-pointed at national/ with its manifest hash updated: only the path check can catch it."""
    name = sorted(n for n in members if n.startswith("patches/"))[0]
    patch = members[name].replace(PROVINCE_RULE_PATH.encode(), b"national/rules/actor-supervision/CN-R-0099.yaml")
    members[name] = patch
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["patches"]:
        if entry["name"] == name:
            entry["sha256"] = archive_sha(patch)
    members["manifest.json"] = json.dumps(manifest).encode()


def archive_sha(data: bytes) -> str:
    from twoku.ops.report import sha256

    return sha256(data)


def _tamper_digest(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["items"][0]["digest"] = "sha256:" + "0" * 64
    members["manifest.json"] = json.dumps(manifest).encode()


def _tamper_file_hash(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["files"][PROVINCE_RULE_PATH] = "sha256:" + "1" * 64
    members["manifest.json"] = json.dumps(manifest).encode()


def _tamper_patch(members: dict[str, bytes]) -> None:
    name = sorted(n for n in members if n.startswith("patches/"))[0]
    members[name] = members[name].replace(b"value: 3", b"value: 9")


def _tamper_bundle(members: dict[str, bytes]) -> None:
    members["repo.bundle"] = members["repo.bundle"][:-20] + b"\0" * 20


def _as_release(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["kind"] = "release"
    members["manifest.json"] = json.dumps(manifest).encode()


def _first_patch(members: dict[str, bytes], edit: Any) -> None:
    """Edit the first patch and update its hash in the manifest: only what reads the patch can catch it."""
    name = sorted(n for n in members if n.startswith("patches/"))[0]
    members[name] = edit(members[name])
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["patches"]:
        if entry["name"] == name:
            entry["sha256"] = archive_sha(members[name])
    members["manifest.json"] = json.dumps(manifest).encode()


def _with_link(mode: str, target: str = "/etc/passwd") -> Any:
    """A symbolic link to /etc/passwd inside the sender's own folder, its mode spelled ``mode`` (issue 20, item 1)."""
    link = "provincial/510000/rules/actor-supervision/510000-R-0002.yaml"
    diff = (
        f"diff --git a/{link} b/{link}\nnew file mode {mode}\n--- /dev/null\n+++ b/{link}\n"
        f"@@ -0,0 +1 @@\n+{target}\n\\ No newline at end of file\n"
    ).encode()
    return lambda members: _first_patch(members, lambda patch: patch + diff)


def _rename_national(members: dict[str, bytes]) -> None:
    """A pure rename out of national/: git's numstat names the new path only; the applied change names both."""
    old, new = "national/knowledge/laws/CN-K-0001.yaml", "provincial/510000/knowledge/laws/510000-K-0009.yaml"
    diff = f"diff --git a/{old} b/{new}\nsimilarity index 100%\nrename from {old}\nrename to {new}\n".encode()
    _first_patch(members, lambda patch: patch + diff)


def _two_mails(members: dict[str, bytes]) -> None:
    _first_patch(members, lambda patch: patch + patch.replace(b"value: 3", b"value: 5"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_with_link("120000"), "变成符号链接"),
        (_with_link("0120000"), "变成符号链接"),
        (_with_link("120000  "), "变成符号链接"),
        (_with_link(" 120000"), "变成符号链接"),
        (_rename_national, "national/knowledge/laws/CN-K-0001.yaml，不属于发送方"),
        (_with_link("160000", "Subproject commit " + "1" * 40), "变成子模块"),
        (_two_mails, "不是恰好一封邮件"),
        (_swap_path, "不属于发送方 510000 自己的层级"),
        (_tamper_digest, "内容摘要与补丁产生的内容不符"),
        (_tamper_file_hash, "补丁产生的内容与 manifest.json 记录的摘要不符"),
        (_tamper_patch, "与 manifest.json 记录的摘要不符"),
        (_tamper_bundle, "repo.bundle"),
        (_as_release, "只能由其下级接收"),
    ],
)
def test_tampered_archive_is_refused_and_nothing_is_written(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any, reason: str
) -> None:
    national, province = chain
    invoke(province, monkeypatch, "report-upstream", "--out", str(tmp_path / "good.tar.gz"))
    rewrite(tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz", change)
    before = state(national)
    monkeypatch.chdir(national)
    result = runner.invoke(app, ["intake", str(tmp_path / "bad.tar.gz")])
    assert result.exit_code == 1, result.output
    assert reason in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert state(national) == before


def test_report_from_another_province_cannot_enter_a_province(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    national, province = chain
    other = clone(national, tmp_path / "other", "520000", "国家医保局")
    invoke(province, monkeypatch, "report-upstream", "--out", str(tmp_path / "sc.tar.gz"))
    before = state(other)
    monkeypatch.chdir(other)
    result = runner.invoke(app, ["intake", str(tmp_path / "sc.tar.gz")])
    assert result.exit_code == 1 and "只能由其上级" in result.output
    assert state(other) == before


def test_intake_from_stdin_like_garbage_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(tmp_path / "s")
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        data = b"{}"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "empty.tar.gz").write_bytes(buf.getvalue())
    monkeypatch.chdir(store)
    for name, why in (("junk.tar.gz", "不是有效的 twoku 归档"), ("empty.tar.gz", "twoku-archive/1")):
        result = runner.invoke(app, ["intake", str(tmp_path / name)])
        assert result.exit_code == 1 and why in result.output, result.output


def test_a_layer_with_a_committed_link_is_not_reported(
    chain: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20, item 1: the sender refuses what the receiver would (a link in its own folder), nothing made."""
    _, province = chain
    (province / "provincial/510000/rules/actor-supervision/510000-R-0002.yaml").symlink_to("/etc/passwd")
    commit_all(province, "一个链接")
    before = state(province)
    monkeypatch.chdir(province)
    result = runner.invoke(app, ["report-upstream", "--out", str(tmp_path / "r.tar.gz")])
    assert result.exit_code == 1 and "不是普通文件" in result.output, result.output
    assert state(province) == before and not (tmp_path / "r.tar.gz").exists()
