"""The embedded engine: DuckDB in process, claims from CSV or Parquet, hits to a table.

``claims`` has every field of the claim model, typed (columns the file lacks are NULL,
columns the model does not know are ignored): a view over a Parquet file, so each rule
reads only its own columns, or a table parsed once from a CSV file.  Each rule's compiled
SELECT runs over it and the hits land in the table ``hits``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.engine import claimfile
from twoku.engine.sql import HIT_COLUMNS, Anchor, RuleSpec, anchor, columns_used, compile_rule, literal, sql_type
from twoku.errors import TwokuError, UsageError
from twoku.model import claim

CLAIM_SUFFIXES = (".csv", ".parquet")
HIT_SUFFIXES = (".parquet", ".csv", ".json")


def connect(threads: int | None = None, memory: str | None = None, spill: Path | None = None) -> Any:
    """An in-memory DuckDB: ``threads`` (default all cores); at most ``memory`` (e.g. ``2GB``; default DuckDB's,
    80% of RAM), beyond which it writes what it holds to ``spill`` (a scratch folder, never the store)."""
    import duckdb

    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if spill is not None:
        con.execute(f"SET temp_directory = {literal(str(spill))}")
    if memory:
        try:
            con.execute(f"SET memory_limit = {literal(memory)}")
        except duckdb.Error:
            raise UsageError(f"--memory {memory}：应为内存大小，如 800MB、4GB", hint="单位用 KB、MB、GB") from None
    return con


def table_source(path: Path) -> str:
    suffix = path.suffix.lower()
    name = literal(str(path))
    if suffix == ".csv":
        return f"read_csv({name}, header = true, all_varchar = true)"
    if suffix == ".parquet":
        return f"read_parquet({name})"
    if suffix == ".json":
        return f"read_json_auto({name})"
    raise UsageError(f"不能读取 {path.name}：应为 .csv 或 .parquet", hint="导出为 CSV（含表头）或 Parquet")


@dataclass(frozen=True)
class ClaimsRead:
    """What reading a claim file found: its lines, the encoding it was read in, the columns ignored."""

    lines: int
    encoding: str
    ignored: tuple[str, ...] = ()


def load_claims(con: Any, path: Path, columns: Iterable[str] | None = None, encoding: str = "auto") -> int:
    """Make ``claims`` the claim file as typed columns of the claim model; the number of lines."""
    return read_claims(con, path, columns, encoding).lines


def read_claims(con: Any, path: Path, columns: Iterable[str] | None = None, encoding: str = "auto") -> ClaimsRead:
    """Make ``claims`` the claim file as typed columns of the claim model (engine/claimfile.py reads it).

    A Parquet file stays where it is: ``claims`` is a view, so each rule reads only the
    columns it uses and skips the row groups its filters rule out.  A CSV file is parsed
    once into a table of the ``columns`` the rules use (all fields when not given).
    """
    if not path.is_file():
        raise UsageError(f"找不到结算明细文件 {path}")
    if path.suffix.lower() not in CLAIM_SUFFIXES:
        raise UsageError(f"不能读取 {path.name}：应为 .csv 或 .parquet", hint="导出为 CSV（含表头）或 Parquet")
    with tempfile.TemporaryDirectory(prefix="twoku-claims-") as scratch:
        readable = claimfile.literal_path(path, Path(scratch))
        used = "utf-8"
        if path.suffix.lower() == ".csv":
            used = claimfile.detect_encoding(path, encoding)
            if used != "utf-8":
                readable = claimfile.transcode(path, used, Path(scratch))
        # A Parquet file read under another name (a glob-safe link) is loaded whole: the link goes with scratch.
        view = path.suffix.lower() == ".parquet" and readable == path
        ignored = _load(con, path, table_source(readable), columns, view)
    return ClaimsRead(int(con.execute("SELECT COUNT(*) FROM claims").fetchone()[0]), used, ignored)


def _load(con: Any, path: Path, source: str, columns: Iterable[str] | None, view: bool) -> tuple[str, ...]:
    import duckdb

    try:
        present = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall()
        )
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from None
    found = claimfile.match_columns(list(present), path)
    wanted = set(columns) | set(claim.REQUIRED) | {"visit_id"} if columns is not None else None
    fields = [f.name for f in claim.CLAIM_FIELDS if view or wanted is None or f.name in wanted]

    def column(name: str) -> str:
        if name not in found.fields:
            return f"CAST(NULL AS {sql_type(name)}) AS {name}"
        return f"{_typed(found.fields[name], present[found.fields[name]], name)} AS {name}"

    cols = ", ".join(column(name) for name in fields)
    try:
        if view:
            _refuse_bad_values(con, path, source, found.fields, present, fields)
            con.execute(f"CREATE OR REPLACE VIEW claims AS SELECT {cols} FROM {source}")
        else:
            con.execute(f"CREATE OR REPLACE TABLE claims AS SELECT {cols} FROM {source}")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):  # a value that cannot be cast is named; else DuckDB's reason
            _refuse_bad_values(con, path, source, found.fields, present, fields)
        raise _unreadable(path, exc) from None
    return found.unknown


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(column: str, present: str, name: str, cast: str = "CAST") -> str:
    """The file's ``column`` as the claim field ``name``'s SQL type (是/否 read as a boolean)."""
    kind = sql_type(name)
    ref = _quoted(column)
    if present == kind:
        return ref
    if kind == "BOOLEAN" and present == "VARCHAR":
        return f"CASE TRIM({ref}) WHEN '是' THEN TRUE WHEN '否' THEN FALSE ELSE {cast}(TRIM({ref}) AS BOOLEAN) END"
    return f"{cast}({ref} AS {kind})"


_KINDS = {"DATE": "日期（YYYY-MM-DD）", "BIGINT": "整数", "DOUBLE": "数字", "BOOLEAN": "是/否（或 true/false）"}


def _refuse_bad_values(
    con: Any, path: Path, source: str, found: dict[str, str], present: dict[str, str], fields: list[str]
) -> None:
    """Name the first value that is not of its column's type: the column, the line, the value."""
    csv_file = path.suffix.lower() == ".csv"
    for name in fields:
        column = found.get(name)
        if column is None or present[column] == sql_type(name):
            continue
        row = con.execute(
            f"SELECT n, v FROM (SELECT row_number() OVER () AS n, {_quoted(column)} AS v, "
            f"{_typed(column, present[column], name, 'TRY_CAST')} AS t FROM {source}) "
            "WHERE v IS NOT NULL AND t IS NULL ORDER BY n LIMIT 1"
        ).fetchone()
        if row is None:
            continue
        line = int(row[0]) + 1 if csv_file else int(row[0])
        where = f"第 {line} 行" if csv_file else f"第 {line} 条记录"
        raise TwokuError(
            f"{path.name} {where}的「{column}」列取值 {str(row[1])!r} 不是{_KINDS[sql_type(name)]}",
            hint=f"{name}（{claim.FIELDS[name].title}）应为{_KINDS[sql_type(name)]}；格式见 schema/claim.schema.json",
            path=str(path),
            line=line if csv_file else None,
        )


def _unreadable(path: Path, exc: Exception) -> TwokuError:
    said = str(exc)
    if "unicode" in said.lower() or "utf-8" in said.lower():
        return TwokuError(
            f"{path.name} 中有不是 UTF-8 编码的内容",
            hint="文件可能由 Excel 以 GBK 保存：加 --encoding gb18030，或另存为「CSV UTF-8（逗号分隔）」",
            path=str(path),
        )
    kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV（首行为表头、逗号分隔）"
    detail = said.strip().splitlines()[0] if said.strip() else type(exc).__name__
    return TwokuError(
        f"{path.name} 无法作为 {kind} 读取",
        hint=f"检查文件是否完整、格式是否正确（DuckDB 的原始说明：{detail}）",
        path=str(path),
    )


_TABLE_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE"}  # the others are text (VARCHAR)


def load_table(con: Any, relation: str, path: Path, columns: Sequence[tuple[str, str]]) -> None:
    """A knowledge table's CSV (checked by validate) as the typed table ``relation``; an empty cell is NULL."""
    import duckdb

    types = "{" + ", ".join(f"{literal(n)}: {literal(_TABLE_TYPES.get(t, 'VARCHAR'))}" for n, t in columns) + "}"
    source = f"read_csv({literal(str(path))}, header = true, columns = {types}, auto_detect = false, quote = '\"')"
    try:
        con.execute(f"CREATE OR REPLACE TABLE {relation} AS SELECT * FROM {source}")
    except duckdb.Error as exc:
        raise TwokuError(f"读取表格 {path.name} 失败：{exc}", hint="先运行 twoku validate 并改正表格") from None


def load_rows(con: Any, relation: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]) -> None:
    """The typed table ``relation`` holding exactly ``rows`` (cells as text, cast to the column's type, empty as
    NULL): a rule example's own rows of a knowledge table."""
    import duckdb

    types = ", ".join(f'"{n}" {_TABLE_TYPES.get(t, "VARCHAR")}' for n, t in columns)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {relation} ({types})")
        if rows:
            cells = ", ".join(f"CAST(NULLIF(?, '') AS {_TABLE_TYPES.get(t, 'VARCHAR')})" for _, t in columns)
            con.executemany(f"INSERT INTO {relation} VALUES ({cells})", [list(row) for row in rows])
    except duckdb.Error as exc:
        raise TwokuError(f"示例行读入失败：{exc}", hint="运行 twoku validate 查看 TK411") from None


def change_rows(
    con: Any,
    relation: str,
    columns: Sequence[tuple[str, str]],
    key: Sequence[str],
    removed: Sequence[Sequence[str]],
    added: Sequence[Sequence[str]],
) -> None:
    """A loaded table as a region has it: rows removed by key, rows added (one with a removed or an upper
    row's key takes its place); cells as text, cast to the column's type, empty as NULL."""
    names = [n for n, _ in columns]
    on = " AND ".join(f"{k} IS NOT DISTINCT FROM CAST(NULLIF(?, '') AS {_type(columns, k)})" for k in key)
    for values in [*removed, *([row[names.index(k)] for k in key] for row in added)]:
        con.execute(f"DELETE FROM {relation} WHERE {on}", list(values))
    if added:
        cells = ", ".join(f"CAST(NULLIF(?, '') AS {_TABLE_TYPES.get(t, 'VARCHAR')})" for _, t in columns)
        con.executemany(f"INSERT INTO {relation} VALUES ({cells})", [list(row) for row in added])


def _type(columns: Sequence[tuple[str, str]], name: str) -> str:
    return next(_TABLE_TYPES.get(t, "VARCHAR") for n, t in columns if n == name)


def load_lines(con: Any, lines: Sequence[Mapping[str, Any]]) -> None:
    """A small ``claims`` table from claim lines given as mappings (a rule's examples)."""
    fields = claim.CLAIM_FIELDS
    con.execute("CREATE OR REPLACE TABLE claims (" + ", ".join(f"{f.name} {sql_type(f.name)}" for f in fields) + ")")
    if lines:
        marks = ", ".join("?" for _ in fields)
        rows = [[_value(line.get(f.name)) for f in fields] for line in lines]
        con.executemany(f"INSERT INTO claims VALUES ({marks})", rows)


def _value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


OUT_COLUMNS = (*HIT_COLUMNS, "region")


def create_hits(con: Any) -> None:
    """The empty table ``hits`` (HIT_COLUMNS and the region), where either engine's hits land."""
    con.execute(f"CREATE OR REPLACE TABLE hits ({', '.join(f'{c} VARCHAR' for c in OUT_COLUMNS)})")


def hit_counts(con: Any, rule_ids: Iterable[str]) -> dict[str, int]:
    """Hits per rule in the table ``hits`` (0 for a rule with none)."""
    counts = dict.fromkeys(rule_ids, 0)
    for rule_id, n in con.execute("SELECT rule_id, COUNT(*) FROM hits GROUP BY rule_id").fetchall():
        counts[rule_id] = int(n)
    return counts


def run_rules(
    con: Any, specs: Iterable[RuleSpec], region: str = "", each: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Run each rule over ``claims`` into the table ``hits`` (tagged with the region); hits per rule
    (``each`` is told how many rules have run, after each one)."""
    create_hits(con)
    import duckdb

    specs = list(specs)
    sources = slices(con, specs)
    for done, spec in enumerate(specs):
        try:
            sql = compile_rule(spec, sources.get(spec.rule_id, "claims"))
            con.execute(f"INSERT INTO hits SELECT *, {literal(region)} FROM ({sql})")
        except duckdb.Error as exc:
            raise TwokuError(
                f"运行 {spec.rule_id} 失败：{exc}",
                hint="检查结算明细的取值格式（日期 YYYY-MM-DD，数量和金额为数字），见 schema/claim.schema.json",
            ) from None
        if each is not None:
            each(done + 1)
    return hit_counts(con, (spec.rule_id for spec in specs))


MIN_ANCHORED = 2  # one anchored rule reads the claims once anyway


def slices(con: Any, specs: Sequence[RuleSpec]) -> dict[str, str]:
    """Where each anchored rule reads its lines: the claims are read once, joined to the codes of every anchor
    (:func:`twoku.engine.sql.anchor`) and kept sorted by anchor, so that a rule scans only the lines whose
    code its table holds, not every line once per rule. Rule ID → the relation to read (the others read
    ``claims``). The hits are the same: an anchor is a part of the condition every hit satisfies, and the
    rule's whole condition is still applied to its slice."""
    if len(specs) < MIN_ANCHORED:
        return {}  # a rule's examples, one rule at a time: nothing to share
    found: dict[str, Anchor] = {}
    for spec in specs:
        a = anchor(spec)
        if a is not None and _text_column(con, a.relation, a.column):
            found[spec.rule_id] = a
    by_field: dict[str, dict[Anchor, int]] = {}
    for a in found.values():
        numbers = by_field.setdefault(a.field, {})
        numbers.setdefault(a, len(numbers) + 1)
    out: dict[str, str] = {}
    present = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE claims)").fetchall()}
    wanted = [c for c in claim.FIELDS if c in present and c in columns_used(specs)]
    for n, (name, numbers) in enumerate(sorted(by_field.items()), 1):
        if sum(1 for a in found.values() if a.field == name) < MIN_ANCHORED:
            continue
        codes = " UNION ALL ".join(f"SELECT code, {k} AS anchor FROM ({a.codes_sql()})" for a, k in numbers.items())
        lines, keep = f"twoku_lines_{n}", ", ".join(f"c.{c}" for c in wanted)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE twoku_anchors_{n} AS SELECT DISTINCT * FROM ({codes}) WHERE code IS NOT NULL"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {lines} AS SELECT a.anchor AS twoku_anchor, {keep} FROM claims AS c "
            f"JOIN twoku_anchors_{n} AS a ON a.code = c.{name}"
        )
        con.execute(f"DROP TABLE twoku_anchors_{n}")
        for rule_id, a in found.items():
            if a.field == name:
                out[rule_id] = f"(SELECT * EXCLUDE (twoku_anchor) FROM {lines} WHERE twoku_anchor = {numbers[a]})"
    return out


def _text_column(con: Any, relation: str, column: str) -> bool:
    rows = con.execute(f"SELECT column_type FROM (DESCRIBE {relation}) WHERE column_name = ?", [column]).fetchall()
    return bool(rows) and rows[0][0] == "VARCHAR"


def hit_lines(con: Any, rule_id: str) -> list[str]:
    rows = con.execute("SELECT line_id FROM hits WHERE rule_id = ? ORDER BY line_id", [rule_id]).fetchall()
    return [str(r[0]) for r in rows]


def hit_rows(con: Any, limit: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM hits ORDER BY rule_id, line_id" + (f" LIMIT {int(limit)}" if limit else "")
    return [dict(zip(OUT_COLUMNS, row, strict=True)) for row in con.execute(sql).fetchall()]


# What a spreadsheet opening a CSV reads as the start of a formula (OWASP's CSV injection: = + - @, tab, CR, and
# the full-width forms an input method may turn into them).  Line, patient and visit IDs come from the claims,
# which the institutions send: in a CSV of hits such a cell gets OWASP's leading apostrophe.
_FORMULA_START = r"[=+@\t\r＝＋－＠-]"


def csv_cell(column: str) -> str:
    """SQL for ``column`` as a CSV cell a spreadsheet shows as text: a leading apostrophe before a formula's start."""
    return f"CASE WHEN regexp_matches({column}, '^{_FORMULA_START}') THEN '''' || {column} ELSE {column} END"


def csv_value(column: str) -> str:
    """SQL for the value of a cell csv_cell wrote (or a spreadsheet kept): without that apostrophe."""
    return f"CASE WHEN regexp_matches({column}, '^''{_FORMULA_START}') THEN substr({column}, 2) ELSE {column} END"


def write_hits(con: Any, path: Path) -> None:
    """The table ``hits`` to ``path`` (.parquet, .csv or .json, by its suffix; the file is written whole)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(hit_rows(con), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    columns = "*"
    if suffix != ".parquet":
        columns = ", ".join(f"{csv_cell(c)} AS {c}" for c in OUT_COLUMNS)
    options = "FORMAT parquet" if suffix == ".parquet" else "FORMAT csv, HEADER true"
    con.execute(f"COPY (SELECT {columns} FROM hits ORDER BY rule_id, line_id) TO {literal(str(path))} ({options})")


def example_hits(con: Any, spec: RuleSpec, lines: Sequence[Mapping[str, Any]]) -> list[str]:
    """The line IDs among ``lines`` on which the rule hits."""
    import duckdb

    try:
        load_lines(con, lines)
        run_rules(con, [spec])
    except duckdb.Error as exc:
        raise TwokuError(f"运行失败：{exc}") from None
    return hit_lines(con, spec.rule_id)
