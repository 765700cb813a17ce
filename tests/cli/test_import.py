"""twoku import: NHSA's 知识点明细 workbooks and code database exports, built here with openpyxl and xlwt.

The codes are test data in the code systems' formats (the shipped store's CN-K-0030 … CN-K-0038 patterns), the
dates are the tests' own; no workbook is taken from anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.storefactory import git
from twoku.cli import app

runner = CliRunner()
SERVICE_A, SERVICE_B, SERVICE_C = "002101030310000", "001103000010000", "001102000030000"
DRUG_A, DRUG_B, DRUG_C = "XL02BBA326A001010102180", "XN07XXD221B002010102774", "XR05XXX089N000000000000"


def workbook(path: Path, sheets: dict[str, list[list[Any]]], merged: dict[str, list[str]] | None = None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in (merged or {}).get(name, []):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def service_sex(path: Path, rows: list[list[Any]] | None = None) -> Path:
    """医疗服务项目区分性别使用: a title row merged across, codes stored as numbers, a name merged over two codes."""
    body = rows or [
        [1, "子宫输卵管碘油造影", 2101030310000, "女", "限女性", None],
        [2, "前列腺按摩", "００１１０３００００１００００", "男 ", None, "全角代码"],
        [None, None, 1102000030000, None, None, None],
    ]
    return workbook(
        path,
        {
            "医疗服务项目区分性别使用规则对应知识点明细": [
                ["国家医保局 医疗服务项目区分性别使用 知识点明细"],
                [],
                ["序号", "项目名称", "项目代码", "限定性别", "限定条件", "备注"],
                *body,
            ]
        },
        {
            "医疗服务项目区分性别使用规则对应知识点明细": ["A1:F1", "A5:A6", "B5:B6", "D5:D6"]
            if rows is None
            else ["A1:F1"]
        },
    )


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["import", *args])


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def status(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


def imported(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_a_batch_becomes_a_committed_sealed_table_with_its_adjustment(shipped: Path, tmp_path: Path) -> None:
    book = service_sex(tmp_path / "第一批.xlsx")
    result = invoke(
        "nhsa", str(book), "--class", "医疗服务项目区分性别使用", "--batch", "第一批",
        "--published", "2025-06-01", "--effective", "2025-07-01", "--source", "https://example.org/batch1",
        "--format", "json",
    )  # fmt: skip
    data = imported(result)
    assert data["code"] == "GZ10000302004000"
    assert (data["rows"], data["added"], data["removed"], data["changed"]) == (3, 3, 0, 0)
    assert data["restored"] == 2  # two codes stored as numbers, their leading zeros put back
    csv_text = (shipped / data["table_path"]).read_text(encoding="utf-8")
    assert csv_text.splitlines() == [
        "code,name,sex,limit,note",
        f"{SERVICE_C},前列腺按摩,男,,",  # merged name; the row under it had blank point cells
        f"{SERVICE_B},前列腺按摩,男,,全角代码",  # full-width digits, a stray space after 男
        f"{SERVICE_A},子宫输卵管碘油造影,女,限女性,",
    ]
    item = (shipped / data["item_path"]).read_text(encoding="utf-8")
    assert "规则类别: 医疗服务项目区分性别使用" in item and "system: CN-K-0033" in item
    assert f"- id: {data['batch_id']}" in item  # the table cites its batch
    batch = next((shipped / "national/knowledge/policies").glob(f"{data['batch_id']}.yaml")).read_text("utf-8")
    assert "issued: 2025-06-01" in batch and "source: https://example.org/batch1" in batch
    assert data["adjustment"].endswith("-kp81-b1") and data["deadline"] == "2025-07-01"  # class No. 81, 第一批
    record = (shipped / "adjustments" / f"{data['adjustment']}.yaml").read_text(encoding="utf-8")
    assert f"trigger: {data['batch_id']}" in record and "deadline: 2025-07-01" in record
    assert status(shipped) == ""  # everything committed
    log = git(shipped, "log", "--format=%s", "-2")
    assert "导入医疗服务项目区分性别使用知识点明细第一批" in log and "启动即时调整" in log
    checked = runner.invoke(app, ["validate", "--format", "json"])
    ours = [f for f in json.loads(checked.stdout)["findings"] if data["item"] in str(f.get("path"))]
    assert ours == []  # sealed: its digest matches the rows (no TK429), its cells fit their columns

    again = invoke("nhsa", str(book), "--class", "GZ10000302004000", "--batch", "第一批", "--effective", "2025-07-01")
    assert again.exit_code == 0, again.output
    assert "没有变化" in again.output and "--trigger" not in again.output  # its adjustment is open already
    assert status(shipped) == "" and git(shipped, "log", "--format=%s", "-1").startswith("启动即时调整")


def test_a_later_batch_shows_rows_added_removed_and_changed(shipped: Path, tmp_path: Path) -> None:
    first = service_sex(tmp_path / "第一批.xlsx")
    imported(invoke("nhsa", str(first), "--class", "医疗服务项目区分性别使用", "--batch", "第一批", "--format", "json"))
    before = head(shipped)
    second = service_sex(
        tmp_path / "第二批.xlsx",
        [
            [1, "子宫输卵管碘油造影", SERVICE_A, "女", "限女性患者使用", None],  # changed limit
            [2, "急诊监护费", SERVICE_B, "男", None, None],  # changed name
            [3, "新增项目", "003402000320000", "女", None, None],  # added; SERVICE_C removed
        ],
    )
    dry = invoke("nhsa", str(second), "--class", "医疗服务项目区分性别使用", "--batch", "第二批", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "新增 1 行，删除 1 行，修改 2 行" in dry.output and head(shipped) == before and status(shipped) == ""
    data = imported(
        invoke("nhsa", str(second), "--class", "医疗服务项目区分性别使用", "--batch", "第二批", "--format", "json")
    )
    assert (data["added"], data["removed"], data["changed"]) == (1, 1, 2)
    assert data["samples"]["removed"][0]["code"] == SERVICE_C
    assert "未启动即时调整" in " ".join(data["notes"])  # no --effective: no deadline made up
    late = invoke(
        "nhsa", str(second), "--class", "医疗服务项目区分性别使用", "--batch", "第二批", "--effective", "2026-01-01"
    )
    assert "没有变化" in late.output and f"--trigger {data['batch_id']}" in late.output  # how to open it by hand
    changed = git(shipped, "show", "--format=", "--", data["table_path"])
    assert f"-{SERVICE_C}," in changed and "+003402000320000,新增项目,女,," in changed
    message = git(shipped, "log", "--format=%B", "-1")
    assert "新增 1、删除 1、修改 2" in message


def test_points_and_their_codes_on_two_sheets(shipped: Path, tmp_path: Path) -> None:
    book = workbook(
        tmp_path / "限医疗机构级别.xlsx",
        {
            "药品限医疗机构级别规则对应知识点明细": [
                ["标题"],
                ["序号", "药品通用名", "限定条件", "知识点对应药品代码数量"],
                [1, "阿帕他胺片", "限二级及以上医疗机构使用", 2],
                [2, "丁苯酞氯化钠注射液", "支付不超过14天", 1],
            ],
            "知识点对应药品代码": [
                ["对应知识点序号", "药品通用名", "药品代码"],
                [1, "阿帕他胺片", DRUG_A],
                [1, "阿帕他胺片", DRUG_C],
                [2, "丁苯酞氯化钠注射液", DRUG_B],
            ],
        },
    )
    data = imported(invoke("nhsa", str(book), "--class", "药品限医疗机构级别", "--format", "json"))
    assert data["layout"].startswith("两表") and data["rows"] == 3
    lines = (shipped / data["table_path"]).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "code,name,max_days,min_level,limit"
    assert f"{DRUG_A},阿帕他胺片,,二级,限二级及以上医疗机构使用" in lines
    assert f"{DRUG_B},丁苯酞氯化钠注射液,14,,支付不超过14天" in lines  # the text kept beside the column


def test_pairs_keyed_by_both_codes(shipped: Path, tmp_path: Path) -> None:
    book = workbook(
        tmp_path / "重复收费.xlsx",
        {
            "重复收费": [
                ["序号", "项目A名称", "项目A代码", "项目B名称", "项目B代码"],
                [1, "急诊监护费", 1103000010000, "急诊诊查费", 1102000030000],
            ]
        },
    )
    data = imported(invoke("nhsa", str(book), "--class", "医疗服务项目重复收费", "--format", "json"))
    assert data["layout"] == "项目对"
    lines = (shipped / data["table_path"]).read_text(encoding="utf-8").splitlines()
    assert lines == [
        "a_code,b_code,a_name,b_name,limit",
        f"{SERVICE_B},{SERVICE_C},急诊监护费,急诊诊查费,",
    ]  # the class's seed table keeps its columns
    assert "key: [a_code, b_code]" in (shipped / data["item_path"]).read_text(encoding="utf-8")


def test_an_xls_workbook_of_an_older_batch(shipped: Path, tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("药品区分性别使用规则对应知识点明细")
    for r, row in enumerate([["序号", "药品通用名", "药品代码", "限定性别"], [1, "阿帕他胺片", DRUG_A, "男"]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "第一批.xls"
    book.save(str(path))
    data = imported(invoke("nhsa", str(path), "--class", "药品区分性别使用", "--format", "json"))
    lines = (shipped / data["table_path"]).read_text(encoding="utf-8").splitlines()
    assert lines == ["code,name,sex", f"{DRUG_A},阿帕他胺片,男"]


def test_an_unknown_header_stops_and_writes_nothing(shipped: Path, tmp_path: Path) -> None:
    book = workbook(
        tmp_path / "x.xlsx", {"明细": [["序号", "项目名称", "项目代码", "单价（元）"], [1, "x", SERVICE_A, 3]]}
    )
    before = head(shipped)
    result = invoke("nhsa", str(book), "--class", "医疗服务项目区分性别使用")
    assert result.exit_code == 1
    assert "不认识的列：单价（元）" in result.output and "认识的表头" in result.output
    assert "Traceback" not in result.output
    assert head(shipped) == before and status(shipped) == ""


def test_a_workbook_without_a_known_header_names_what_it_found(shipped: Path, tmp_path: Path) -> None:
    book = workbook(tmp_path / "x.xlsx", {"Sheet": [["编号", "名称"], [1, "x"]]})
    result = invoke("nhsa", str(book), "--class", "药品儿童专用")
    assert result.exit_code == 1 and "读到" in result.output and "编号、名称" in result.output
    assert status(shipped) == ""


def test_a_code_no_system_takes_is_refused(shipped: Path, tmp_path: Path) -> None:
    book = workbook(tmp_path / "x.xlsx", {"明细": [["序号", "药品通用名", "药品代码"], [1, "x", "NOT-A-CODE"]]})
    result = invoke("nhsa", str(book), "--class", "药品儿童专用")
    assert result.exit_code == 1 and "NOT-A-CODE" in result.output and "未导入" in result.output
    assert status(shipped) == ""


def test_an_unknown_class(shipped: Path, tmp_path: Path) -> None:
    result = invoke("nhsa", str(service_sex(tmp_path / "a.xlsx")), "--class", "区分性别")
    assert result.exit_code == 2 and "是否指" in result.output


def test_a_code_database_export_into_a_code_table(shipped: Path, tmp_path: Path) -> None:
    export = tmp_path / "医疗服务项目.csv"
    rows = ["项目编码,项目名称,说明"] + [f"{1102000030000 + n},项目{n},示例" for n in range(300)]
    export.write_text("\n".join(rows) + "\n", encoding="gb18030")  # as Excel saves it on Chinese Windows, zeros lost
    result = invoke(
        "codes",
        str(export),
        "--system",
        "CN-K-0033",
        "--map",
        "code=项目编码,name=项目名称,note=说明",
        "--format",
        "json",
    )
    data = imported(result)
    assert data["rows"] == 300 and data["restored"] == 300
    lines = (shipped / "national/knowledge/codes/CN-K-0033.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "code,name,note" and lines[1] == f"{SERVICE_C},项目0,示例"
    assert status(shipped) == ""
    assert runner.invoke(app, ["table", "CN-K-0033", "--format", "json"]).exit_code == 0
    again = invoke("codes", str(export), "--system", "CN-K-0033", "--map", "code=项目编码,name=项目名称,note=说明")
    assert again.exit_code == 0 and "没有变化" in again.output


def test_a_code_database_export_with_a_bad_code_writes_nothing(shipped: Path, tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text("代码,名称,备注\nX123,坏代码,\n", encoding="utf-8")
    before = (shipped / "national/knowledge/codes/CN-K-0033.csv").read_bytes()
    result = invoke("codes", str(export), "--system", "CN-K-0033")
    assert result.exit_code == 1 and "X123" in result.output
    assert (shipped / "national/knowledge/codes/CN-K-0033.csv").read_bytes() == before and status(shipped) == ""


def test_a_supplementary_batch_with_keep_removes_nothing(shipped: Path, tmp_path: Path) -> None:
    imported(
        invoke("nhsa", str(service_sex(tmp_path / "1.xlsx")), "--class", "医疗服务项目区分性别使用", "--format", "json")
    )
    extra = service_sex(tmp_path / "2.xlsx", [[1, "新增项目", "003402000320000", "女", None, None]])
    data = imported(
        invoke(
            "nhsa", str(extra), "--class", "医疗服务项目区分性别使用", "--keep", "--batch", "第二批", "--format", "json"
        )
    )
    assert (data["rows"], data["added"], data["removed"], data["changed"]) == (4, 1, 0, 0)
    assert "保留了库中表格里工作簿没有列出的 3 行" in " ".join(data["notes"])


def test_a_lower_layer_imports_into_its_own_layer_never_an_upper_one(shipped: Path, tmp_path: Path) -> None:
    book = str(service_sex(tmp_path / "1.xlsx"))
    data = imported(
        invoke("nhsa", book, "--class", "医疗服务项目区分性别使用", "--layer", "510000", "--format", "json")
    )
    assert data["item"].startswith("510000-K-") and data["table_path"].startswith("provincial/510000/knowledge/")
    config = shipped / "twoku.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("region: CN", "region: 510000"), encoding="utf-8")
    git(shipped, "commit", "-qam", "省级库")
    refused = invoke("nhsa", book, "--class", "医疗服务项目区分性别使用", "--layer", "CN")
    assert refused.exit_code == 2 and "下级不改上级的文件" in refused.output and status(shipped) == ""


@pytest.mark.parametrize("name", ["坏.xlsx", "坏.xls", "说明.txt"])
def test_a_file_that_is_not_a_workbook_is_a_message(shipped: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    result = invoke("nhsa", str(path), "--class", "药品儿童专用")
    assert result.exit_code == 1 and name in result.output and "Traceback" not in result.output
    assert status(shipped) == ""


def test_a_code_system_without_a_table_gets_one_from_an_xlsx_export(shipped: Path, tmp_path: Path) -> None:
    item = shipped / "national/knowledge/codes/CN-K-0037.yaml"
    text = item.read_text(encoding="utf-8")
    start, end = text.index("table:"), text.index("basis:")
    item.write_text(text[:start] + text[end:], encoding="utf-8")  # a code system with no table yet
    (shipped / "national/knowledge/codes/CN-K-0037.csv").unlink()
    git(shipped, "commit", "-qam", "CN-K-0037 还没有代码表")
    export = workbook(
        tmp_path / "定点医疗机构.xlsx",
        {
            "说明": [["本文件为测试数据"]],
            "机构": [["导出时间 测试"], ["机构代码", "机构名称"], ["H99999900001", "测试医院"]],
        },
    )
    data = imported(
        invoke(
            "codes", str(export), "--system", "CN-K-0037", "--map", "code=机构代码,name=机构名称", "--format", "json"
        )
    )
    assert data["rows"] == 1
    assert (shipped / "national/knowledge/codes/CN-K-0037.csv").read_text(
        encoding="utf-8"
    ) == "code,name,note\nH99999900001,测试医院,\n"
    assert "digest: sha256:" in item.read_text(encoding="utf-8") and status(shipped) == ""


def test_a_code_export_without_the_mapped_header_names_it(shipped: Path, tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text("编码,名称\n001102000030000,x\n", encoding="utf-8")
    result = invoke("codes", str(export), "--system", "CN-K-0033", "--map", "code=项目编码")
    assert result.exit_code == 1 and "需要 项目编码" in result.output and "读到 编码、名称" in result.output
    assert status(shipped) == ""


def test_a_lower_store_does_not_write_an_upper_code_table(shipped: Path, tmp_path: Path) -> None:
    config = shipped / "twoku.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("region: CN", "region: 510000"), encoding="utf-8")
    git(shipped, "commit", "-qam", "省级库")
    export = tmp_path / "x.csv"
    export.write_text("代码,名称,备注\n001102000030000,x,\n", encoding="utf-8")
    result = invoke("codes", str(export), "--system", "CN-K-0033")
    assert result.exit_code == 2 and "下级不改上级的文件" in result.output and status(shipped) == ""


def test_a_column_s_disclosure_outlives_the_next_batch(shipped: Path, tmp_path: Path) -> None:
    data = imported(
        invoke("nhsa", str(service_sex(tmp_path / "1.xlsx")), "--class", "医疗服务项目区分性别使用", "--format", "json")
    )
    item = shipped / data["item_path"]
    text = item.read_text(encoding="utf-8")
    note = "    - name: note\n      title: 备注\n      type: text\n"
    assert note in text
    item.write_text(text.replace(note, note + "      disclosure: internal\n"), encoding="utf-8")
    git(shipped, "commit", "-qam", "备注只供内部")
    again = service_sex(tmp_path / "2.xlsx", [[1, "子宫输卵管碘油造影", SERVICE_A, "女", None, "内部说明"]])
    imported(invoke("nhsa", str(again), "--class", "医疗服务项目区分性别使用", "--batch", "第二批", "--format", "json"))
    assert note + "      disclosure: internal\n" in item.read_text(encoding="utf-8")
