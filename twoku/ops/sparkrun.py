"""``twoku run --engine spark``: a region's effective rules over claim lines on Spark.

The same rules as ``twoku run`` on DuckDB (ops/run.py): the rules the region runs, their localised
parameters, its tables with its rows added and removed.  Spark reads the claims (a Parquet file, a
folder of them, or a URI the cluster reads); the driver prepares the tables and writes the hits, so the
hits file and the summary are the embedded engine's, line for line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from twoku.errors import UsageError
from twoku.model.runs import RuleHits, RunResult


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
    from twoku.ops import progress
    from twoku.ops.library import region_layer
    from twoku.ops.run import _write_whole, load_tables, rule_spec, select_rules
    from twoku.ops.validate import load_store

    if out is not None and out.suffix.lower() not in duck.HIT_SUFFIXES:
        raise UsageError(f"--out {out.name}：命中结果应写为 .parquet、.csv 或 .json")
    if out is not None:
        from twoku.store.documents.edit import writable_file

        writable_file(out)
    spark.require()  # before the store is read: a missing install is said first
    spark.check_claims(claims)
    lib = load_store(root).library
    layer = region_layer(region, lib)
    rules = select_rules(lib, layer, rule_ids)
    specs = [rule_spec(root, lib, r, layer) for r in rules]
    source = claims if spark.is_uri(claims) else str(Path(claims).resolve())
    started = time.perf_counter()
    con = duck.connect(1)  # the driver's: the region's tables, then the hits
    load_tables(con, root, lib, specs, layer)
    settings = {"spark.sql.shuffle.partitions": "8", **(conf or {})}
    with spark.started(master, settings) as session:
        lines, ignored = spark.read_claims(session, source)
        spark.send_tables(session, con, [ref.relation for s in specs for ref in s.tables.values()])
        counts = spark.run_rules(
            session, con, specs, layer.code, lambda done: progress.tell("运行规则", done, len(specs))
        )
    seconds = time.perf_counter() - started
    if out is not None:
        _write_whole(con, out)
    per_rule = [
        RuleHits(r.id, r.title, s.level, counts.get(r.id, 0), dict(s.params)) for r, s in zip(rules, specs, strict=True)
    ]
    sample = duck.hit_rows(con, 20)
    return RunResult(layer, claims, lines, per_rule, out, seconds, sample, "utf-8", ignored, engine="spark")
