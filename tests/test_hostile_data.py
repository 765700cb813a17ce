"""Data written by an attacker reaches every output as data (issue 20): never a formula in a
workbook, never HTML in Markdown, never SQL outside a literal or a comment, never markup or a
control sequence on the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests import fakes
from tests.cli.test_publish import RULE_17, argued_again, dump, load, publish
from tests.storefactory import commit_all, git
from twoku.cli import app

runner = CliRunner()

FORMULAS = [
    '=HYPERLINK("http://evil.example/","点击查看规则详情")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "＝1+1",
]


def hostile_rule(root: Path, **fields: Any) -> None:
    """CN-R-0017 (生效 in the shipped store) with ``fields`` replaced, argued again and committed."""
    rule = load(root, RULE_17)
    rule.update(fields)
    dump(root, RULE_17, rule)
    argued_again(root, RULE_17)
    commit_all(root, "恶意数据")


# --- 2: a spreadsheet cell is data, never a formula ------------------------------------------


def test_workbook_cells_are_text_never_formulas(shipped: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hostile_rule(shipped, name=FORMULAS[0], definition=FORMULAS[1], violations=FORMULAS[2:])
    out = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")
    wb = load_workbook(io.BytesIO(out["xlsx"]))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells)  # no "f": nothing is evaluated
    texts = {c.value: c for c in cells}
    assert texts[FORMULAS[0]].quotePrefix and texts[FORMULAS[1]].quotePrefix  # stays text when edited, too
    violations = next(str(c.value) for c in cells if "cmd|' /C calc'!A0" in str(c.value) and "1. " in str(c.value))
    assert violations.startswith("1. +1+cmd")  # a numbered list: its cell does not start a formula
    assert not texts["编号"].quotePrefix  # plain text keeps no prefix


# --- 12: Markdown shows HTML from data as text ------------------------------------------------

HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[点击查看规则详情](javascript:alert(1))",
    "<a href='javascript:alert(1)'>依据</a> | 表格外 | &lt;b&gt;",
]


def rendered(markdown: str) -> str:
    """``markdown`` as a renderer that passes raw HTML (CommonMark with tables) turns it into a page."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def assert_inert(markdown: str) -> None:
    page = rendered(markdown)
    for tag in ("<script", "<img", "<iframe", "<a ", 'href="'):
        assert tag not in page, (tag, page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as written
    assert "[点击查看规则详情](javascript:alert(1))" in page


def test_published_markdown_shows_html_as_text(shipped: Path, tmp_path: Path) -> None:
    hostile_rule(shipped, name=HTML[0], definition=HTML[1], violations=HTML[2:], logic="\n".join(HTML))
    md = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")["md"].decode("utf-8")
    assert_inert(md)


def test_diff_notice_shows_html_as_text(store: Path) -> None:
    from tests.storefactory import RULE, RULE_PATH, write_files

    write_files(store, {RULE_PATH: RULE.replace("status: 已论证", "status: 生效")})  # a rule the notice discloses
    commit_all(store, "生效")
    write_files(store, {RULE_PATH: RULE.replace("status: 已论证", "status: 生效").replace(
        "name: 分解住院", f"name: '{HTML[0]}'").replace(
        "definition: 参保人出院后短期内再次入院。", f"definition: \"{HTML[1]} {HTML[3]}\""
    )})  # fmt: skip
    commit_all(store, "恶意数据")
    # the notice discloses what institutions may see of a rule that is not a draft (issue 21, item 4)
    result = runner.invoke(app, ["diff", "--since", "HEAD~1", "--format", "md", "--audience", "institutions"])
    assert result.exit_code == 0, result.output
    assert_inert(result.stdout)


def test_cover_letter_shows_html_as_text(tmp_path: Path, monkeypatch: Any) -> None:
    import tarfile

    from tests.cli.test_report import PROVINCE_RULE, PROVINCE_RULE_PATH, clone, invoke
    from tests.storefactory import make_store, write_files

    province = clone(make_store(tmp_path / "national"), tmp_path / "province", "510000", "国家医保局")
    rule = PROVINCE_RULE.replace("name: 挂床住院（四川）", f"name: '{HTML[0]}'").replace(
        "definition: 参保人住院期间长时间离开医院。", f"definition: '{HTML[2]} {HTML[3]}'"
    )
    write_files(province, {PROVINCE_RULE_PATH: rule})
    commit_all(province, HTML[1])
    invoke(province, monkeypatch, "report-upstream", "--propose", "510000-R-0001", "--out", str(tmp_path / "r.tar.gz"))
    with tarfile.open(tmp_path / "r.tar.gz") as tar:
        letter = tar.extractfile("cover.md").read().decode("utf-8")  # type: ignore[union-attr]
    assert_inert(letter)


def test_new_store_readme_shows_html_as_text(tmp_path: Path) -> None:
    root = tmp_path / "new"
    refused = runner.invoke(app, ["init", str(root), "--region", "510100", "--upstream", HTML[3]])
    assert refused.exit_code == 1 and "取得上级库" in refused.output and not root.exists()  # init clones its upstream
    result = runner.invoke(app, ["init", str(root), "--region", "510100", "--name", HTML[0]])
    assert result.exit_code == 0, result.output
    page = rendered((root / "README.md").read_text(encoding="utf-8"))
    assert "<script" not in page and 'href="' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- 3: SQL carries data only in string literals and single-line comments --------------------

SQL_NAMES = [
    "分解住院\nSELECT 1; DROP TABLE claims; --",
    "分解住院\r\nDROP TABLE claims;\u2028DROP TABLE claims;\x85DROP TABLE claims;",
    "分解住院 */ DROP TABLE claims; /* ---",
]


def statements(sql: str, dialect: str) -> list[Any]:
    import sqlglot

    parsed = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    for s in parsed:  # compared without their comments: a comment may say anything
        for node in s.walk():
            node.comments = None
    return parsed


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "trino"])
def test_compiled_sql_keeps_a_hostile_rule_name_in_its_comment(shipped: Path, dialect: str) -> None:
    def compiled() -> str:
        result = runner.invoke(app, ["compile", "--dialect", dialect, "--rules", "CN-R-0017"])
        assert result.exit_code == 0, result.output
        return result.stdout

    expected = statements(compiled(), dialect)
    assert len(expected) == 1
    for name in SQL_NAMES:
        hostile_rule(shipped, name=name)
        sql = compiled()
        assert statements(sql, dialect) == expected  # exactly the same statement, nothing more
        assert sql.splitlines()[0].startswith("-- CN-R-0017 分解住院 ") and "DROP" not in "".join(sql.splitlines()[1:])


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "trino"])
def test_literals_stay_literals(dialect: str) -> None:
    import sqlglot

    from twoku.engine.sql import literal, transpile

    for value in ["x\\", "a'b", "a\\'; DROP TABLE claims; --", "a\nb */ --", float("nan"), float("-inf")]:
        sql = transpile(f"SELECT {literal(value)} AS v FROM claims", dialect)
        [select] = statements(sql, dialect)
        assert isinstance(select, sqlglot.exp.Select) and not list(select.find_all(sqlglot.exp.Column))


# --- 13: control characters are a finding, and never crash an output ------------------------


def test_control_characters_are_a_finding_and_never_crash_publish(shipped: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tests.storefactory import write_files

    hostile_rule(shipped, definition="第一页\f第二页\x1b[31m红字\x9b", name="分解住院\u202e")
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 1
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK110"]
    assert [(f["path"], f["severity"]) for f in found] == [(RULE_17, "error")] * 2
    assert "\\x0c、\\x1b、\\x9b" in " ".join(f["message"] for f in found)
    refused = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "refused", code=1)
    assert "TK110" in refused["output"] and "Traceback" not in refused["output"]
    # Waived, the text is published: each output holds it, escaped where the format cannot hold it.
    config = (shipped / "twoku.yaml").read_text(encoding="utf-8")
    waiver = "waivers:\n  - {code: TK110, id: CN-R-0017, reason: 测试, expires: 2099-12-31}\n"
    write_files(shipped, {"twoku.yaml": config + waiver})
    commit_all(shipped, "豁免")
    out = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")
    cells = [
        str(c.value) for ws in load_workbook(io.BytesIO(out["xlsx"])).worksheets for r in ws.iter_rows() for c in r
    ]
    assert any("第一页\\x0c第二页\\x1b[31m红字\\x9b" in c for c in cells)
    assert "\x1b" not in out["md"].decode("utf-8") and "第一页\\x0c第二页" in out["md"].decode("utf-8")


# --- 10: personal data in other shapes ---------------------------------------------------------


def test_publish_refuses_numbers_in_other_shapes(shipped: Path, tmp_path: Path) -> None:
    for shape in (
        fakes.wide(fakes.MOBILE),
        "+86" + fakes.MOBILE,
        fakes.FAKES["mobile_dashed"],
        fakes.FAKES["id_grouped"],
    ):
        rule = load(shipped, RULE_17)
        rule["monitoring_point"] += f"咨询 {shape}。"
        dump(shipped, RULE_17, rule)
        commit_all(shipped, "误录个人信息")
        result = publish("--region", "CN", "--as-of", "2026-06-30", out=tmp_path / "out", code=1)
        assert "拒绝发布" in result["output"] and "疑似" in result["output"], shape
        assert shape not in result["output"]
        git(shipped, "reset", "-q", "--hard", "HEAD~1")


def test_a_stale_record_never_quotes_an_id_number(shipped: Path) -> None:
    """A rule once held an ID number; removing it makes its records stale (TK604), whose message says
    what changed: the number is masked there."""
    number = fakes.ID
    hostile_rule(shipped, violations=[f"参保人 {number} 出院次日再次入院"])
    rule = load(shipped, RULE_17)
    rule["violations"] = ["出院次日再次入院"]
    dump(shipped, RULE_17, rule)
    commit_all(shipped, "删除误录的身份证号")
    assert git(shipped, "status", "--porcelain") == ""
    result = runner.invoke(app, ["validate", "--format", "json"])
    stale = [f["message"] for f in json.loads(result.stdout)["findings"] if f["code"] == "TK604"]
    assert stale and any(f"{number[:3]}****{number[-2:]}" in m for m in stale), stale
    assert number not in result.stdout
    text = runner.invoke(app, ["validate"]).output
    assert "TK604" in text and number not in text
    # Every sentence that says what changed masks it: signoff's stale notes, the diff and its public notice.
    for args in (["signoff", "status"], ["diff", "--since", "HEAD~1"], ["diff", "--since", "HEAD~1", "--format", "md"]):
        shown = runner.invoke(app, args, env=WIDE).output
        assert f"{number[:3]}****{number[-2:]}" in shown and number not in shown, (args, shown)


# --- 15: smaller validate gaps -----------------------------------------------------------------


def test_missing_fields_are_named_in_one_finding(store: Path) -> None:
    from tests.storefactory import write_files

    write_files(
        store, {"national/rules/actor-supervision/CN-R-0002.yaml": "id: CN-R-0002\nname: 空规则\nstatus: 草稿\n"}
    )
    result = runner.invoke(app, ["validate", "--format", "json"])
    missing = [f for f in json.loads(result.stdout)["findings"] if "必填字段" in f["message"]]
    assert len(missing) == 1, missing
    for name in ("category", "definition", "logic", "uses", "level", "violations", "basis"):
        assert f"“{name}”" in missing[0]["message"]
    assert missing[0]["message"].startswith("缺少 7 个必填字段：")


def test_a_record_about_to_be_written_lists_its_missing_fields_once() -> None:
    from twoku.ops.validate import schema_problems

    found = schema_problems("rule", {"id": "CN-R-0002", "name": "空规则", "status": "草稿", "extra": 1, "more": 2})
    assert sum("必填字段" in p for p in found) == 1
    assert [p for p in found if "未知字段" in p] == [
        "extra：未知字段 “extra”（拼写错误？）",
        "more：未知字段 “more”（拼写错误？）",
    ]


def test_a_hostile_file_name_is_quoted_in_the_git_mv_hint(store: Path) -> None:
    from tests.storefactory import RULE, write_files

    name = "national/rules/drug-policy/分解\n住院\x1b[2J 'x'.yaml"
    write_files(store, {name: RULE.replace("CN-R-0001", "CN-R-0002")})
    result = runner.invoke(app, ["validate", "--format", "json"])
    [moved] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "TK303"]
    hint = moved["hint"]
    assert hint == (
        "git mv $'national/rules/drug-policy/分解\\x0a住院\\x1b[2J \\'x\\'.yaml' "
        "national/rules/actor-supervision/CN-R-0002.yaml"
    )
    # bash reads the quoted word back as the file's own name
    import subprocess

    word = hint.removeprefix("git mv ").rsplit(" ", 1)[0]
    echoed = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, text=True)
    assert echoed.stdout == name


# --- 9: text from data reaches the terminal as text ------------------------------------------

WIDE = {"COLUMNS": "400"}  # no cell cut short
MARKUP = "[/bold]分解住院[link=http://evil.example/]点击查看[/link][bold red]"
ESC = "\x1b[31m红字\x1b]8;;http://evil.example/\x07链接\x1b]8;;\x07\x9b2J"


def assert_shown_as_text(output: str) -> None:
    assert "[/bold]分解住院[link=http://evil.example/]点击查看[/link]" in output  # the markup, as written
    assert "\\x1b[31m红字" in output and "\\x07" in output and "\\x9b2J" in output  # controls, made visible
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in output
    assert "[/" not in output.replace("[/bold]", "").replace("[/link]", "")  # twoku's own markup is still styling


def hostile_name(text: str) -> str:
    """``text`` as a double-quoted YAML value, its controls written with YAML's escapes."""
    return '"' + text.replace("\x1b", "\\e").replace("\x07", "\\a").replace("\x9b", "\\x9b") + '"'


def test_ls_show_diff_validate_show_hostile_text_as_text(store: Path) -> None:
    from tests.storefactory import RULE, RULE_PATH, write_files

    write_files(store, {RULE_PATH: RULE.replace("name: 分解住院", f"name: {hostile_name(MARKUP + ESC)}")})
    commit_all(store, "恶意名称")
    for args in (["ls", "rules"], ["show", "CN-R-0001"], ["show", "CN-R-0001", "--region", "510000"],
                 ["diff", "--since", "HEAD~1"], ["validate"]):  # fmt: skip
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == (1 if args[0] == "validate" else 0), (args, result.output)
        assert "内部错误" not in result.output, (args, result.output)
        if args[0] == "validate":  # the finding names the characters, not the name
            assert "TK110" in result.output and "\x1b" not in result.output
        else:
            assert_shown_as_text(result.output)


def test_a_file_name_with_a_newline_and_esc_is_printed_escaped(store: Path) -> None:
    from tests.storefactory import RULE, write_files

    write_files(store, {"national/rules/drug-policy/分解\n住院\x1b[2J.yaml": RULE.replace("CN-R-0001", "CN-R-0002")})
    output = runner.invoke(app, ["validate"]).output
    assert "national/rules/drug-policy/分解\\x0a住院\\x1b[2J.yaml\n" in output  # the header: one line, escaped
    assert "\x1b" not in output


def test_signoff_shows_hostile_text_as_text(shipped: Path) -> None:
    hostile_rule(shipped, name=MARKUP + ESC)
    for args in (["signoff", "status", "--region", "510100"], ["ls", "rules", "--region", "510100"]):
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == 0, result.output
        assert_shown_as_text(result.output)


def test_report_and_intake_show_hostile_text_as_text(tmp_path: Path, monkeypatch: Any) -> None:
    from tests.cli.test_report import PROVINCE_RULE, PROVINCE_RULE_PATH, clone
    from tests.storefactory import make_store, write_files

    national = make_store(tmp_path / "national")
    province = clone(national, tmp_path / "province", "510000", "国家医保局")
    rule = PROVINCE_RULE.replace("name: 挂床住院（四川）", f"name: {hostile_name(MARKUP + ESC)}")
    write_files(province, {PROVINCE_RULE_PATH: rule})
    commit_all(province, "新增本省规则")
    monkeypatch.chdir(province)
    archive = tmp_path / "r.tar.gz"
    made = runner.invoke(app, ["report-upstream", "--propose", "510000-R-0001", "--out", str(archive)], env=WIDE)
    assert made.exit_code == 0, made.output
    assert_shown_as_text(made.output)
    monkeypatch.chdir(national)
    taken = runner.invoke(app, ["intake", str(archive)], env=WIDE)
    assert taken.exit_code == 0, taken.output
    assert_shown_as_text(taken.output)


def test_the_console_shows_what_any_renderable_carries_as_text() -> None:
    """The net under the helpers: a string is never markup, and no renderable writes a control character."""
    import io

    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from twoku.render.terminal import console

    out = io.StringIO()
    terminal = console(file=out, width=200, force_terminal=True, color_system="standard")
    table = Table()
    table.add_row(MARKUP, Text(ESC))
    terminal.print(MARKUP, Text(ESC, style="bold"), Panel("x", title=Text(ESC)), table)
    written = out.getvalue()
    assert MARKUP.split("[bold red]")[0] in written and "\\x1b[31m红字" in written
    assert "\x1b[1m" in written  # rich's own styling still reaches the terminal
    assert "\x1b[31m红字" not in written and "\x07" not in written and "\x9b" not in written


def test_a_csv_of_hits_holds_no_formula_and_evaluate_reads_it_back(shipped: Path, tmp_path: Path) -> None:
    """Line, patient and visit IDs come from the institutions' claims: in a CSV of hits, a cell that would start
    a formula gets OWASP's apostrophe; evaluate matches the hits with feedback written either way."""
    import csv

    from tests.cli.test_run import _claims

    line_id = '=HYPERLINK("http://evil.example/","点击")'
    claims = _claims(tmp_path / "claims.csv", [
        {"line_id": line_id, "patient_id": "@SUM(1)", "sex": "女", "item_code": "XL02BBA326A001010102180",
         "service_date": "2025-03-02", "quantity": 1, "fund_amount": 860.5},
    ])  # fmt: skip
    hits = tmp_path / "hits.csv"
    result = runner.invoke(app, ["run", "--claims", str(claims), "--region", "510000", "--out", str(hits)])
    assert result.exit_code == 0, result.output
    with hits.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(not v.startswith(tuple("=+-@\t\r")) for row in rows for v in row.values())
    assert (rows[0]["line_id"], rows[0]["patient_id"]) == ("'" + line_id, "'@SUM(1)")
    for written in (line_id, "'" + line_id):  # as the claims hold it, or as a spreadsheet kept it
        feedback = tmp_path / "feedback.csv"
        with feedback.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([["rule_id", "line_id", "outcome"], [rows[0]["rule_id"], written, "confirmed"]])
        result = runner.invoke(app, ["evaluate", "--hits", str(hits), "--feedback", str(feedback), "--format", "json"])
        data = json.loads(result.stdout)
        assert data["unmatched_feedback"] == 0 and sum(r["confirmed"] for r in data["rules"]) == 1


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_json_output_carries_no_raw_control_either(store: Path) -> None:
    from tests.storefactory import RULE, RULE_PATH, write_files

    name = MARKUP + ESC + "\u202e"
    write_files(store, {RULE_PATH: RULE.replace("name: 分解住院", "name: " + hostile_name(name))})
    commit_all(store, "恶意名称")
    for args in (["show", "CN-R-0001", "--format", "json"], ["ls", "rules", "--format", "json"],
                 ["diff", "--since", "HEAD~1", "--format", "json"]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert not any(c in result.stdout for c in "\x1b\x07\x9b\u202e"), args
        assert name in strings(json.loads(result.stdout))  # the same data, read back
