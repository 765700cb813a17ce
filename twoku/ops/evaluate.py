"""``twoku evaluate``: each rule's activity and precision (第二十一条), from its hits and their handling.

Hits come from ``twoku run --out``; feedback is the outcome of handling each hit through
初审、复审、申诉、调查核实、处理 (第二十条), one row per hit: ``rule_id, line_id, outcome``
(confirmed / rejected / pending, or 确认违规 / 不予认定 / 处理中) and optionally ``stage``,
``appealed`` and ``appeal_upheld``.  Per rule and region:

* activity — hits per 10,000 claim lines (needs the number of lines: ``--lines`` or ``--claims``);
* precision — confirmed ÷ decided (confirmed + rejected); pending hits are not yet decided;
* appeals — how many hits were appealed and how many appeals were upheld;
* rules that never fire, and rules that mostly misfire (precision below a bar over
  enough decided hits): the evidence for the next annual adjustment (第十四条).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model.library import Library
from twoku.model.runs import Evaluation, IndicatorMetrics, RuleMetrics
from twoku.ops.library import region_layer
from twoku.ops.run import select_rules
from twoku.ops.validate import load_store

OUTCOMES = {
    "confirmed": "confirmed",
    "确认违规": "confirmed",
    "确认": "confirmed",
    "rejected": "rejected",
    "不予认定": "rejected",
    "排除": "rejected",
    "pending": "pending",
    "处理中": "pending",
    "待处理": "pending",
}


def _read(con: Any, path: Path, what: str, scratch: Path) -> tuple[str, set[str]]:
    """The file as DuckDB reads it literally (no glob), a CSV saved as GBK transcoded first; its columns."""
    from twoku.engine import claimfile
    from twoku.engine.duck import table_source

    if not path.is_file():
        raise UsageError(f"找不到{what}文件 {path}")
    folder = scratch / what
    folder.mkdir()
    readable = claimfile.literal_path(path, folder)
    if path.suffix.lower() == ".csv" and (encoding := claimfile.detect_encoding(path)) != "utf-8":
        readable = claimfile.transcode(path, encoding, folder)
    source = table_source(readable)
    import duckdb

    try:
        columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error as exc:
        raise TwokuError(
            f"{what}文件 {path.name} 无法读取", hint=f"应为带表头的 CSV、Parquet 或 JSON（DuckDB 的原始说明：{exc}）"
        ) from None
    return source, columns


def evaluate(
    root: Path,
    hits: Path,
    feedback: Path,
    region: str | None = None,
    lines: int | None = None,
    claims: Path | None = None,
    misfire_below: float = 0.5,
    min_decided: int = 10,
    indicators: Path | None = None,
) -> Evaluation:
    lib: Library = load_store(root).library
    with tempfile.TemporaryDirectory(prefix="twoku-evaluate-") as scratch:
        return _evaluate(
            lib, hits, feedback, region, lines, claims, misfire_below, min_decided, Path(scratch), indicators
        )


def _evaluate(
    lib: Library,
    hits: Path,
    feedback: Path,
    region: str | None,
    lines: int | None,
    claims: Path | None,
    misfire_below: float,
    min_decided: int,
    scratch: Path,
    indicators: Path | None = None,
) -> Evaluation:
    from twoku.engine import duck

    con = duck.connect()
    hit_src, hit_cols = _read(con, hits, "命中", scratch)
    fb_src, fb_cols = _read(con, feedback, "处理结果", scratch)
    for need, cols, what in (
        ({"rule_id", "line_id"}, hit_cols, "命中"),
        ({"rule_id", "line_id", "outcome"}, fb_cols, "处理结果"),
    ):
        if not need <= cols:
            raise TwokuError(f"{what}文件缺少列：{'、'.join(sorted(need - cols))}")
    if claims is not None and lines is None:
        lines = duck.load_claims(con, claims, ())
    outcome_map = "CASE " + " ".join(f"WHEN outcome = '{k}' THEN '{v}'" for k, v in OUTCOMES.items()) + " END"
    appealed = "COALESCE(CAST(appealed AS BOOLEAN), FALSE)" if "appealed" in fb_cols else "FALSE"
    upheld = "COALESCE(CAST(appeal_upheld AS BOOLEAN), FALSE)" if "appeal_upheld" in fb_cols else "FALSE"
    hit_region = "CAST(region AS VARCHAR)" if "region" in hit_cols else "''"
    # IDs as the claims hold them: a CSV of hits (and a spreadsheet saved from it) keeps an apostrophe before an
    # ID that would start a formula (engine/duck.py)
    rule_id, line_id = duck.csv_value("CAST(rule_id AS VARCHAR)"), duck.csv_value("CAST(line_id AS VARCHAR)")
    ids = f"{rule_id} AS rule_id, {line_id} AS line_id"
    con.execute(f"CREATE TABLE h AS SELECT DISTINCT {ids}, {hit_region} AS region FROM {hit_src}")
    con.execute(
        f"CREATE TABLE f AS SELECT {ids}, {outcome_map} AS outcome, {appealed} AS appealed, {upheld} AS upheld "
        f"FROM {fb_src}"
    )
    bad = con.execute("SELECT COUNT(*) FROM f WHERE outcome IS NULL").fetchone()[0]
    if bad:
        raise TwokuError(
            f"处理结果中有 {bad} 行的 outcome 不可识别",
            hint="outcome 写 confirmed、rejected 或 pending（或 确认违规、不予认定、处理中）",
        )
    rows = con.execute(
        """SELECT h.rule_id, h.region, COUNT(*) AS hits,
             COUNT(*) FILTER (WHERE f.outcome = 'confirmed'), COUNT(*) FILTER (WHERE f.outcome = 'rejected'),
             COUNT(*) FILTER (WHERE f.outcome = 'pending'), COUNT(*) FILTER (WHERE f.outcome IS NULL),
             COUNT(*) FILTER (WHERE f.appealed), COUNT(*) FILTER (WHERE f.upheld)
           FROM h LEFT JOIN f USING (rule_id, line_id) GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall()
    measured = sorted(r.id for r in lib.of_kind("rule") if isinstance(r.data.get("indicator"), dict))
    listed = ", ".join(f"'{rule}'" for rule in measured) or "''"
    # feedback on an indicator names an institution-period, not a line: never an unmatched line hit
    unmatched = con.execute(
        f"SELECT COUNT(*) FROM f ANTI JOIN h USING (rule_id, line_id) WHERE rule_id NOT IN ({listed})"
    ).fetchone()[0]
    metrics = [
        RuleMetrics(
            rule_id=r[0],
            name=_name(lib, r[0]),
            region=r[1],
            hits=r[2],
            per_10000=round(r[2] * 10000 / lines, 2) if lines else None,
            confirmed=r[3],
            rejected=r[4],
            pending=r[5],
            unreviewed=r[6],
            appealed=r[7],
            appeals_upheld=r[8],
        )
        for r in rows
    ]
    fired = {m.rule_id for m in metrics}
    in_scope = [r.id for r in select_rules(lib, region_layer(region, lib))]
    misfiring = [
        m.rule_id
        for m in metrics
        if m.decided >= min_decided and m.precision is not None and m.precision < misfire_below
    ]
    never = [r for r in in_scope if r not in fired]
    layer = region_layer(region, lib)
    scope = [r.id for r in lib.of_kind("rule") if r.id in measured and lib.in_region(r, layer) and r.active]
    computed = []
    if indicators is not None:
        computed = _indicator_metrics(con, lib, indicators, fb_src, fb_cols, outcome_map, scratch)
    return Evaluation(lines, metrics, never, misfiring, int(unmatched), misfire_below, min_decided, computed, scope)


def _indicator_metrics(
    con: Any, lib: Library, path: Path, fb_src: str, fb_cols: set[str], outcome_map: str, scratch: Path
) -> list[IndicatorMetrics]:
    """Each indicator's institution-periods (from ``twoku run``'s ``.indicators`` file): how many were computed and
    flagged, and — where the feedback names ``institution_code`` and ``period`` — how the flags were decided."""
    from twoku.engine import duck

    source, cols = _read(con, path, "指标值", scratch)
    need = {"rule_id", "institution_code", "period", "flagged"}
    if not need <= cols:
        raise TwokuError(
            f"指标值文件缺少列：{'、'.join(sorted(need - cols))}",
            hint="给出 twoku run --out 写出的 <文件名>.indicators 文件",
        )
    ids = ", ".join(
        f"{duck.csv_value(f'CAST({c} AS VARCHAR)')} AS {c}" for c in ("rule_id", "institution_code", "period")
    )
    con.execute(f"CREATE TABLE i AS SELECT {ids}, CAST(flagged AS BOOLEAN) AS flagged FROM {source}")
    judged = "SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in ("rule_id", "institution_code", "period"))
    judged += ", CAST(NULL AS VARCHAR) AS outcome WHERE FALSE"
    if {"institution_code", "period"} <= fb_cols:
        keys = ", ".join(
            f"{duck.csv_value(f'CAST({c} AS VARCHAR)')} AS {c}" for c in ("rule_id", "institution_code", "period")
        )
        judged = f"SELECT {keys}, {outcome_map} AS outcome FROM {fb_src}"
    rows = con.execute(
        f"""SELECT i.rule_id, COUNT(*), COUNT(*) FILTER (WHERE i.flagged),
              COUNT(*) FILTER (WHERE i.flagged AND j.outcome = 'confirmed'),
              COUNT(*) FILTER (WHERE i.flagged AND j.outcome = 'rejected')
            FROM i LEFT JOIN ({judged}) AS j USING (rule_id, institution_code, period) GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return [IndicatorMetrics(r[0], _name(lib, r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def _name(lib: Library, rule_id: str) -> str:
    rule = lib.get(rule_id, "rule")
    return rule.title if rule else ""
