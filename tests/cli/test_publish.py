"""twoku publish --public-summary on real git stores: what is published, what never is."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tests import fakes
from tests.storefactory import commit_all, digest_of, git, load_text, write_files
from twoku.cli import app
from twoku.model.disclosure import at_path
from twoku.model.schemas import all_schemas
from twoku.ops import publish as publish_op

runner = CliRunner()
RULE_17 = "national/rules/actor-supervision/CN-R-0017.yaml"
FORMATS = ("html", "md", "xlsx", "json")


def publish(*args: str, out: Path, code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, ["publish", "--public-summary", *args, "--out", str(out)])
    assert result.exit_code == code, result.output
    if code:
        return {"output": result.output}
    return {"output": result.output, **{fmt: next(out.glob(f"*.{fmt}")).read_bytes() for fmt in FORMATS}}


def data_of(published: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(published["json"])
    return data


def rules_by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in data["rules"]}


def load(root: Path, rel: str) -> Any:
    return yaml.safe_load((root / rel).read_text(encoding="utf-8"))


def dump(root: Path, rel: str, data: Any) -> None:
    write_files(root, {rel: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})


def argued_again(root: Path, rel: str) -> None:
    """After a rule's normative change: its argumentation records and the overrides of it bound
    to the new content (as re-argumentation and ``override rebase`` would), so the store validates."""
    text = (root / rel).read_text(encoding="utf-8")
    rule_id, digest = load_text(text)["id"], digest_of(text)
    for path in sorted(root.glob("argumentation/*.yaml")) + sorted(root.glob("**/overrides/*.yaml")):
        data, changed = load(root, str(path.relative_to(root))), False
        for subject in data.get("subjects") or []:
            if subject["id"] == rule_id:
                subject["digest"], changed = digest, True
        if data.get("target") == rule_id:
            data["base_digest"], changed = digest, True
        if changed:
            dump(root, str(path.relative_to(root)), data)


def xlsx_text(raw: bytes) -> str:
    """Every cell of the workbook, and every part of the archive, as text."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(raw))
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    parts = [
        zipfile.ZipFile(io.BytesIO(raw)).read(n).decode("utf-8") for n in zipfile.ZipFile(io.BytesIO(raw)).namelist()
    ]
    return "\n".join(cells + parts)


def all_text(published: dict[str, Any]) -> dict[str, str]:
    return {
        "html": published["html"].decode("utf-8"),
        "md": published["md"].decode("utf-8"),
        "json": published["json"].decode("utf-8"),
        "xlsx": xlsx_text(published["xlsx"]),
    }


# --- the effective library of a region ------------------------------------------------------


def test_city_summary_has_local_parameters_with_the_layer_that_set_them(shipped: Path, tmp_path: Path) -> None:
    out = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")
    data = data_of(out)
    assert (data["region"], data["audience"], data["as_of"]) == ("510100", "institutions", "2026-06-30")
    assert data["revision"] == git(shipped, "rev-parse", "HEAD").strip()
    rule = rules_by_id(data)["CN-R-0017"]
    params = {p["name"]: p for p in rule["parameters"]}
    assert (params["readmission_days"]["value"], params["readmission_days"]["layer"]) == (10, "510000")
    assert params["readmission_days"]["source"] == "510000-O-0001"
    assert (params["same_diagnosis_only"]["value"], params["same_diagnosis_only"]["layer"]) == (False, "510100")
    assert rule["monitoring_point"].startswith("同一患者从本院出院后10天内")  # the local value, not the national 15
    assert rule["localised_by"] == ["510000-O-0001", "510100-O-0002"]
    basis = {b["id"]: b for b in rule["basis"]}
    assert basis["CN-K-0003"]["title"] == "医疗保障基金使用监督管理条例"
    assert basis["CN-K-0003"]["doc_number"] == "国务院令第735号"
    assert basis["CN-K-0003"]["article"] == "第十五条第一款、第三十八条第（一）项"
    ids = set(rules_by_id(data))
    assert {"510000-R-0001", "510100-R-0001"} <= ids
    assert "CN-R-0033" not in ids  # 征求意见, not 生效
    assert "CN-R-0016" not in ids  # 废弃
    md = out["md"].decode("utf-8")
    assert (
        "| `readmission_days` | 前次出院至后次入院的间隔天数上限，在此天数内再次入院的进入判断 "
        "| 10天（国家建议值 15天） | 四川省（示例） |" in md
    )
    assert "# 成都市（示例）医疗保障基金智能监控规则公开摘要" in md


def test_as_of_leaves_out_what_is_not_yet_in_force(shipped: Path, tmp_path: Path) -> None:
    data = data_of(publish("--region", "510000", "--as-of", "2025-06-30", out=tmp_path / "out"))
    rule = rules_by_id(data)["CN-R-0017"]
    params = {p["name"]: p for p in rule["parameters"]}
    assert (params["readmission_days"]["value"], params["readmission_days"]["layer"]) == (
        15,
        "CN",
    )  # override from 2025-07-01
    assert rule["localised_by"] == []
    assert "CN-R-0001" not in rules_by_id(data)  # effective 2026-01-01
    assert all(r["effective"] is None or r["effective"] <= "2025-06-30" for r in data["rules"])


def test_a_province_does_not_see_its_cities_layer(shipped: Path, tmp_path: Path) -> None:
    data = data_of(publish("--region", "510000", "--as-of", "2026-06-30", out=tmp_path / "out"))
    assert "510100-R-0001" not in rules_by_id(data)
    params = {p["name"]: p for p in rules_by_id(data)["CN-R-0017"]["parameters"]}
    assert params["same_diagnosis_only"]["value"] is True
    assert params["same_diagnosis_only"]["suggested"] is None  # the province kept the national value
    assert (params["readmission_days"]["value"], params["readmission_days"]["suggested"]) == (10, 15)


# --- recorded and reproducible --------------------------------------------------------------


def test_same_revision_and_date_give_byte_identical_files(shipped: Path, tmp_path: Path) -> None:
    first = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "a")
    second = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "b")
    for fmt in FORMATS:
        assert first[fmt] == second[fmt], fmt
    assert "该版本此前已记录发布" in second["output"]
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(first["xlsx"])).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert b"2026-06-30T00:00:00Z" in zipfile.ZipFile(io.BytesIO(first["xlsx"])).read("docProps/core.xml")


def test_publication_is_an_annotated_tag_that_diff_can_start_from(shipped: Path, tmp_path: Path) -> None:
    publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")
    assert git(shipped, "cat-file", "-t", "publish/510100/2026-06-30").strip() == "tag"
    assert git(shipped, "rev-parse", "publish/510100/2026-06-30^{commit}") == git(shipped, "rev-parse", "HEAD")
    result = runner.invoke(app, ["diff", "--since", "last-publish", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == []


def test_change_section_since_the_last_publication_of_the_region(shipped: Path, tmp_path: Path) -> None:
    publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "first")
    rule = load(shipped, RULE_17)
    rule["violations"].append("出院当日以同一诊断再次入院")
    rule["notes"] = "只改了内部备注"
    dump(shipped, RULE_17, rule)
    argued_again(shipped, RULE_17)
    commit_all(shipped, "增加违规情形")
    again = publish("--region", "510100", "--as-of", "2026-07-01", out=tmp_path / "second")
    data = data_of(again)
    assert data["since_tag"] == "publish/510100/2026-06-30"
    [change] = data["changes"]
    assert (change["id"], change["change"], change["label"]) == ("CN-R-0017", "modified", "修改")
    assert [(f["label"], f["kind"], f["new"]) for f in change["fields"]] == [
        ("具体违规情形", "added", "出院当日以同一诊断再次入院")
    ]
    assert "出院当日以同一诊断再次入院" in again["md"].decode("utf-8").split("## 变更情况")[1]
    # Built again at the same revision, the change section still compares with the earlier publication.
    third = publish("--region", "510100", "--as-of", "2026-07-01", out=tmp_path / "third")
    assert third["json"] == again["json"] and third["html"] == again["html"]


def test_only_internal_changes_make_no_change_entry(shipped: Path, tmp_path: Path) -> None:
    publish("--region", "510000", "--as-of", "2026-06-30", out=tmp_path / "first")
    rule = load(shipped, RULE_17)
    rule["notes"] = "内部复核中"
    dump(shipped, RULE_17, rule)
    commit_all(shipped, "内部备注")
    data = data_of(publish("--region", "510000", "--as-of", "2026-07-01", out=tmp_path / "second"))
    assert data["since_tag"] == "publish/510000/2026-06-30" and data["changes"] == []


# --- refusals: nothing written, no tag ------------------------------------------------------


def _no_trace(root: Path, out: Path) -> None:
    assert not out.exists() or not any(out.iterdir())
    assert git(root, "tag", "--list", "publish/*").strip() == ""


def test_refuses_a_resident_id_number(shipped: Path, tmp_path: Path) -> None:
    rule = load(shipped, RULE_17)
    rule["violations"].append(f"参保人 {fakes.ID} 出院次日再次入院")
    dump(shipped, RULE_17, rule)
    commit_all(shipped, "误录个人信息")
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "居民身份证号码" in result["output"] and fakes.ID not in result["output"]
    _no_trace(shipped, tmp_path / "out")


def test_refuses_a_mobile_number(shipped: Path, tmp_path: Path) -> None:
    rule = load(shipped, RULE_17)
    rule["monitoring_point"] += f"咨询电话 {fakes.MOBILE}。"
    dump(shipped, RULE_17, rule)
    commit_all(shipped, "误录手机号")
    result = publish("--region", "CN", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "手机号码" in result["output"]
    _no_trace(shipped, tmp_path / "out")


def test_refuses_a_store_with_errors_and_says_how_many(shipped: Path, tmp_path: Path) -> None:
    rule = load(shipped, RULE_17)
    rule["violations"].append("出院当日以同一诊断再次入院")  # not argued again, overrides not rebased
    dump(shipped, RULE_17, rule)
    commit_all(shipped, "未论证的修改")
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "有 3 个错误" in result["output"] and "twoku validate --region 510100" in result["output"]
    assert "TK603" in result["output"]
    _no_trace(shipped, tmp_path / "out")


def test_warnings_never_block(shipped: Path, tmp_path: Path) -> None:
    draft = "national/rules/drug-policy/CN-R-0033.yaml"
    rule = load(shipped, draft)
    rule["status"] = "草稿"
    rule["basis"].append({"id": "CN-K-0014"})  # a draft citing deprecated knowledge: TK403 as a warning
    dump(shipped, draft, rule)
    commit_all(shipped, "草稿引用了已废弃的知识")
    result = runner.invoke(
        app, ["publish", "--public-summary", "--as-of", "2026-06-30", "--report", "json", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] >= 1


def test_refuses_uncommitted_changes(shipped: Path, tmp_path: Path) -> None:
    (shipped / RULE_17).write_text((shipped / RULE_17).read_text(encoding="utf-8") + "\n# 未提交\n", encoding="utf-8")
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "未提交" in result["output"] and RULE_17 in result["output"]
    _no_trace(shipped, tmp_path / "out")


def test_refuses_a_date_already_published_at_another_revision(shipped: Path, tmp_path: Path) -> None:
    publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "first")
    commit_all(shipped, "另一个版本")
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "second", code=1)
    assert "publish/510100/2026-06-30" in result["output"]
    assert not (tmp_path / "second").exists()


def test_usage_errors(shipped: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["publish", "--region", "510100"]).exit_code == 2
    assert publish("--as-of", "2026-13-01", out=tmp_path / "o", code=2)
    assert publish("--format", "pdf", out=tmp_path / "o", code=2)
    assert publish("--region", "510101", out=tmp_path / "o", code=2)


def test_format_subset(shipped: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["publish", "--public-summary", "--as-of", "2026-06-30", "--format", "md,json", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["CN-2026-06-30.json", "CN-2026-06-30.md"]


def test_report_json_says_what_was_written(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["publish", "--public-summary", "--region", "510100", "--as-of", "2026-06-30", "--out", str(out)]
    result = runner.invoke(app, [*args, "--format", "html,json", "--report", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the data alone on stdout
    assert (report["region"], report["audience"], report["tag"], report["tagged_now"]) == (
        "510100", "institutions", "publish/510100/2026-06-30", True
    )  # fmt: skip
    assert report["revision"] == git(shipped, "rev-parse", "HEAD").strip()
    assert report["rules"] == len(data_of({"json": (out / "510100-2026-06-30.json").read_bytes()})["rules"])
    assert sum(report["categories"].values()) == report["rules"] and report["warnings"] == 0
    for entry in report["files"]:
        raw = Path(entry["path"]).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert [f["format"] for f in report["files"]] == ["html", "json"]
    again = runner.invoke(app, [*args, "--format", "html,json"])
    assert again.exit_code == 0 and "该版本此前已记录发布" in again.stdout and "网页" in again.stdout


# --- nothing internal, in any format --------------------------------------------------------


def internal_paths(schema: dict[str, Any], prefix: str = "", level: str = "internal") -> set[str]:
    """Every property path the schema marks ``level`` (not descending below one)."""
    found: set[str] = set()
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if sub.get("x-twoku-disclosure") == level:
            found.add(path)
            continue
        found |= internal_paths(sub, path + ".", level)
        for key, step in (("items", "[]."), ("additionalProperties", ".*.")):
            if isinstance(sub.get(key), dict):
                found |= internal_paths(sub[key], path + step, level)
    return found


class Markers:
    def __init__(self, round_: int) -> None:
        self.round = round_
        self.planted: dict[str, str] = {}  # marker → where
        self.paths: set[tuple[str, str]] = set()  # (kind, schema path) covered

    def __call__(self, kind: str, path: str, item: str) -> str:
        marker = f"ZZLEAK{self.round}x{len(self.planted):03d}QQ"
        self.planted[marker] = f"{item}:{path}"
        self.paths.add((kind, path))
        return marker

    def digest(self, kind: str, path: str, item: str) -> str:
        marker = self(kind, path, item)
        hexed = hashlib.sha256(marker.encode()).hexdigest()
        self.planted[hexed] = f"{item}:{path} (as digest)"
        return "sha256:" + hexed


ITEMS = {
    "rule": [RULE_17, "provincial/510000/rules/actor-supervision/510000-R-0001.yaml"],
    "knowledge": ["national/knowledge/laws/CN-K-0003.yaml"],
    "override": [
        "provincial/510000/overrides/510000-O-0001.yaml",
        "provincial/510000/municipal/510100/overrides/510100-O-0002.yaml",
    ],
    "argumentation": ["argumentation/CN-A-0002.yaml"],
    "adjustment": ["adjustments/CN-annual-2025.yaml"],
}


def plant(root: Path, mark: Markers) -> None:
    """A marker in every internal field of the items above, and in an undeclared field."""
    for kind, paths in ITEMS.items():
        for rel in paths:
            data = load(root, rel)
            data["notes"] = mark(kind, "notes", rel)
            if kind == "override":
                data["base_digest"] = mark.digest(kind, "base_digest", rel)
            if kind == "rule":
                data["internal_memo"] = mark(kind, "undeclared", rel)  # not in the schema: never published
                data["violations"].append(
                    f"公开的违规情形 {mark.round}"
                )  # a public change, so the section is not empty
            if kind == "argumentation":
                for subject in data["subjects"]:
                    subject["digest"] = mark.digest(kind, "subjects[].digest", rel)
                    subject["tables"] = [{"id": "CN-K-0030", "digest": mark.digest(kind, "subjects[].tables", rel)}]
                data["participants"] = [
                    {
                        field: mark(kind, "participants", rel)
                        for field in ("name", "affiliation", "affiliation_type", "field")
                    }
                    for _ in range(2)
                ]
                data["opinions"] = [mark(kind, "opinions", rel), mark(kind, "opinions", rel)]
                data["minutes"] = mark(kind, "minutes", rel)
            for path in sorted(internal_paths(all_schemas()[kind])):  # a field added later is covered too
                if "." not in path and (kind, path) not in mark.paths:
                    data[path] = mark(kind, path, rel)
            dump(root, rel, data)


def test_no_internal_value_reaches_any_format(shipped: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(publish_op, "refuse_invalid", lambda root, region: None)  # markers are not valid data
    first, second = Markers(1), Markers(2)
    plant(shipped, first)
    commit_all(shipped, "内部字段（第一轮）")
    outputs = [publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "r1")]
    plant(shipped, second)  # the change section now sees every internal field change
    commit_all(shipped, "内部字段（第二轮）")
    for audience in ("institutions", "society"):
        outputs.append(
            publish("--region", "510100", "--as-of", "2026-07-01", "--audience", audience, out=tmp_path / audience)
        )
    # Every internal field of every kind of item file the store holds carries a marker.
    expected = {(kind, path) for kind in ITEMS for path in internal_paths(all_schemas()[kind])}
    assert expected <= first.paths, expected - first.paths
    markers = {**first.planted, **second.planted}
    assert len(markers) > 40
    for published in outputs:
        for fmt, text in all_text(published).items():
            leaked = [where for marker, where in markers.items() if marker in text]
            assert leaked == [], f"{fmt}: {leaked}"
    # The planted items are published and changed, so the markers had every chance to appear.
    data = data_of(outputs[1])
    assert {"CN-R-0017", "510000-R-0001"} <= set(rules_by_id(data))
    assert {c["id"] for c in data["changes"]} == {"CN-R-0017", "510000-R-0001"}
    assert all(f["label"] == "具体违规情形" for c in data["changes"] for f in c["fields"])


# --- institutions see more than society (第十二条) ---------------------------------------------


def test_what_only_institutions_see(shipped: Path) -> None:
    rule = all_schemas()["rule"]
    only_institutions = internal_paths(rule, level="institutions")
    assert {"logic", "condition", "examples", "focus", "parameters.*.localisable"} <= only_institutions
    # The monitoring points and standards themselves stay public, thresholds with their units.
    for path in ("name", "definition", "monitoring_point", "uses", "level", "violations", "framework_code",
                 "basis[CN-K-0003].article", "parameters.days.value", "parameters.days.unit"):  # fmt: skip
        assert at_path("rule", path, "society")[0] is not None, path
    for path in ("logic", "condition", "examples", "focus", "parameters.days.localisable.max"):
        assert at_path("rule", path, "society")[0] is None and at_path("rule", path, "institutions")[0] is not None


def test_institutions_read_the_judgement_logic_society_reads_the_standard(shipped: Path, tmp_path: Path) -> None:
    both = {
        audience: publish(
            "--region", "510100", "--as-of", "2026-06-30", "--audience", audience, out=tmp_path / audience
        )
        for audience in ("institutions", "society")
    }
    logic = load(shipped, RULE_17)["logic"].splitlines()[1].strip()  # a line of CN-R-0017's judgement logic
    seen = {audience: rules_by_id(data_of(out))["CN-R-0017"] for audience, out in both.items()}
    assert seen["institutions"]["logic"].splitlines()[1] == logic and seen["society"]["logic"] is None
    for fmt, text in all_text(both["institutions"]).items():
        assert logic in text, fmt
    for fmt, text in all_text(both["society"]).items():
        assert logic not in text, fmt
        assert fmt == "json" or "判断逻辑只向辖区定点医药机构公开" in text, fmt  # said to the reader
    # Society still reads a summary that makes sense: the point, the standard, the cases; the exact threshold is
    # disclosed to the institutions unless the store publishes it (tests/cli/test_publish_values.py).
    society = seen["society"]
    assert society["monitoring_point"] and society["definition"] and society["violations"]
    assert society["level"] == "可疑" and "稽核" in society["uses"]
    params = {p["name"]: p for p in society["parameters"]}
    assert (params["readmission_days"]["value"], params["readmission_days"]["withheld"]) == (
        "阈值向定点医药机构公开",
        True,
    )
    assert "出院后10天" not in both["society"]["md"].decode("utf-8")
    assert "出院后10天" in both["institutions"]["md"].decode("utf-8")
    # Same rules for both audiences: what differs is how much of each rule.
    assert set(rules_by_id(data_of(both["society"]))) == set(rules_by_id(data_of(both["institutions"])))
    assert len(both["institutions"]["json"]) > len(both["society"]["json"])


def _plant_institutions_only(root: Path, mark: Markers) -> None:
    """A marker in every institutions-only field of the published rules and their parameters."""
    for rel in ITEMS["rule"]:
        data = load(root, rel)
        for path in sorted(internal_paths(all_schemas()["rule"], level="institutions")):
            if path.startswith("parameters.*."):
                for spec in (data.get("parameters") or {}).values():
                    spec[path.rsplit(".", 1)[1]] = {"choices": [mark("rule", path, rel)]}
            elif "." not in path:
                data[path] = mark("rule", path, rel)
            elif "*" not in path and "[]" not in path:  # a nested field (an indicator's where): its own mapping
                *parents, leaf = path.split(".")
                node = data
                for step in parents:
                    if not isinstance(node.get(step), dict):
                        node[step] = {}
                    node = node[step]
                node[leaf] = mark("rule", path, rel)
        dump(root, rel, data)


def test_society_never_sees_an_institutions_only_value(shipped: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(publish_op, "refuse_invalid", lambda root, region: None)  # markers are not valid data
    first, second = Markers(1), Markers(2)
    _plant_institutions_only(shipped, first)
    commit_all(shipped, "仅向定点医药机构公开的字段（第一轮）")
    publish("--region", "510100", "--as-of", "2026-06-30", "--audience", "society", out=tmp_path / "r1")
    _plant_institutions_only(shipped, second)  # the change section now sees every such field change
    commit_all(shipped, "仅向定点医药机构公开的字段（第二轮）")
    society = publish("--region", "510100", "--as-of", "2026-07-01", "--audience", "society", out=tmp_path / "s")
    institutions = publish("--region", "510100", "--as-of", "2026-07-01", out=tmp_path / "i")
    assert {p for _, p in first.paths} == internal_paths(all_schemas()["rule"], level="institutions")
    markers = {**first.planted, **second.planted}
    for fmt, text in all_text(society).items():
        leaked = [where for marker, where in markers.items() if marker in text]
        assert leaked == [], f"{fmt}: {leaked}"
    # The institutions do see them: the new logic in the rule and, in JSON, the change of logic.
    logic_now = [m for m, where in second.planted.items() if where.endswith(":logic")]
    for fmt, text in all_text(institutions).items():
        assert all(m in text for m in logic_now), fmt
    changes = {c["id"]: c for c in data_of(institutions)["changes"]}
    assert "逻辑" in {f["label"] for f in changes["CN-R-0017"]["fields"]}
    assert data_of(society)["changes"] == []  # only institutions-only fields changed


def test_a_committed_link_out_of_the_store_is_never_followed_into_a_publication(shipped: Path, tmp_path: Path) -> None:
    """Issue 20, item 1: a rule file that is a symbolic link to a file outside the store (its content a valid
    rule) is a TK109 finding; publish refuses, and the outside file's content is in no output."""
    outside = tmp_path / "secret.yaml"
    secret = (shipped / RULE_17).read_text(encoding="utf-8").replace("CN-R-0017", "CN-R-0099")
    outside.write_text(secret.replace("name: 分解住院", "name: 库外机密内容"), encoding="utf-8")
    link = shipped / "national/rules/actor-supervision/CN-R-0099.yaml"
    link.symlink_to(outside)
    commit_all(shipped, "一个指向库外的链接")
    assert git(shipped, "ls-files", "-s", str(link.relative_to(shipped))).startswith("120000")
    found = runner.invoke(app, ["validate", "--format", "json"])
    assert found.exit_code == 1 and "TK109" in found.output and "库外机密内容" not in found.output
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "不是普通文件" in result["output"] and "库外机密内容" not in result["output"]
    assert not (tmp_path / "out").exists() and "publish/" not in git(shipped, "tag")


def test_a_linked_layer_folder_is_a_finding_not_walked_into(shipped: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    (shipped / "provincial").rename(moved)
    (shipped / "provincial").symlink_to(moved)
    result = runner.invoke(app, ["validate", "--format", "json", "--no-cache"])
    assert result.exit_code == 1 and "TK109" in result.output
    paths = {f["path"] for f in json.loads(result.stdout)["findings"] if f["code"] == "TK109"}
    assert paths == {"provincial"}


def test_a_link_git_keeps_is_refused_even_where_it_is_checked_out_as_a_plain_file(
    shipped: Path, tmp_path: Path
) -> None:
    """core.symlinks=false checks a link out as a file holding its target's name: publish asks git's mode."""
    git(shipped, "config", "core.symlinks", "false")
    (tmp_path / "target").write_text("/etc/passwd", encoding="utf-8")
    blob = git(shipped, "hash-object", "-w", str(tmp_path / "target")).strip()
    path = "national/rules/actor-supervision/CN-R-0098.yaml"
    git(shipped, "update-index", "--add", "--cacheinfo", f"120000,{blob},{path}")
    git(shipped, "checkout", "--", path)
    git(shipped, "commit", "-q", "-m", "一个链接")
    assert (shipped / path).is_file() and not (shipped / path).is_symlink()
    result = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
    assert "不是普通文件" in result["output"] and path in result["output"]
    assert not (tmp_path / "out").exists()
