"""Spark: the same compiled rules on a cluster (or Spark's local mode), for claims one machine cannot hold.

The rules are the DuckDB SQL of engine/sql.py transpiled by sqlglot to Spark SQL: nothing is written
for Spark alone, so a rule means the same on both engines (tests/engine/test_spark.py runs every shipped
rule on both and compares the hits).

* ``claims`` is a view over Parquet (a file, a folder of part files, or a URI the cluster reads:
  ``hdfs://``, ``s3a://``), with every field of the claim model, typed; a column is named by the field's
  English name or its Chinese title, as for DuckDB (engine/claimfile.py).
* The knowledge tables, as the region has them, are loaded on the driver (DuckDB, ops/run.py) and sent to
  Spark as small in-memory relations under their names (``kt_<ID>``), broadcast to every executor.
* Each rule runs as one Spark job; its hits come back to the driver, which writes them as DuckDB does.

PySpark is an optional extra (``pip install 'twoku[spark]'``) and needs Java 17 or later; a missing one is
said in Chinese with the step that installs it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from twoku.engine import claimfile, duck
from twoku.engine.indicator import (
    INDICATOR_COLUMNS,
    INDICATOR_TYPES,
    IndicatorSpec,
    compile_indicator,
    counts_of,
    create_table,
)
from twoku.engine.sql import HIT_COLUMNS, RuleSpec, compile_rule, literal, sql_type, transpile
from twoku.errors import TwokuError, UsageError
from twoku.model import claim

INSTALL = "pip install 'twoku[spark]'"
JAVA_INSTALL = "apt-get install openjdk-17-jre-headless（Debian/Ubuntu），或安装 JDK 17 并设置 JAVA_HOME"
# Spark's names of the claim model's SQL types (engine/sql.py writes DuckDB's).
_SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Spark logs to the console; a run says what it found, and Spark's own errors become a TwokuError.
_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = off
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = off
"""


def is_uri(source: str) -> bool:
    """``hdfs://…``, ``s3a://…``, ``file:///…``: a location the cluster resolves, not a local path."""
    return bool(_URI.match(source))


def require() -> None:
    """PySpark importable and a Java to run it: else a message naming the install step."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise TwokuError("未安装 PySpark，无法使用 --engine spark", hint=f"安装可选组件：{INSTALL}") from None
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else None
    if not (java is not None and java.is_file()) and shutil.which("java") is None:
        raise TwokuError(
            "找不到 Java：Spark 需要 Java 17 或更高版本", hint=f"安装 Java：{JAVA_INSTALL}；再运行 {INSTALL}"
        )


def session(master: str | None = None, conf: Mapping[str, str] | None = None, scratch: Path | None = None) -> Any:
    """A SparkSession on ``master`` (default ``local[*]``), with ``conf`` set (``spark.sql.shuffle.partitions``…).

    ``scratch`` holds the log configuration (Spark's console logging limited to errors)."""
    from pyspark.sql import SparkSession

    for name in ("py4j", "pyspark", "SQLQueryContextLogger"):  # their errors become a TwokuError
        logging.getLogger(name).setLevel(logging.CRITICAL)
    builder = SparkSession.builder.appName("twoku").master(master or "local[*]")
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR"}
    if (master or "local").startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # the tables go to Spark through Python workers: in local mode, this interpreter (not whatever python3
        # is first on PATH, which may be another version); a cluster's executors need Python 3 of this version
        settings["spark.pyspark.python"] = sys.executable
    if scratch is not None:
        props = scratch / "log4j2.properties"
        props.write_text(_LOG4J, encoding="utf-8")
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={props.as_uri()}"
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the gateway did not start: no Java, an old one, or a master that is not there
        raise TwokuError(
            f"无法启动 Spark（--master {master or 'local[*]'}）：{_first_line(exc)}",
            hint=f"Spark 需要 Java 17 或更高版本：{JAVA_INSTALL}；集群地址用 --master spark://…、yarn 或 k8s://…",
        ) from None


@contextmanager
def started(master: str | None = None, conf: Mapping[str, str] | None = None) -> Iterator[Any]:
    """A session for one run, stopped afterwards (the JVM's scratch files go with it).  A session already
    running in this process (a notebook's, a test module's) is used as it is and left running."""
    require()
    with warnings.catch_warnings():  # PySpark warns of pandas versions it does not use here
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession, functions  # noqa: F401 (functions: imported under the filter)

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    with tempfile.TemporaryDirectory(prefix="twoku-spark-") as scratch:
        spark = session(master, conf, Path(scratch))
        try:
            yield spark
        finally:
            spark.stop()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def parse_conf(pairs: Iterable[str]) -> dict[str, str]:
    """``--conf key=value`` pairs as a mapping; a usage error naming a pair without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--conf {pair}：应写作 键=值", hint="如 --conf spark.sql.shuffle.partitions=64")
        out[key.strip()] = value
    return out


# --- claims ---------------------------------------------------------------------------------------


def check_claims(source: str) -> None:
    """A local ``source`` exists and is Parquet (a file or a folder); a URI is the cluster's to resolve."""
    if is_uri(source):
        return
    path = Path(source)
    if not path.exists():
        raise UsageError(f"找不到结算明细 {source}", hint="给出 Parquet 文件、Parquet 文件所在的目录或集群 URI")
    if path.is_file() and path.suffix.lower() != ".parquet":
        raise UsageError(
            f"--engine spark 读取 Parquet，不能读取 {path.name}",
            hint="先导出为 Parquet（或用缺省的 DuckDB 引擎运行 CSV）",
        )


def read_claims(spark: Any, source: str) -> tuple[int, tuple[str, ...]]:
    """Make the view ``claims`` the Parquet at ``source``, typed as the claim model; its lines, its
    ignored columns."""
    name = Path(source.rstrip("/"))
    check_claims(source)
    try:
        frame = spark.read.parquet(source)
    except Exception as exc:
        raise TwokuError(
            f"{name.name} 无法作为 Parquet 读取：{_first_line(exc)}",
            hint="给出 Parquet 文件、Parquet 文件所在的目录或集群 URI（hdfs://、s3a://）",
            path=source,
        ) from None
    present = {f.name: f.dataType.simpleString().upper() for f in frame.schema.fields}
    found = claimfile.match_columns(list(present), name)
    frame.createOrReplaceTempView("claims_source")
    columns = []
    for field in claim.CLAIM_FIELDS:
        kind = _SPARK_TYPES[sql_type(field.name)]
        column = found.fields.get(field.name)
        if column is None:
            columns.append(f"CAST(NULL AS {kind}) AS {field.name}")
        else:
            columns.append(f"{_typed(column, present[column], kind)} AS {field.name}")
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW claims AS SELECT {', '.join(columns)} FROM claims_source")
    try:
        lines = int(spark.table("claims_source").count())
    except Exception as exc:
        raise TwokuError(f"读取 {name.name} 失败：{_first_line(exc)}", path=source) from None
    return lines, found.unknown


def _typed(column: str, present: str, kind: str) -> str:
    ref = "`" + column.replace("`", "``") + "`"
    if present == kind:
        return ref
    if kind == "BOOLEAN" and present == "STRING":
        return f"CASE TRIM({ref}) WHEN '是' THEN TRUE WHEN '否' THEN FALSE ELSE CAST(TRIM({ref}) AS BOOLEAN) END"
    return f"CAST({ref} AS {kind})"


# --- knowledge tables -----------------------------------------------------------------------------

_DUCK_TYPES = {"VARCHAR": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE", "BOOLEAN": "BOOLEAN"}


def send_tables(spark: Any, con: Any, relations: Iterable[str]) -> None:
    """Each table DuckDB loaded (ops/run.py applies the region's rows), as a broadcast view in Spark."""
    from pyspark.sql.functions import broadcast

    for relation in dict.fromkeys(relations):
        described = con.execute(f"DESCRIBE {relation}").fetchall()
        schema = ", ".join(f"`{name}` {_DUCK_TYPES.get(str(kind), 'STRING')}" for name, kind, *_ in described)
        rows = con.execute(f"SELECT * FROM {relation}").fetchall()
        with warnings.catch_warnings():  # PySpark warns of pandas versions it does not use here
            warnings.simplefilter("ignore", FutureWarning)
            frame = spark.createDataFrame(rows, schema)
        broadcast(frame).createOrReplaceTempView(relation)


# --- rules ----------------------------------------------------------------------------------------


def rule_sql(spec: RuleSpec) -> str:
    """A rule's hits in Spark SQL: the DuckDB SELECT of engine/sql.py in its flat form (no subquery reads a
    relation two levels up, which Spark cannot resolve), transpiled."""
    return transpile(compile_rule(spec, flat=True), "spark")


BATCH = 8  # rules to a Spark job: each job costs its planning and scheduling, whatever it reads


def run_rules(
    spark: Any, con: Any, specs: Sequence[RuleSpec], region: str = "", each: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Run the rules on Spark, a few to a job (their hits one UNION ALL); the hits land in DuckDB's table
    ``hits`` (as engine/duck.py's run_rules leaves it), so they are written, counted and shown as the embedded
    engine's are.  A job that fails is run again rule by rule, so the error names the rule."""
    duck.create_hits(con)
    with tempfile.TemporaryDirectory(prefix="twoku-hits-") as scratch:
        for n in range(0, len(specs), BATCH):
            batch = specs[n : n + BATCH]
            file = Path(scratch) / f"{n}.jsonl"
            sql = " UNION ALL ".join(f"SELECT * FROM ({rule_sql(spec)})" for spec in batch)
            try:
                if _stream(spark, sql, HIT_COLUMNS, file, "运行规则"):
                    _insert(con, file, region)
            except TwokuError:
                for k, spec in enumerate(batch):  # rule by rule: the one that fails says which it is
                    alone = Path(scratch) / f"{n}-{k}.jsonl"
                    if _collect(spark, spec, alone):
                        _insert(con, alone, region)
            if each is not None:
                each(min(n + BATCH, len(specs)))
    return duck.hit_counts(con, (spec.rule_id for spec in specs))


def _collect(spark: Any, spec: RuleSpec, file: Path) -> int:
    """The rule's hits, streamed from the executors into ``file`` (one JSON object a line); how many."""
    return _stream(spark, rule_sql(spec), HIT_COLUMNS, file, f"运行 {spec.rule_id}")


def _stream(spark: Any, sql: str, columns: Sequence[str], file: Path, doing: str) -> int:
    """The rows of ``sql``, streamed from the executors into ``file`` (one JSON object a line); how many."""
    n = 0
    try:
        rows = spark.sql(sql).toLocalIterator()
        with file.open("w", encoding="utf-8") as out:
            for row in rows:
                row = dict(zip(columns, row, strict=True))
                out.write(json.dumps(row, ensure_ascii=False, default=float) + "\n")  # default: a DECIMAL
                n += 1
    except Exception as exc:
        raise TwokuError(
            f"在 Spark 上{doing}失败：{_first_line(exc)}",
            hint="检查结算明细的列类型（日期为 DATE 或 YYYY-MM-DD，数量和金额为数字），见 schema/claim.schema.json",
        ) from None
    return n


def _insert(con: Any, file: Path, region: str, table: str = "hits", types: Mapping[str, str] | None = None) -> None:
    """The rows of ``file`` (JSON lines) into DuckDB's ``table``, each tagged with the region."""
    types = types or dict.fromkeys(HIT_COLUMNS, "VARCHAR")
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"
    source = f"read_json({literal(str(file))}, format = 'newline_delimited', columns = {columns})"
    named = ", ".join(f'"{c}"' for c in types)
    con.execute(f"INSERT INTO {table} SELECT {named}, {literal(region)} FROM {source}")


# --- indicators -----------------------------------------------------------------------------------


def indicator_sql(spec: IndicatorSpec) -> str:
    """An indicator's institution-periods in Spark SQL: engine/indicator.py's SELECT, flat, transpiled."""
    return transpile(compile_indicator(spec, flat=True), "spark")


def run_indicators(
    spark: Any, con: Any, specs: Sequence[IndicatorSpec], region: str = ""
) -> dict[str, tuple[int, int]]:
    """Compute each indicator on Spark; its rows land in DuckDB's table ``indicators`` (as engine/indicator.py's
    run_indicators leaves it), so they are written and reported as the embedded engine's are."""
    create_table(con)
    with tempfile.TemporaryDirectory(prefix="twoku-indicators-") as scratch:
        for n, spec in enumerate(specs):
            file = Path(scratch) / f"{n}.jsonl"
            if _stream(spark, indicator_sql(spec), INDICATOR_COLUMNS, file, f"计算指标 {spec.rule_id}"):
                _insert(con, file, region, "indicators", INDICATOR_TYPES)
    return counts_of(con, specs)
