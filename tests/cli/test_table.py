"""twoku table: knowledge tables seen and sealed, and an edit of a table under change control."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests import fakes
from tests.storefactory import commit_all, git
from twoku.cli import app

runner = CliRunner()
SYSTEM = "national/knowledge/codes/CN-K-0030.yaml"
TABLE = "national/knowledge/codes/CN-K-0030.csv"
MEDICAL = "national/knowledge/medical/CN-K-0050.yaml"
MEDICAL_CSV = "national/knowledge/medical/CN-K-0050.csv"
DRUG_A, DRUG_B, DRUG_C = "XL02BBA326A001010102180", "XN07XXD221B002010102774", "XR05XXX089N000000000000"


def report(root: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["validate", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)["findings"]


def codes(root: Path, *args: str) -> list[str]:
    return sorted(str(f["code"]) for f in report(root, *args)[1] if not f.get("waived"))


def medical_item(root: Path, rows: str, sealed: bool = True) -> None:
    """A knowledge item with a typed table of drug limits, sealed as written."""
    (root / MEDICAL).parent.mkdir(parents=True, exist_ok=True)
    (root / MEDICAL).write_text(
        "id: CN-K-0050\ncategory: 医药学知识\ntitle: 药品限定性别（示例）\nstatus: 生效\n"
        "table:\n  file: CN-K-0050.csv\n  key: [code]\n  columns:\n"
        "    - name: code\n      title: 药品代码\n      type: code\n      system: CN-K-0030\n"
        "    - name: name\n      title: 药品通用名\n      type: text\n"
        "    - name: sex\n      title: 限定性别\n      type: enum\n      values: [男, 女]\n",
        encoding="utf-8",
    )
    (root / MEDICAL_CSV).write_text("code,name,sex\n" + rows, encoding="utf-8")
    if sealed:
        result = runner.invoke(app, ["table", "seal", "CN-K-0050"])
        assert result.exit_code == 0, result.output


def test_seal_turns_a_legacy_code_table_into_a_declared_sealed_one(shipped: Path) -> None:
    path = shipped / SYSTEM
    text = path.read_text(encoding="utf-8")
    start, end = text.index("table:\n"), text.index("basis:\n")
    path.write_text(text[:start] + "table: CN-K-0030.csv\n" + text[end:], encoding="utf-8")
    assert "TK430" in codes(shipped)  # readable, but its rows are outside change control (and the item changed)
    result = runner.invoke(app, ["table", "seal", "CN-K-0030"])
    assert result.exit_code == 0, result.output
    assert "已封存 CN-K-0030" in result.output
    text = path.read_text(encoding="utf-8")
    assert "  key: [code]\n" in text and "  digest: sha256:" in text and "  rows: 6\n" in text
    assert "# yaml-language-server" in text.splitlines()[0]  # the file's comments and layout are kept
    assert codes(shipped) == []
    again = runner.invoke(app, ["table", "seal", "CN-K-0030", "--format", "json"])
    assert json.loads(again.stdout)["old_digest"] == json.loads(again.stdout)["digest"]


def test_an_unsealed_edit_is_an_error_and_sealing_changes_the_items_digest(shipped: Path) -> None:
    """The issue's repro: 2 codes removed, 2 added, 1 renamed in a committed table."""
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n{DRUG_B},丁苯酞氯化钠注射液,\n{DRUG_C},小儿氨酚烷胺颗粒,\n")
    commit_all(shipped, "知识点明细")
    assert codes(shipped) == []
    before = json.loads(runner.invoke(app, ["show", "CN-K-0050", "--format", "json"]).stdout)["digest"]
    edited = f"{DRUG_A},阿帕他胺片（新名）,男\nXA16ABA345B004010183140,阿加糖酶α注射用浓溶液,\nXJ07BGR077B001010179275,冻干人用狂犬病疫苗,\n"
    (shipped / MEDICAL_CSV).write_text("code,name,sex\n" + edited, encoding="utf-8")
    exit_code, findings = report(shipped)
    assert exit_code == 1
    unsealed = [f for f in findings if f["code"] == "TK429"]
    assert unsealed and unsealed[0]["path"] == MEDICAL and "twoku table seal CN-K-0050" in str(unsealed[0]["hint"])
    assert runner.invoke(app, ["table", "seal", "CN-K-0050"]).exit_code == 0
    assert codes(shipped) == []
    after = json.loads(runner.invoke(app, ["show", "CN-K-0050", "--format", "json"]).stdout)["digest"]
    assert after != before


def test_cell_findings_point_at_the_csv_line_and_column(shipped: Path) -> None:
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n", sealed=False)
    (shipped / MEDICAL_CSV).write_text(
        f"code,name,sex\n{DRUG_A},阿帕他胺片,M\n{DRUG_B[2:]},丁苯酞,\n", encoding="utf-8"
    )
    _, findings = report(shipped)
    located = {(f["code"], f["path"], f["line"], f["column"]) for f in findings}
    assert ("TK423", MEDICAL_CSV, 2, len(DRUG_A) + len("阿帕他胺片") + 3) in located  # the sex cell
    assert ("TK406", MEDICAL_CSV, 3, 1) in located


def test_a_table_added_after_the_cache_was_built_is_rechecked_when_edited(shipped: Path) -> None:
    """The issue's repro: validate; add a knowledge item with a CSV; validate; append a bad code; validate."""
    assert codes(shipped) == []
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n")
    assert codes(shipped) == []
    with (shipped / MEDICAL_CSV).open("a", encoding="utf-8") as fh:
        fh.write("NOTACODE,坏代码,\n")
    assert "TK406" in codes(shipped)
    assert codes(shipped) == codes(shipped, "--no-cache")


def test_seal_refuses_a_table_with_conflicting_rows_and_writes_nothing(shipped: Path) -> None:
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n{DRUG_A},阿帕他胺片,女\n", sealed=False)
    before = (shipped / MEDICAL).read_bytes(), (shipped / MEDICAL_CSV).read_bytes()
    result = runner.invoke(app, ["table", "seal", "CN-K-0050"])
    assert result.exit_code == 1
    assert "未封存" in result.output and "第 3 行" in result.output
    assert ((shipped / MEDICAL).read_bytes(), (shipped / MEDICAL_CSV).read_bytes()) == before
    assert "twoku" not in git(shipped, "status", "--porcelain", "--ignored", ".git")


def test_seal_sorts_the_rows_and_rewrites_as_utf8(shipped: Path) -> None:
    medical_item(shipped, "", sealed=False)
    (shipped / MEDICAL_CSV).write_bytes(
        "\ufeffcode,name,sex\r\n".encode() + f"{DRUG_B},丁苯酞,\r\n{DRUG_A},阿帕他胺片,男\r\n".encode()
    )
    assert {"TK420", "TK426"} <= set(codes(shipped))
    assert runner.invoke(app, ["table", "seal", "CN-K-0050"]).exit_code == 0
    assert (shipped / MEDICAL_CSV).read_bytes() == f"code,name,sex\n{DRUG_A},阿帕他胺片,男\n{DRUG_B},丁苯酞,\n".encode()
    assert codes(shipped) == []


def test_table_shows_rows_in_text_csv_json_and_xlsx(shipped: Path, tmp_path: Path) -> None:
    medical_item(shipped, f'{DRUG_A},阿帕他胺片,男\n{DRUG_B},=HYPERLINK("http://x"),\n')
    text = runner.invoke(app, ["table", "CN-K-0050"], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert DRUG_A in text.output and "2 行" in text.output and "国家" in text.output
    as_csv = runner.invoke(app, ["table", "CN-K-0050", "--format", "csv"]).stdout
    assert as_csv.splitlines()[0] == "code,name,sex,layer" and f"{DRUG_A},阿帕他胺片,男,CN" in as_csv
    data = json.loads(runner.invoke(app, ["table", "CN-K-0050", "--format", "json"]).stdout)
    assert data["sealed"] is True and data["key"] == ["code"]
    assert data["rows"][0] == {"code": DRUG_A, "name": "阿帕他胺片", "sex": "男", "_layer": "CN"}
    out = tmp_path / "表.xlsx"
    assert runner.invoke(app, ["table", "CN-K-0050", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    sheet = load_workbook(io.BytesIO(out.read_bytes())).active
    assert sheet is not None
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert cells['=HYPERLINK("http://x")'] == "s"  # data, never a live formula
    refused = runner.invoke(app, ["table", "CN-K-0050", "--format", "xlsx"])
    assert refused.exit_code == 2 and "--out" in refused.output


def test_table_of_an_item_without_one_says_so(shipped: Path) -> None:
    result = runner.invoke(app, ["table", "CN-K-0001"])
    assert result.exit_code == 2 and "没有声明表格" in result.output


def test_a_misspelt_name_in_a_code_set_is_a_validate_finding(shipped: Path) -> None:
    path = shipped / "national/rules/drug-rational-use/CN-R-0025.yaml"
    named = "  all:\n    - {field: item_code, op: in, value: {codes: CN-K-0030, names: [地诺前列酮栓剂]}}\n"
    text = path.read_text(encoding="utf-8")
    assert "  all:\n" in text
    path.write_text(text.replace("  all:\n", named, 1), "utf-8")  # 地诺前列酮栓 is a row of CN-K-0030; 栓剂 is not
    _, findings = report(shipped, "--strict")
    assert any(f["code"] == "TK407" and "地诺前列酮栓剂" in str(f["message"]) for f in findings)
    assert not any("地诺前列酮栓剂" not in str(f["message"]) and "地诺前列酮栓" in str(f["message"]) for f in findings)


def test_diff_shows_the_rows_added_removed_and_changed(shipped: Path) -> None:
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n{DRUG_B},丁苯酞氯化钠注射液,\n{DRUG_C},小儿氨酚烷胺颗粒,\n")
    commit_all(shipped, "知识点明细")
    git(shipped, "tag", "before")
    edited = f"{DRUG_A},阿帕他胺片,女\nXA16ABA345B004010183140,阿加糖酶α注射用浓溶液,\n{DRUG_C},小儿氨酚烷胺颗粒,\n"
    (shipped / MEDICAL_CSV).write_text("code,name,sex\n" + edited, encoding="utf-8")
    # Not sealed yet: the diff still shows the rows, and says the item was not sealed.
    text = runner.invoke(app, ["diff", "--since", "before"], env={"COLUMNS": "200"})
    assert "表格 CN-K-0050.csv：新增 1 行，删除 1 行，修改 1 行" in text.output
    assert "未封存" in text.output and f"~ {DRUG_A}：sex：男 → 女" in text.output
    assert runner.invoke(app, ["table", "seal", "CN-K-0050"]).exit_code == 0
    commit_all(shipped, "修改知识点明细")
    data = json.loads(runner.invoke(app, ["diff", "--since", "before", "--format", "json"]).stdout)
    item = next(i for i in data["items"] if i["id"] == "CN-K-0050")
    assert item["reargue"] is True and item["unsealed"] is False
    assert item["rows"]["added"] == [{"code": "XA16ABA345B004010183140", "name": "阿加糖酶α注射用浓溶液", "sex": ""}]
    assert item["rows"]["removed"][0]["code"] == DRUG_B
    assert item["rows"]["changed"] == [{"key": [DRUG_A], "cells": [{"column": "sex", "old": "男", "new": "女"}]}]
    md = runner.invoke(app, ["diff", "--since", "before", "--format", "md"]).stdout
    assert "表格 CN-K-0050.csv：新增 1 行，删除 1 行，修改 1 行" in md


def test_a_rules_signoff_goes_stale_when_a_table_it_uses_changes(shipped: Path) -> None:
    business = ["-p", "张三|某省医疗保障局|医保管理", "-p", "李四|某市医疗保障事务中心|经办"]
    args = [
        "signoff",
        "record",
        "CN-R-0003",
        "--kind",
        "业务论证",
        "--date",
        "2026-11-20",
        "--organizer",
        "国家医疗保障局",
    ]
    recorded = runner.invoke(app, [*args, *business, "--conclusion", "通过"])
    assert recorded.exit_code == 0, recorded.output
    newest = max((shipped / "argumentation").glob("CN-A-*.yaml"))
    assert "tables:" in newest.read_text(encoding="utf-8")
    assert "id: CN-K-0110" in newest.read_text(encoding="utf-8")  # the table the rule's condition joins

    record_id = newest.stem

    def state() -> str:
        shown = json.loads(runner.invoke(app, ["signoff", "show", record_id, "--format", "json"]).stdout)
        return str(shown["subjects"][0]["state"])

    assert state() == "current"
    table = shipped / "national/knowledge/policies/CN-K-0110.csv"
    table.write_text(
        table.read_text(encoding="utf-8") + "ZA99XXX9999123456789,新增中成药,二级,示例\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["table", "seal", "CN-K-0110"]).exit_code == 0
    commit_all(shipped, "CN-K-0110 增补一行")
    assert state() == "stale"
    status = json.loads(runner.invoke(app, ["signoff", "status", "--format", "json"]).stdout)
    rule = next(r for r in status["rules"] if r["id"] == "CN-R-0003")
    assert rule["kinds"]["业务论证"]["state"] == "stale"  # the shipped record is bound to the table too
    shown = runner.invoke(app, ["signoff", "show", record_id], env={"COLUMNS": "250"})
    assert "所依据的表格 CN-K-0110 已修改" in shown.output
    _, findings = report(shipped)
    assert any(f["code"] == "TK604" and "CN-K-0110" in str(f["message"]) for f in findings)


def test_a_tables_personal_data_is_found_where_it_stands(shipped: Path) -> None:
    """Issue 20, item 10: CSV tables were not scanned for personal data."""
    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n", sealed=False)
    path = shipped / MEDICAL
    path.write_text(path.read_text(encoding="utf-8").replace("title: 药品通用名", "title: 患者姓名"), encoding="utf-8")
    (shipped / MEDICAL_CSV).write_text(
        f"code,患者姓名,sex\n{DRUG_A},{fakes.FAKES['mobile_86_spaced']},男\n", encoding="utf-8"
    )
    _, findings = report(shipped)
    located = {(f["code"], f["path"], f["line"]) for f in findings}
    assert ("TK802", MEDICAL_CSV, 1) in located and ("TK801", MEDICAL_CSV, 2) in located
    assert not any(fakes.MOBILE[3:] in str(f["message"]) for f in findings)


def test_show_summarises_a_table(shipped: Path) -> None:
    result = runner.invoke(app, ["show", "CN-K-0030"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "CN-K-0030.csv：6 行；键 code；下级不可增删行" in result.output
    assert "代码 code：代码" in result.output and "twoku table 编号" in result.output


def test_an_edited_table_is_checked_again_alone_not_the_whole_store(
    shipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: a re-check after a table's file changed reads that table's item again, not the whole store."""
    from twoku.ops import validate as ops

    medical_item(shipped, f"{DRUG_A},阿帕他胺片,男\n{DRUG_B},丁苯酞,\n")
    commit_all(shipped, "a sealed table")
    assert codes(shipped) == [] and codes(shipped) == []
    full_loads: list[int] = []
    real_load = ops._load
    monkeypatch.setattr(ops, "_load", lambda *a, **k: full_loads.append(1) or real_load(*a, **k))
    original = (shipped / MEDICAL_CSV).read_text(encoding="utf-8")
    (shipped / MEDICAL_CSV).write_text(original.replace(",男", ",M"), encoding="utf-8")
    assert codes(shipped) == ["TK423"] and not full_loads
    (shipped / MEDICAL_CSV).write_text(original + "NOTACODE,坏代码,\n", encoding="utf-8")
    assert codes(shipped) == ["TK406", "TK426"] and not full_loads
    (shipped / MEDICAL_CSV).write_text(original, encoding="utf-8")
    assert codes(shipped) == [] and not full_loads
    (shipped / MEDICAL_CSV).write_text(original.replace(DRUG_B, DRUG_C), encoding="utf-8")
    edited = codes(shipped)
    assert edited == ["TK429"] and not full_loads
    assert edited == codes(shipped, "--no-cache")
