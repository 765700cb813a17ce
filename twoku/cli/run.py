"""``twoku run``, ``twoku compile`` and ``twoku test``: rules that run on claim lines."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from twoku.cli.application import LISTS, Format, app, emit, guarded, listed, stdout


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"


class Dialect(StrEnum):
    duckdb = "duckdb"
    spark = "spark"
    trino = "trino"


@app.command("run", context_settings=LISTS)
@guarded
def run(
    ctx: typer.Context,
    claims: Path = typer.Option(
        ...,
        "--claims",
        help="结算明细文件：.csv（含表头）或 .parquet；列名用英文名或中文名称（如 line_id 或 明细流水号），"
        "见 schema/claim.schema.json",
    ),
    region: str = typer.Option(None, "--region", "-r", help="地区代码：按该地生效库及本地化参数运行，如 510100"),
    rules: list[str] = typer.Option(
        None,
        "--rules",
        help="只运行这些规则：--rules A B C（或重复 --rules）；缺省为该地全部带可执行条件的生效规则",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="命中明细写入文件：.parquet、.csv 或 .json"),
    threads: int = typer.Option(None, "--threads", help="DuckDB 使用的线程数（缺省为全部 CPU）"),
    encoding: str = typer.Option(
        "auto", "--encoding", help="CSV 的编码：auto（自动识别 UTF-8 和 GBK/GB18030）、utf-8、gb18030、gbk"
    ),
    memory: str = typer.Option(
        None,
        "--memory",
        help="DuckDB 可用的内存上限，如 800MB、4GB（缺省为本机内存的 80%）；超出时暂存到临时目录，结果不变",
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="汇总的输出格式"),
) -> None:
    """在结算明细上运行某地区的生效规则（内嵌 DuckDB），每条命中一行：规则、明细、判断等级、触发取值。

    规则按该地区生效的参数运行：国家建议值，经本省、本市本地化（第五条）。
    只运行写有可执行条件（condition）的规则；规则生效日期之前的明细不判断。

    Excel 另存的 CSV（GBK 或带 BOM 的 UTF-8）可直接读取；表头可用中文名称；
    日期写作 2025-03-01 或 2025/3/1，长期处方写 是/否。

    示例：

      twoku run --claims 结算明细.parquet --region 510100 --out 命中.parquet

      twoku run --claims claims.csv --rules CN-R-0017 CN-R-0030 --format json

      twoku run --claims 全年明细.parquet --threads 2 --memory 800MB --out 命中.parquet
    """
    from twoku.cli.progress import shown
    from twoku.ops.run import run as run_rules
    from twoku.render.run import run_json, run_text
    from twoku.store.files import find_root

    with shown():  # millions of claim lines take seconds per rule: a bar on a terminal's stderr
        result = run_rules(find_root(), claims, region, listed(ctx, rules, "--rules"), out, threads, encoding, memory)
    if fmt is Format.json:
        emit(run_json(result))
    else:
        run_text(result, stdout())


@app.command("compile", context_settings=LISTS)
@guarded
def compile_(
    ctx: typer.Context,
    dialect: Dialect = typer.Option(Dialect.duckdb, "--dialect", "-d", help="目标引擎的 SQL 方言"),
    region: str = typer.Option(None, "--region", "-r", help="地区代码：按该地生效库及本地化参数编译"),
    rules: list[str] = typer.Option(None, "--rules", help="只编译这些规则：--rules A B C（或重复 --rules）"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="写成可直接运行的目录：SQL、规则所用知识点明细表（Parquet）及其注册语句"
    ),
) -> None:
    """把规则的可执行条件编译为 SQL，交给已有的分布式引擎（Spark、Trino）在大数据上运行。

    SQL 读取名为 claims 的表（列见 schema/claim.schema.json），结果每条命中一行：
    rule_id、level、line_id、patient_id、visit_id、evidence。本地化参数已代入；规则所用的知识点明细表
    以表名 kt_<编号> 连接，不把代码列表写进 SQL。--out 写出一个目录：rules.sql、tables/*.parquet、
    register.sql（注册表格的语句）、bundle.sql（注册后运行，结果写入表 hits）和 manifest.json。

    示例：

      twoku compile --dialect spark --region 510000 --out 规则包

      cd 规则包 && spark-sql -f bundle.sql        # 先把结算明细注册为 claims

      twoku compile --dialect trino --rules CN-R-0017 > rules.sql
    """
    from twoku.ops.run import compile_sql
    from twoku.store.files import find_root

    compiled = compile_sql(find_root(), dialect.value, region, listed(ctx, rules, "--rules"), out)
    if compiled.out is None:
        emit(compiled.sql)
        return
    console = stdout()
    console.print(f"已写出 {compiled.out}：{len(compiled.rules)} 条规则，{len(compiled.tables)} 张知识点明细表")
    console.print("  运行：在该目录中先把结算明细注册为 claims，再执行 bundle.sql")


@app.command("test")
@guarded
def test(
    ids: list[str] = typer.Argument(None, metavar="[ID...]", help="只测试这些规则；缺省为全部带可执行条件的规则"),
    region: str = typer.Option(
        None, "--region", "-r", help="按该地区的生效取值（含本地化参数）测试该地区生效库的规则，如 510100"
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """运行规则的用例（examples）：每个用例的明细中，应命中的必须命中，其余必须不命中。

    规则按其本层的参数测试（国家规则用国家建议值）。--region 按该地区的生效取值测试：
    用例按本地取值不成立、按规则本层取值成立的，标为“≈ 取决于本地改变的参数”并指出是哪个参数，
    不计为失败。有用例失败时退出码为 1。

    示例：

      twoku test

      twoku test CN-R-0017 CN-R-0030 --format json

      twoku test --region 510100
    """
    from twoku.ops.ruletest import run_examples
    from twoku.render.run import ruletest_dict, ruletest_text
    from twoku.store.files import find_root

    report = run_examples(find_root(), ids or (), region)
    if fmt is Format.json:
        emit(json.dumps(ruletest_dict(report), ensure_ascii=False, indent=2))
    else:
        ruletest_text(report, stdout())
    if not report.ok:
        raise typer.Exit(1)


@app.command("evaluate")
@guarded
def evaluate(
    hits: Path = typer.Option(..., "--hits", help="twoku run --out 写出的命中明细（.parquet、.csv 或 .json）"),
    feedback: Path = typer.Option(
        ..., "--feedback", help="处理结果：每条命中一行 rule_id、line_id、outcome（confirmed/rejected/pending）"
    ),
    region: str = typer.Option(None, "--region", "-r", help="地区代码：列出该地从未命中的规则"),
    lines: int = typer.Option(None, "--lines", help="运行时的结算明细条数（计算每万条命中数）"),
    claims: Path = typer.Option(None, "--claims", help="或给出结算明细文件，由它计数"),
    misfire_below: float = typer.Option(0.5, "--misfire-below", help="精准率低于此值视为多数误判"),
    min_decided: int = typer.Option(10, "--min-decided", help="判断多数误判所需的最少已判定命中数"),
    fmt: ReportFormat = typer.Option(
        ReportFormat.text, "--format", "-f", help="输出格式；html 为带柱状图的独立网页（不联网、无脚本）"
    ),
    out: Path = typer.Option(None, "--out", "-o", help="报告写入此文件（html 格式时建议给出）"),
) -> None:
    """按第二十一条评估规则运行情况：活跃度（每万条明细命中数）、精准率（确认 ÷ 已判定）、申诉成立数，
    并列出从未命中和多数误判的规则，作为年度调整的依据。

    处理结果来自第二十条的初审、复审、申诉、调查核实、处理：outcome 为 confirmed（确认违规）、
    rejected（不予认定）或 pending（处理中）；可选列 stage、appealed、appeal_upheld。

    示例：

      twoku evaluate --hits 命中.parquet --feedback 处理结果.csv --claims 结算明细.parquet --region 510100

      twoku evaluate --hits hits.csv --feedback feedback.csv --lines 1000000 --format json

      twoku evaluate --hits 命中.parquet --feedback 处理结果.csv --lines 1000000 --format html --out 评估.html
    """
    from twoku.ops.evaluate import evaluate as run_evaluation
    from twoku.render.run import evaluation_dict, evaluation_text
    from twoku.store.files import find_root

    result = run_evaluation(find_root(), hits, feedback, region, lines, claims, misfire_below, min_decided)
    if fmt is ReportFormat.text and out is None:
        evaluation_text(result, stdout())
        return
    if fmt is ReportFormat.html:
        from twoku.render.evaluate_html import evaluation_html

        page = evaluation_html(result)
    elif fmt is ReportFormat.json:
        page = json.dumps(evaluation_dict(result), ensure_ascii=False, indent=2) + "\n"
    else:
        import io

        from twoku.render.terminal import console as text_console

        console = text_console(record=True, width=120, file=io.StringIO())
        evaluation_text(result, console)
        page = console.export_text()
    if out is None:
        emit(page.rstrip("\n"))
        return
    from twoku.store.documents.edit import atomic_write, writable_file

    writable_file(out)
    atomic_write(out, page.encode("utf-8"))
    from twoku.render.terminal import styled

    stdout().print(styled(f"评估报告已写入 {out}"))
