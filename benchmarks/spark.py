"""Time ``twoku run --engine spark`` (local mode) beside the embedded DuckDB on the same synthetic claims.

    python benchmarks/spark.py                          # 1,000,000 lines, Spark local[2] and DuckDB on 2 threads
    python benchmarks/spark.py --lines 10000000 --master 'local[4]' --threads 4
    python benchmarks/spark.py --claims claims.parquet

The claims come from ``benchmarks/generate_claims.py`` (Parquet).  Both engines run every rule of the
region with a condition, as ``twoku run`` does (read the claims, load the region's tables, run each rule,
bring the hits into the table ``hits``); the store load is not timed, nor is Spark's start (the JVM, printed
apart: a cluster pays it once per job, not per line).  Both must find the same hits, rule by rule; the
benchmark says so or fails.  Local mode on two cores is informative only: Spark is for claims spread over
a cluster's disks, where DuckDB on one machine cannot follow.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))


def _specs(region: str) -> tuple[Any, Any, list[Any]]:
    from twoku.ops.library import region_layer
    from twoku.ops.run import rule_spec, select_rules
    from twoku.ops.validate import load_store

    lib = load_store(REPO).library
    layer = region_layer(region, lib)
    return lib, layer, [rule_spec(REPO, lib, r, layer) for r in select_rules(lib, layer)]


def _hits(con: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule_id, line_id in con.execute("SELECT rule_id, line_id FROM hits").fetchall():
        out.setdefault(rule_id, set()).add(line_id)
    return out


def time_duckdb(claims: Path, region: str, threads: int) -> tuple[float, int, dict[str, set[str]]]:
    from twoku.engine import duck
    from twoku.engine.sql import columns_used
    from twoku.ops.run import load_tables

    lib, layer, specs = _specs(region)
    started = time.perf_counter()
    con = duck.connect(threads)
    lines = duck.load_claims(con, claims, columns_used(specs))
    load_tables(con, REPO, lib, specs, layer)
    duck.run_rules(con, specs, region)
    return time.perf_counter() - started, lines, _hits(con)


def time_spark(spark: Any, claims: Path, region: str) -> tuple[float, int, dict[str, set[str]]]:
    from twoku.engine import duck
    from twoku.engine import spark as engine
    from twoku.ops.run import load_tables

    lib, layer, specs = _specs(region)
    started = time.perf_counter()
    con = duck.connect(1)
    load_tables(con, REPO, lib, specs, layer)
    lines, _ = engine.read_claims(spark, str(claims))
    engine.send_tables(spark, con, [ref.relation for s in specs for ref in s.tables.values()])
    engine.run_rules(spark, con, specs, region)
    return time.perf_counter() - started, lines, _hits(con)


def main() -> None:
    parser = argparse.ArgumentParser(description="Spark（本地模式）与内嵌 DuckDB 运行规则的速度对比（合成结算明细）")
    parser.add_argument("--lines", type=int, default=1_000_000, help="合成明细条数（缺省一百万）")
    parser.add_argument("--claims", type=Path, help="已有的 .parquet 明细（否则临时生成）")
    parser.add_argument("--region", default="510100", help="地区代码（缺省 510100）")
    parser.add_argument("--master", default="local[2]", help="Spark 的 master（缺省 local[2]）")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB 的线程数（缺省 2）")
    parser.add_argument("--rounds", type=int, default=2, help="Spark 运行次数（第一次含 JVM 预热）")
    args = parser.parse_args()
    from twoku.engine import spark as engine

    with tempfile.TemporaryDirectory(prefix="twoku-spark-bench-") as tmp:
        claims = args.claims
        if claims is None:
            from generate_claims import generate

            claims = Path(tmp) / "claims.parquet"
            started = time.perf_counter()
            generate(claims, args.lines)
            print(f"generated {args.lines:,} lines in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        load = os.getloadavg()[0]
        seconds, lines, expected = time_duckdb(claims, args.region, args.threads)
        print(
            f"DuckDB ({args.threads} threads): {lines:,} lines in {seconds:.2f} s = "
            f"{lines / seconds / 1e6:.2f} M lines/s; "
            f"{sum(map(len, expected.values())):,} hits; {len(expected)} rules with hits; load average {load:.1f}"
        )
        started = time.perf_counter()
        with engine.started(args.master, {"spark.sql.shuffle.partitions": "8"}) as spark:
            print(f"Spark ({args.master}) started in {time.perf_counter() - started:.1f} s")
            for n in range(1, args.rounds + 1):
                load = os.getloadavg()[0]
                seconds, lines, hits = time_spark(spark, claims, args.region)
                print(
                    f"Spark ({args.master}) round {n}: {lines:,} lines in {seconds:.2f} s = "
                    f"{lines / seconds / 1e6:.2f} M lines/s; load average {load:.1f}"
                )
                differ = sorted(r for r in set(hits) | set(expected) if hits.get(r) != expected.get(r))
                if differ:
                    raise SystemExit("Spark and DuckDB disagree on the hits of " + ", ".join(differ))
        print("both engines found the same hits for every rule")


if __name__ == "__main__":
    main()
