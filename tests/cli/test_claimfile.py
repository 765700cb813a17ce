"""Claim files as bureaus save them: Excel's GBK or BOM'd UTF-8, Chinese headers, odd names, bad values."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from twoku.cli import app
from twoku.model import claim

runner = CliRunner()
BALANCE = "002503020030200"  # 糖化血红蛋白测定 (CN-K-0129; the province sets 21 days for items without an interval)
ROWS = [
    ("L1", "P1", BALANCE, "2027-03-01", "1", "35"),
    ("L2", "P1", BALANCE, "2027-03-18", "1", "35"),
]
ENGLISH = ["line_id", "patient_id", "item_code", "service_date", "quantity", "fund_amount"]
CHINESE = [claim.FIELDS[name].title for name in ENGLISH]


def _csv(path: Path, header: list[str], rows: list[tuple[str, ...]], encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join(r) for r in [tuple(header), *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def _run(claims: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["run", "--claims", str(claims), "--region", "510000", "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _hits(data: dict) -> dict[str, int]:
    return {r["id"]: r["hits"] for r in data["rules"] if r["hits"]}


def test_excel_gbk_csv_with_chinese_headers_runs_like_utf8(shipped: Path, tmp_path: Path) -> None:
    plain = _run(_csv(tmp_path / "plain.csv", ENGLISH, ROWS))
    assert _hits(plain) == {"CN-R-0030": 1} and plain["encoding"] == "utf-8"
    gbk = _csv(tmp_path / "结算明细.csv", CHINESE, ROWS, "gbk")
    assert "明细流水号".encode("gbk") in gbk.read_bytes()  # really GBK, not UTF-8
    got = _run(gbk)
    assert _hits(got) == _hits(plain) and got["lines"] == 2 and got["encoding"] == "gb18030"
    assert _run(gbk, "--encoding", "gbk")["encoding"] == "gb18030"
    bom = _csv(tmp_path / "bom.csv", CHINESE, ROWS, "utf-8-sig")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _hits(_run(bom)) == _hits(plain)


def test_excel_dates_and_yes_no_are_read(shipped: Path, tmp_path: Path) -> None:
    rows = [("L1", "P1", BALANCE, "2027/3/1", "1", "35", "是"), ("L2", "P1", BALANCE, "2027/3/18", "1", "35", "否")]
    path = _csv(tmp_path / "c.csv", [*CHINESE, "长期处方"], rows, "gbk")
    assert _hits(_run(path)) == {"CN-R-0030": 1}


def test_a_path_with_glob_characters_is_read_literally(shipped: Path, tmp_path: Path) -> None:
    _csv(tmp_path / "m1.csv", ENGLISH, [("X1", "P9", BALANCE, "2027-03-01", "1", "35")])
    literal = _csv(tmp_path / "m[1].csv", ENGLISH, ROWS)
    data = _run(literal)
    assert data["lines"] == 2 and _hits(data) == {"CN-R-0030": 1}
    plain = _csv(tmp_path / "plain.csv", ENGLISH, ROWS)
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{plain}', all_varchar = true)) TO '{tmp_path / 'p1.parquet'}'"
    )
    (tmp_path / "p[1].parquet").write_bytes((tmp_path / "p1.parquet").read_bytes())
    (tmp_path / "p1.parquet").write_bytes(b"not parquet")
    assert _run(tmp_path / "p[1].parquet")["lines"] == 2


def test_unknown_columns_are_named_and_ignored(shipped: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", [*ENGLISH, "备注"], [(*r, "x") for r in ROWS])
    data = _run(path)
    assert data["ignored_columns"] == ["备注"]
    text = runner.invoke(app, ["run", "--claims", str(path), "--region", "510000"]).output
    assert "已忽略：备注" in text


def test_what_is_wrong_is_said_in_chinese_with_file_and_line(shipped: Path, tmp_path: Path) -> None:
    missing = _csv(
        tmp_path / "m.csv",
        ["流水号", "人员编号", "医保目录编码", "费用发生日期"],
        [("L1", "P1", BALANCE, "2027-03-01")],
    )
    result = runner.invoke(app, ["run", "--claims", str(missing)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "缺少必需的列：line_id（明细流水号）" in result.output and "不认识的列：流水号" in result.output
    assert "m.csv:1" in result.output
    bad_date = _csv(tmp_path / "d.csv", ENGLISH, [ROWS[0], ("L2", "P1", BALANCE, "2025-13-40", "1", "35")])
    result = runner.invoke(app, ["run", "--claims", str(bad_date)])
    assert result.exit_code == 1
    assert "d.csv:3" in result.output and "第 3 行的「service_date」列取值 '2025-13-40' 不是日期" in result.output
    bad_number = _csv(tmp_path / "n.csv", CHINESE, [("L1", "P1", BALANCE, "2027-03-01", "一", "35")], "gbk")
    result = runner.invoke(app, ["run", "--claims", str(bad_number)])
    assert result.exit_code == 1 and "「数量」列取值 '一' 不是数字" in result.output
    for english in ("Conversion Error", "Invalid Input", "Could not convert"):
        assert english not in result.output
    double = _csv(tmp_path / "2.csv", [*ENGLISH, "明细流水号"], [(*r, "x") for r in ROWS])
    result = runner.invoke(app, ["run", "--claims", str(double)])
    assert result.exit_code == 1 and "两列都表示 line_id" in result.output
    result = runner.invoke(app, ["run", "--claims", str(double), "--encoding", "klingon"])
    assert result.exit_code == 2 and "不认识这种编码" in result.output


def test_a_file_not_utf8_beyond_the_sample_is_refused_with_advice(shipped: Path, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = [(f"L{n}", "P1", BALANCE, "2027-03-01", "1", "35") for n in range(40000)]
    text = "\n".join(",".join(r) for r in [tuple(ENGLISH), *rows]).encode("utf-8")
    path.write_bytes(text + "\nL9,患者,".encode("gbk") + BALANCE.encode() + b",2027-03-01,1,35\n")
    assert path.stat().st_size > (1 << 20)
    result = runner.invoke(app, ["run", "--claims", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--encoding gb18030" in result.output
    fixed = runner.invoke(app, ["run", "--claims", str(path), "--encoding", "gb18030", "--format", "json"])
    assert fixed.exit_code == 0 and json.loads(fixed.stdout)["lines"] == 40001


def test_evaluate_reads_feedback_saved_by_excel_and_names_with_brackets(shipped: Path, tmp_path: Path) -> None:
    hits = tmp_path / "hits[1].csv"
    hits.write_text("rule_id,line_id\nCN-R-0025,A0\n", encoding="utf-8")
    (tmp_path / "hits1.csv").write_text("rule_id,line_id\nCN-R-0017,B0\n", encoding="utf-8")
    feedback = tmp_path / "处理结果.csv"
    feedback.write_bytes("rule_id,line_id,outcome\r\nCN-R-0025,A0,确认违规\r\n".encode("gbk"))
    args = ["evaluate", "--hits", str(hits), "--feedback", str(feedback), "--lines", "100", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rules = {r["id"]: r for r in json.loads(result.stdout)["rules"]}
    assert set(rules) == {"CN-R-0025"} and rules["CN-R-0025"]["confirmed"] == 1
