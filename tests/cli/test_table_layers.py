"""Knowledge tables across layers: a province adds rows to a national table, and an edit of the national table
goes through change control end to end (issue 17, "Done when")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.storefactory import commit_all, git
from twoku.cli import app

runner = CliRunner()
ITEM = "national/knowledge/medical/CN-K-0070.yaml"
CSV = "national/knowledge/medical/CN-K-0070.csv"
RULE = "national/rules/drug-policy/CN-R-0907.yaml"
OVERRIDE = "provincial/510000/overrides/510000-O-0009.yaml"
DRUG_A, DRUG_B, DRUG_C = "XL02BBA326A001010102180", "XG02ADD082D003010179504", "XN07XXD221B002010102774"
COLUMNS = [
    {"name": "code", "title": "药品代码", "type": "code", "system": "CN-K-0030"},
    {"name": "name", "title": "药品通用名", "type": "text"},
    {"name": "sex", "title": "限定性别", "type": "enum", "values": ["男", "女"]},
]


def json_of(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def seal(item_id: str) -> None:
    result = runner.invoke(app, ["table", "seal", item_id])
    assert result.exit_code == 0, result.output


def write(root: Path, path: str, data: dict) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def argue(rule_id: str) -> None:
    """A passing business argumentation of the rule, recorded and committed by signoff record."""
    people = ["-p", "张三|某省医疗保障局|医保管理", "-p", "李四|某市医疗保障事务中心|经办"]
    args = ["signoff", "record", rule_id, "--kind", "业务论证", "--date", "2026-11-20", "--organizer", "国家医疗保障局"]
    result = runner.invoke(app, [*args, *people, "--conclusion", "通过"])
    assert result.exit_code == 0, result.output


def national_table_and_rule(root: Path) -> None:
    table = {"file": "CN-K-0070.csv", "key": ["code"], "columns": COLUMNS, "lower": {"add": True}}
    write(
        root,
        ITEM,
        {
            "id": "CN-K-0070",
            "category": "医药学知识",
            "title": "药品区分性别使用（示例）",
            "status": "生效",
            "table": table,
        },
    )
    (root / CSV).write_text(f"code,name,sex\n{DRUG_A},阿帕他胺片,男\n", encoding="utf-8")
    seal("CN-K-0070")
    condition = {
        "match": {
            "table": "CN-K-0070",
            "on": {"item_code": "code"},
            "where": {"field": "sex", "op": "ne", "value": {"row": "sex"}},
        }
    }
    write(
        root,
        RULE,
        {"id": "CN-R-0907", "name": "药品区分性别使用", "category": "药品政策限定类", "level": "明确违规", "status": "草稿",
         "basis": [{"id": "CN-K-0070"}], "condition": condition},
    )  # fmt: skip


def test_a_national_table_edit_goes_through_change_control_to_the_province_and_the_hits(
    shipped: Path, tmp_path: Path
) -> None:
    national_table_and_rule(shipped)
    commit_all(shipped, "国家知识点明细与规则")
    digest = json_of("show", "CN-K-0070")["digest"]
    added = {"code": DRUG_B, "name": "地诺前列酮栓", "sex": "女", "reason": "本省目录增补（示例）"}
    write(shipped, OVERRIDE, {"id": "510000-O-0009", "target": "CN-K-0070", "base_digest": digest,
                              "reason": "本省增补限定性别的药品", "status": "生效", "rows": {"add": [added]}})  # fmt: skip
    commit_all(shipped, "本省增补")
    argue("CN-R-0907")
    assert not [f for f in json_of("validate")["findings"] if f["code"] in ("TK506", "TK508", "TK604")]
    # The province sees the national row and its own, each with its layer.
    rows = json_of("table", "CN-K-0070", "--region", "510000")["rows"]
    assert [(r["code"], r["_layer"]) for r in rows] == [(DRUG_B, "510000"), (DRUG_A, "CN")]
    git(shipped, "tag", "before")

    # The national table is edited: a row added, sealed, committed.
    with (shipped / CSV).open("a", encoding="utf-8") as fh:
        fh.write(f"{DRUG_C},丁苯酞氯化钠注射液,男\n")
    seal("CN-K-0070")
    commit_all(shipped, "国家增补一个药品")

    # diff shows the row; the rule's sign-off is stale; the province's override is asked to review.
    change = next(i for i in json_of("diff", "--since", "before")["items"] if i["id"] == "CN-K-0070")
    assert change["rows"]["added"] == [{"code": DRUG_C, "name": "丁苯酞氯化钠注射液", "sex": "男"}]
    status = next(r for r in json_of("signoff", "status")["rules"] if r["id"] == "CN-R-0907")
    assert status["kinds"]["业务论证"]["state"] == "stale"
    findings = json_of("validate")["findings"]
    assert any(f["code"] == "TK506" and f["path"] == OVERRIDE for f in findings)
    # the province reviews and re-binds its override to the national table as it now is
    rebased = json_of("override", "rebase", "510000-O-0009")
    assert rebased["written"] and any("twoku diff" in c for c in rebased["changes"])
    assert not [f for f in json_of("validate")["findings"] if f["code"] == "TK506"]

    # run gives the new hits in the province: the national row and the province's row.
    claims = tmp_path / "明细.csv"
    lines = [("L1", DRUG_C, "女"), ("L2", DRUG_C, "男"), ("L3", DRUG_B, "男"), ("L4", DRUG_A, "女")]
    claims.write_text(
        "line_id,patient_id,visit_id,service_date,item_code,sex\n"
        + "".join(f"{n},P,V,2026-12-01,{code},{sex}\n" for n, code, sex in lines),
        encoding="utf-8",
    )
    out = tmp_path / "命中.json"
    args = ["run", "--claims", str(claims), "--rules", "CN-R-0907", "--region", "510000", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    hits = {h["line_id"]: h["evidence"] for h in json.loads(out.read_text(encoding="utf-8"))}
    assert sorted(hits) == ["L1", "L3", "L4"]
    assert f"CN-K-0070={DRUG_B}" in hits["L3"]  # the province's row, named in the evidence
    national = ["run", "--claims", str(claims), "--rules", "CN-R-0907", "--region", "CN", "--out", str(out)]
    assert runner.invoke(app, national).exit_code == 0
    assert sorted(h["line_id"] for h in json.loads(out.read_text(encoding="utf-8"))) == ["L1", "L4"]


def test_a_city_removes_a_row_its_province_added_and_the_view_says_whose_rows_remain(shipped: Path) -> None:
    national_table_and_rule(shipped)
    item = yaml.safe_load((shipped / ITEM).read_text(encoding="utf-8"))
    item["table"]["lower"] = {"add": True, "remove": True}
    write(shipped, ITEM, item)
    commit_all(shipped, "国家知识点明细")
    digest = json_of("show", "CN-K-0070")["digest"]
    added = {"code": DRUG_B, "name": "地诺前列酮栓", "sex": "女", "reason": "本省目录增补（示例）"}
    write(shipped, OVERRIDE, {"id": "510000-O-0009", "target": "CN-K-0070", "base_digest": digest,
                              "reason": "本省增补", "status": "生效", "rows": {"add": [added]}})  # fmt: skip
    city = "provincial/510000/municipal/510100/overrides/510100-O-0009.yaml"
    removed = {"code": DRUG_B, "reason": "本市论证后不适用（示例）"}
    write(shipped, city, {"id": "510100-O-0009", "target": "CN-K-0070", "base_digest": digest,
                          "reason": "本市删除", "status": "生效", "rows": {"remove": [removed]}})  # fmt: skip
    commit_all(shipped, "本省增补、本市删除")
    assert not [f for f in json_of("validate")["findings"] if f["code"] in ("TK506", "TK508")]
    assert [r["code"] for r in json_of("table", "CN-K-0070", "--region", "510000")["rows"]] == [DRUG_B, DRUG_A]
    assert [r["code"] for r in json_of("table", "CN-K-0070", "--region", "510100")["rows"]] == [DRUG_A]
    text = runner.invoke(app, ["table", "CN-K-0070", "--region", "510000"], env={"COLUMNS": "200"}).output
    assert "四川省" in text and "国家" in text


def test_publish_gives_the_regions_tables_of_the_rules_it_lists(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twoku.ops import publish as publish_op

    monkeypatch.setattr(publish_op, "refuse_invalid", lambda root, region: 0)  # a short rule: not every field
    national_table_and_rule(shipped)
    item = yaml.safe_load((shipped / ITEM).read_text(encoding="utf-8"))
    item["table"]["columns"][1]["disclosure"] = "institutions"  # the names: for the institutions only
    write(shipped, ITEM, item)
    seal("CN-K-0070")
    rule = yaml.safe_load((shipped / RULE).read_text(encoding="utf-8"))
    rule.update(status="生效", effective="2026-01-01")
    write(shipped, RULE, rule)
    commit_all(shipped, "国家知识点明细与规则")
    argue("CN-R-0907")
    outputs = {}
    for audience in ("institutions", "society"):
        out = tmp_path / audience
        args = ["publish", "--public-summary", "--region", "510100", "--as-of", "2026-12-01", "--audience", audience]
        result = runner.invoke(app, [*args, "--out", str(out), "--format", "json,html"])
        assert result.exit_code == 0, result.output
        outputs[audience] = {p.suffix: p.read_text(encoding="utf-8") for p in out.iterdir()}
    data = json.loads(outputs["institutions"][".json"])
    table = next(t for t in data["tables"] if t["id"] == "CN-K-0070")
    assert table["rules"] == ["CN-R-0907"] and table["rows"] == [[DRUG_A, "阿帕他胺片", "男"]]
    society = next(t for t in json.loads(outputs["society"][".json"])["tables"] if t["id"] == "CN-K-0070")
    assert [name for name, _ in society["columns"]] == ["code", "sex"]  # a column disclosed to institutions only
    assert '<details class="table" id="CN-K-0070">' in outputs["institutions"][".html"]
    assert 'class="table-filter"' in outputs["institutions"][".html"]


def test_rebasing_a_table_override_names_the_rows_it_touches_that_the_upper_table_changed(shipped: Path) -> None:
    national_table_and_rule(shipped)
    item = yaml.safe_load((shipped / ITEM).read_text(encoding="utf-8"))
    item["table"]["lower"] = {"add": True, "remove": True}
    write(shipped, ITEM, item)
    with (shipped / CSV).open("a", encoding="utf-8") as fh:
        fh.write(f"{DRUG_C},丁苯酞氯化钠注射液,男\n")
    seal("CN-K-0070")
    commit_all(shipped, "国家知识点明细")
    digest = json_of("show", "CN-K-0070")["digest"]
    rows = {
        "remove": [{"code": DRUG_C, "reason": "本省不适用（示例）"}],
        "add": [{"code": DRUG_B, "name": "地诺前列酮栓", "sex": "女", "reason": "本省增补（示例）"}],
    }
    write(shipped, OVERRIDE, {"id": "510000-O-0009", "target": "CN-K-0070", "base_digest": digest,
                              "reason": "本省增删", "status": "生效", "rows": rows})  # fmt: skip
    commit_all(shipped, "本省增删")
    # the nation drops the row the province removes, and adds the row the province adds
    (shipped / CSV).write_text(f"code,name,sex\n{DRUG_A},阿帕他胺片,男\n{DRUG_B},地诺前列酮栓,女\n", encoding="utf-8")
    seal("CN-K-0070")
    commit_all(shipped, "国家修改")
    assert any(f["code"] == "TK506" for f in json_of("validate")["findings"])
    changes = json_of("override", "rebase", "510000-O-0009", "--dry-run")["changes"]
    assert any(DRUG_C in c and "已不存在" in c for c in changes)
    assert any(DRUG_B in c and "已在上级表格中" in c for c in changes)
    assert git(shipped, "status", "--porcelain") == ""  # a dry run writes nothing
