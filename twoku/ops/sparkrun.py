"""``twoku run --engine spark``: a region's effective rules over claim lines on Spark.

The same rules as ``twoku run`` on DuckDB (ops/run.py): the rules the region runs, their localised
parameters, its tables with its rows added and removed.  Spark reads the claims (a Parquet file, a
folder of them, or a URI the cluster reads); the driver prepares the tables and writes the hits, so the
hits file and the summary are the embedded engine's, line for line.  Indicators (统计指标监测类) are computed
there too and written beside the hits, as ``twoku run`` writes them (ops/indicators.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from twoku.model.runs import RunResult


def run(
    root: Path,
    claims: str,
    region: str | None = None,
    rule_ids: Sequence[str] = (),
    out: Path | None = None,
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
) -> RunResult:
    from twoku.engine import duck, spark
    from twoku.ops import indicators, progress
    from twoku.ops.run import _write_whole, check_out, choose, load_tables

    check_out(out)
    spark.require()  # before the store is read: a missing install is said first
    spark.check_claims(claims)
    chosen = choose(root, region, rule_ids)
    lib, layer, specs, measured = chosen.lib, chosen.layer, chosen.specs, chosen.measured
    source = claims if spark.is_uri(claims) else str(Path(claims).resolve())
    started = time.perf_counter()
    con = duck.connect(1)  # the driver's: the region's tables, then the hits
    load_tables(con, root, lib, specs, layer)
    measures = indicators.specs_of(con, root, lib, layer, measured)
    relations = [ref.relation for s in specs for ref in s.tables.values()]
    relations += [ref.relation for m in measures for ref in m.tables.values()]
    settings = {"spark.sql.shuffle.partitions": "8", **(conf or {})}
    with spark.started(master, settings) as session:
        lines, ignored = spark.read_claims(session, source)
        spark.send_tables(session, con, relations)
        counts = spark.run_rules(
            session, con, specs, layer.code, lambda done: progress.tell("运行规则", done, len(specs))
        )
        computed = spark.run_indicators(session, con, measures, layer.code)
    seconds = time.perf_counter() - started
    beside = indicators.indicators_path(out) if out is not None and measured else None
    results = indicators.results(con, measured, measures, computed, beside)
    if out is not None:
        _write_whole(con, out)
    sample = duck.hit_rows(con, 20)
    return RunResult(
        layer,
        claims,
        lines,
        chosen.per_rule(counts),
        out,
        seconds,
        sample,
        "utf-8",
        ignored,
        results,
        beside,
        engine="spark",
    )
