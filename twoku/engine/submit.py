"""A Spark bundle's driver for ``spark-submit``: copied as ``submit.py`` into ``twoku compile --dialect spark --out``.

    spark-submit --master yarn submit.py --claims hdfs://nn/claims/2025/ --out hdfs://nn/twoku/hits/2025/
    spark-submit --master yarn submit.py --claims … --out … --bundle hdfs://nn/twoku/bundle-510100/

It reads the bundle's files as they are (register.sql, rules.sql) and nothing of twoku: a cluster needs only
Spark.  ``claims`` is a view of the Parquet at ``--claims`` (columns named as the claim model,
schema/claim.schema.json); each table is registered from ``--bundle`` (default: the folder this script is in,
which a cluster's executors can read only on a shared filesystem: copy the bundle to HDFS or S3 and name it);
the hits are written to ``--out`` as Parquet.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

# register.sql names each table by its path in the bundle: `path 'tables/<ID>.parquet'`
_TABLE_PATH = re.compile(r"path '(tables/[^']+)'")


def statements(register: str, bundle: str) -> list[str]:
    """register.sql's statements (one a line), each table's path under ``bundle``."""
    base = bundle.rstrip("/")
    return [
        _TABLE_PATH.sub(lambda m: f"path '{base}/{m.group(1)}'", line.rstrip().rstrip(";"))
        for line in register.splitlines()
        if line.strip()
    ]


def run(spark: Any, claims: str, out: str, bundle: str) -> int:
    """The bundle's rules over ``claims`` into ``out`` (Parquet); the number of hits."""
    read = spark.read.text  # the bundle's own files, wherever it is (local, HDFS, S3)
    register = "\n".join(r.value for r in read(f"{bundle.rstrip('/')}/register.sql").collect())
    rules = "\n".join(r.value for r in read(f"{bundle.rstrip('/')}/rules.sql").collect())
    spark.read.parquet(claims).createOrReplaceTempView("claims")
    for statement in statements(register, bundle):
        spark.sql(statement)
    hits = spark.sql(rules)
    hits.write.mode("errorifexists").parquet(out)
    return int(spark.read.parquet(out).count())


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a twoku bundle's rules on Spark (spark-submit submit.py …)")
    parser.add_argument("--claims", required=True, help="claims as Parquet: a file, a folder or a URI")
    parser.add_argument("--out", required=True, help="where the hits are written (a Parquet folder; must not exist)")
    here = "file://" + str(Path(__file__).resolve().parent)  # not as_uri(): Hadoop reads %-escapes literally
    parser.add_argument("--bundle", default=here, help="the bundle's location (default: this script's folder)")
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("twoku bundle").getOrCreate()
    try:
        hits = run(spark, args.claims, args.out, args.bundle)
    finally:
        spark.stop()
    print(f"{hits} hits written to {args.out}")


if __name__ == "__main__":
    main()
