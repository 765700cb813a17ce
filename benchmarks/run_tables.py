"""Time the knowledge tables of issue 17 on the benchmark store, side by side in one run.

    python benchmarks/run_tables.py --store DIR          # a store made by benchmarks/generate.py (46 tables)
    python benchmarks/run_tables.py --small              # 500 rules, 5,000 knowledge items, 100,000 rows
    python benchmarks/run_tables.py --lines 10000000 --reference-lines 1000000

Four figures, each with its target:

* cold validate's table checks (read, parse, typed and pattern checks, keys, order, digest) in rows per
  second, timed in process over every table of the store; and the whole ``twoku validate --no-cache``;
* warm validate with nothing changed, and after one table is edited (and resealed): unchanged tables must
  not slow it;
* the whole ``twoku diff --format json`` between two commits of a store whose 1,000,000-row table had 1% of
  its rows changed (each version sealed), checked exact against the changes made; and, informative, the same
  versions not as sealed (parse both, then diff, in process);
* ``twoku run``'s engine with the rules joining all 46 tables (one per table: a ``match`` on the item code
  with the row's sex and age limits, or a code set), over ``--lines`` synthetic lines on one thread,
  against the same rules compiled with every code pasted as a literal ``IN`` list (the reference, run on
  ``--reference-lines`` lines and reported per line).  Both must find the same hits.

Peak memory (resident, the process tree) is watched for each.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import timed, twoku_exe  # noqa: E402

TARGET_ROWS = 1_000_000  # rows per second, cold validate's table checks
TARGET_DIFF = 1.0  # seconds, a 1,000,000-row table with 1% changed
TARGET_RUN = 1_000_000  # lines per second per core
TARGET_RATIO = 50  # × the literal IN form
TARGET_MIB = 1024
MEMORY = "700MB"  # twoku run --memory in the benchmark: the engine's part of the process's 1 GiB


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def store_tables(root: Path) -> list[tuple[str, Any, dict[str, str | None]]]:
    """(item path, spec, patterns of its systems) of every knowledge item with a typed table."""
    from twoku.model import tables
    from twoku.store.documents import yamlio

    items = {}
    for path in sorted(root.glob("national/knowledge/*/*.yaml")):
        if b"table:" in (raw := path.read_bytes()) or b"pattern:" in raw:
            data, _ = yamlio.load_json(raw)
            items[str(path.relative_to(root))] = data
    by_id = {d["id"]: d for d in items.values()}
    out = []
    for path, data in items.items():
        spec = tables.spec_of(data)
        if spec is None or spec.legacy:
            continue
        systems = {c.system for c in spec.columns if c.system}
        out.append((path, spec, {s: by_id.get(s, {}).get("pattern") for s in systems}))
    return out


def check_rate(root: Path) -> tuple[int, float, dict[str, float]]:
    """Rows, seconds and seconds per step of what validate does with each table (store/files.read_table,
    model/tables: parse, problems, rows_digest)."""
    import gc

    from twoku.model import tables

    gc.disable()  # as validate reads the store (ops/reading.no_gc)
    steps = dict.fromkeys(("read", "parse", "problems", "digest"), 0.0)
    rows = 0
    for path, spec, patterns in store_tables(root):
        where = tables.table_path(path, spec)
        t0 = time.perf_counter()
        raw = (root / where).read_bytes()
        t1 = time.perf_counter()
        table = tables.parse(raw, spec, where)
        t2 = time.perf_counter()
        found = list(tables.problems(table, patterns))
        t3 = time.perf_counter()
        digest = tables.rows_digest(table)
        t4 = time.perf_counter()
        if found or table.problems or digest != spec.digest:
            raise SystemExit(f"{where}: {[*table.problems, *found][:3]} digest {digest} ≠ {spec.digest}")
        for step, (a, b) in zip(steps, ((t0, t1), (t1, t2), (t2, t3), (t3, t4)), strict=True):
            steps[step] += b - a
        rows += table.row_count  # (as validate counts them: check_tables)
    gc.enable()
    return rows, sum(steps.values()), steps


Expected = tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, ...]]]


def two_versions(n_rows: int, share: float = 0.01, system: str = "CN-K-9998") -> tuple[bytes, bytes, Expected]:
    """A table of ``n_rows`` (drug codes of ``system``) before and after ``share`` of its rows changed: a third
    added, a third removed, a third with a cell changed; and the keys (added, removed, changed) expected."""
    from generate_tables import COLUMNS, TablePlan, rows_of

    plan = TablePlan("CN-K-9999", system, True, max(1, n_rows // 4), n_rows)
    rows = rows_of(plan, 0, random.Random(5))
    names = [c.split("name: ")[1].split(",")[0] for c in COLUMNS]
    old_text = ",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    rng = random.Random(9)
    picked = rng.sample(range(len(rows)), int(len(rows) * share))
    third = len(picked) // 3
    removed = set(picked[:third])
    changed = set(picked[third : 2 * third])
    new_rows = []
    for n, row in enumerate(rows):
        if n in removed:
            continue
        if n in changed:
            row = [*row[:6], str(int(row[6]) + 1), row[7]]  # max_days
        new_rows.append(row)
    added = [
        [r[0], r[1][:-1] + ("9" if r[1][-1] != "9" else "8"), *r[2:]] for r in (rows[n] for n in picked[2 * third :])
    ]
    new_rows = sorted({tuple(r[:2]): r for r in [*new_rows, *added]}.values(), key=lambda r: (int(r[0]), r[1]))
    before = {tuple(r[:2]): tuple(r) for r in rows}
    after = {tuple(r[:2]): tuple(r) for r in new_rows}
    expect = (
        sorted(after.keys() - before.keys()),
        sorted(before.keys() - after.keys()),
        sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
    )
    new_text = ",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in new_rows)
    return old_text.encode(), new_text.encode(), expect


def diff_figure(n_rows: int, share: float = 0.01) -> tuple[float, float, int]:
    """(seconds of parse both + diff, seconds of diff alone, changes found) for a table of ``n_rows`` with
    ``share`` of its rows changed (:func:`two_versions`), in process."""
    from generate_tables import COLUMNS, _typed

    from twoku.model import tables

    names = [c.split("name: ")[1].split(",")[0] for c in COLUMNS]
    spec = _typed(tables.TableSpec("t.csv", tuple(tables.Column(n) for n in names), ("point", "code")))
    old_raw, new_raw, expect = two_versions(n_rows, share)
    started = time.perf_counter()
    old = tables.parse(old_raw, spec, "t.csv")
    new = tables.parse(new_raw, spec, "t.csv")
    assert old.rows and new.rows  # made now (parse keeps a sealed file's bytes, and makes its rows when asked)
    parsed = time.perf_counter()
    result = tables.diff(old, new)
    done = time.perf_counter()
    assert result is not None
    got = (
        sorted(tuple(r[:2]) for r in result.added),
        sorted(tuple(r[:2]) for r in result.removed),
        sorted(c.key for c in result.changed),
    )
    if got != expect:
        raise SystemExit(f"diff not exact: {[len(g) for g in got]} rows ≠ {[len(e) for e in expect]} expected")
    return done - started, done - parsed, sum(len(g) for g in got)


def diff_command(n_rows: int, exe: list[str], env: dict[str, str], tmp: Path) -> tuple[float, int, int]:
    """(best seconds of three, peak resident bytes, rows reported) of the whole ``twoku diff --format json``
    between two commits of a store whose one table of ``n_rows`` had 1% of its rows changed (each version
    sealed by ``twoku table seal``), checked exact against the changes made."""
    import json

    from generate_tables import PATTERNS, TablePlan, coding_item, table_item

    root = tmp / "diff-store"
    subprocess.run([*exe, "init", str(root), "--region", "CN"], env=env, check=True, capture_output=True)
    old_raw, new_raw, expect = two_versions(n_rows, system="CN-K-0001")
    path, text = coding_item("CN-K-0001", PATTERNS[0][0], PATTERNS[0][1])
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text, encoding="utf-8")
    plan = TablePlan("CN-K-0002", "CN-K-0001", True, max(1, n_rows // 4), n_rows)
    path, text = table_item(plan, 0, "CN-K-0002.csv", 0, "")
    item = root / path
    item.parent.mkdir(parents=True, exist_ok=True)
    item.write_text(text, encoding="utf-8")
    for raw, message in ((old_raw, "表格"), (new_raw, "改动 1% 的行")):
        (item.parent / "CN-K-0002.csv").write_bytes(raw)
        subprocess.run([*exe, "table", "seal", "CN-K-0002"], cwd=root, env=env, check=True, capture_output=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    args = [*exe, "diff", "--since", "HEAD~1", "--until", "HEAD", "--format", "json"]
    shown = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=True)
    found = json.loads(shown.stdout)
    rows = [item["rows"] for item in found["items"] if item.get("rows")]
    counts = [sum(len(r.get(k) or []) for r in rows) for k in ("added", "removed", "changed")]
    if counts != [len(e) for e in expect]:
        raise SystemExit(f"twoku diff not exact: {counts} rows ≠ {[len(e) for e in expect]} expected")
    _, peak, _ = timed(args, root, env, memory=True)
    best = min(timed(args, root, env)[0] for _ in range(3))
    return best, peak, sum(counts)


# --- twoku run: the joins against the literal IN lists ---------------------------------------


def table_rules(root: Path) -> tuple[Any, list[Any]]:
    """The library and the specs of the rules joining the tables (the generated draft rules)."""
    from twoku.ops.library import region_layer
    from twoku.ops.run import rule_spec
    from twoku.ops.validate import load_store

    lib = load_store(root).library
    layer = region_layer(None, lib)
    rules = [r for r in lib.of_kind("rule") if any(k in str(r.data.get("condition")) for k in ("'table'", "'codes'"))]
    return lib, [rule_spec(root, lib, rule, layer) for rule in rules]


def make_claims(con: Any, path: Path, lines: int, codes: list[str]) -> None:
    """``lines`` synthetic lines, Parquet: half of them name a code of the tables, the rest other codes."""
    con.execute(
        "CREATE OR REPLACE TABLE pool AS SELECT i - 1 AS n, code FROM (SELECT UNNEST(?) AS code, "
        "UNNEST(RANGE(1, ?)) AS i)",
        [codes, len(codes) + 1],
    )
    size = len(codes)
    con.execute(
        f"""COPY (
        SELECT 'L' || i AS line_id, 'P' || (i % 400000) AS patient_id, 'V' || (i // 4) AS visit_id,
               CASE WHEN i % 2 = 0 THEN p.code ELSE lpad(CAST(i AS VARCHAR), 15, '9') END AS item_code,
               CASE WHEN hash(i) % 2 = 0 THEN '男' ELSE '女' END AS sex,
               CAST(hash(i * 7) % 90 AS BIGINT) AS age,
               DATE '2026-01-01' + CAST(i % 300 AS INTEGER) AS service_date
        FROM range({lines}) r(i) LEFT JOIN pool p ON p.n = hash(i) % {size}
        ) TO '{path}' (FORMAT parquet)"""
    )
    con.execute("DROP TABLE pool")


def literal_specs(root: Path, lib: Any, specs: list[Any]) -> list[Any]:
    """The same rules with each table pasted into the condition: a code set as the IN list of its codes, a
    match as, for each distinct combination of the row values its where reads, the IN list of the codes of
    those rows and the where with the values in place of {row: …}."""
    from dataclasses import replace

    from twoku.model.condition import AllOf, AnyOf, CodeSet, Comparison, Match, Not, RowRef, row_refs
    from twoku.ops.run import table_of

    def row_values(comp: Any, row: dict[str, str], types: dict[str, str]) -> Any:
        if isinstance(comp.value, RowRef):
            cell = row[comp.value.column]
            value: Any = None if cell == "" else int(cell) if types[comp.value.column] == "integer" else cell
            return replace(comp, value=value)
        return comp

    def paste(cond: Any, row: dict[str, str] | None = None, types: dict[str, str] | None = None) -> Any:
        if isinstance(cond, AllOf | AnyOf):
            return type(cond)(tuple(paste(p, row, types) for p in cond.parts))
        if isinstance(cond, Not):
            return Not(paste(cond.part, row, types))
        if isinstance(cond, Comparison):
            if isinstance(cond.value, CodeSet):
                table = table_of(root, lib, cond.value.knowledge)
                at = next(i for i, c in enumerate(table.spec.columns) if c.type == "code")
                return replace(cond, value=tuple(sorted({r[at] for r in table.rows})))
            return row_values(cond, row, types) if row is not None and types is not None else cond
        if isinstance(cond, Match):
            table = table_of(root, lib, cond.table)
            names = table.spec.names
            types = {c.name: c.type for c in table.spec.columns}
            (on,) = cond.on
            groups: dict[tuple[str, ...], list[str]] = {}
            read = list(dict.fromkeys(r.column for r, _ in row_refs(cond.where))) if cond.where is not None else []
            for r in table.rows:
                cells = dict(zip(names, r, strict=True))
                groups.setdefault(tuple(cells[c] for c in read), []).append(cells[on.column])
            parts = []
            for values, codes in groups.items():
                cells = dict(zip(read, values, strict=True))
                test = Comparison(_field(on.field), "in", tuple(sorted(set(codes))), None, ())
                inner = paste(cond.where, cells, types) if cond.where is not None else None
                parts.append(AllOf((test, inner)) if inner is not None else test)
            return AnyOf(tuple(parts))
        return cond

    return [replace(s, condition=paste(s.condition), tables={}) for s in specs]


def _field(name: str) -> Any:
    from twoku.model.condition import Measure

    return Measure("field", field=name)


def run_figures(root: Path, lines: int, reference_lines: int, tmp: Path) -> dict[str, Any]:
    from twoku.engine import duck
    from twoku.ops.run import load_tables, table_of

    lib, specs = table_rules(root)
    codes = sorted({r[1] for s in specs for k in s.tables for r in table_of(root, lib, k).rows})
    con = duck.connect(1)
    out: dict[str, Any] = {"rules": len(specs), "tables": len({k for s in specs for k in s.tables})}
    claims = tmp / "claims.parquet"
    make_claims(con, claims, lines, codes)
    started, cpu = time.perf_counter(), time.process_time()
    con = duck.connect(1)
    n = duck.load_claims(con, claims, {"item_code", "sex", "age"})
    load_tables(con, root, lib, specs)
    duck.run_rules(con, specs)
    out["join"] = (n, time.perf_counter() - started, time.process_time() - cpu)
    join_hits = con.execute("SELECT rule_id, COUNT(*) FROM hits GROUP BY ALL ORDER BY ALL").fetchall()
    out["join_hits"] = sum(h for _, h in join_hits)
    con.close()
    con = duck.connect(1)
    # the command itself, as a bureau runs it: its whole time and the peak memory of its process
    hits = tmp / "hits.parquet"
    ids = sorted(s.rule_id for s in specs)
    args = [*twoku_exe(), "run", "--claims", str(claims), "--rules", *ids, "--threads", "1", "--out", str(hits)]
    args += ["--memory", MEMORY]  # DuckDB's share of the 1 GiB; beyond it DuckDB spills to a scratch folder
    env = {**os.environ, "TWOKU_CACHE_DIR": str(tmp / "cache"), "NO_COLOR": "1"}
    timed([*twoku_exe(), "validate"], root, env, expect=None)  # the cache warm, as after a validate
    whole, peak, _ = timed(args, root, env, memory=True)
    out["command"] = (whole, peak)
    pasted = literal_specs(root, lib, specs)
    small = tmp / "reference.parquet"
    make_claims(con, small, reference_lines, codes)
    started = time.perf_counter()
    con = duck.connect(1)
    m = duck.load_claims(con, small, {"item_code", "sex", "age"})
    duck.run_rules(con, pasted)
    out["literal"] = (m, time.perf_counter() - started)
    literal_hits = dict(con.execute("SELECT rule_id, COUNT(*) FROM hits GROUP BY ALL").fetchall())
    con = duck.connect(1)
    duck.load_claims(con, small, {"item_code", "sex", "age"})
    load_tables(con, root, lib, specs)
    duck.run_rules(con, specs)
    same = dict(con.execute("SELECT rule_id, COUNT(*) FROM hits GROUP BY ALL").fetchall())
    if same != literal_hits:
        raise SystemExit(f"joins and literal IN lists disagree: {same} ≠ {literal_hits}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="use (or create) the store in this folder")
    parser.add_argument("--small", action="store_true", help="500 rules, 5,000 knowledge items, 100,000 rows")
    parser.add_argument("--diff-rows", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000, help="lines of the joined run")
    parser.add_argument("--reference-lines", type=int, default=200_000, help="lines of the literal IN run")
    parser.add_argument("--skip", default="", help="comma-separated: validate, diff, run")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    scratch = Path(tempfile.mkdtemp(prefix="twoku-tables-"))
    root = args.store or scratch / "store"
    if not (root / "twoku.yaml").is_file():
        from generate import generate

        sizes = (500, 5000, 100_000) if args.small else (5000, 50000, 1_000_000)
        print(f"generating {sizes[0]} rules, {sizes[1]} knowledge items, {sizes[2]} table rows …", file=sys.stderr)
        generate(root, *sizes[:2], table_rows=sizes[2])
    env = {**os.environ, "TWOKU_CACHE_DIR": str(scratch / "cache"), "NO_COLOR": "1", "COLUMNS": "120"}
    exe = twoku_exe()
    report: list[str] = []

    def line(label: str, value: str, target: str, met: bool | None) -> None:
        verdict = "" if met is None else "yes" if met else "NO"
        report.append(f"| {label:<58} | {value:>22} | {target:>12} | {verdict:^4} |")

    if "validate" not in skip:
        rows, seconds, steps = check_rate(root)
        per = ", ".join(f"{k} {v:.2f} s" for k, v in steps.items())
        line(
            f"table checks, in process ({rows:,} rows; {per})",
            f"{rows / seconds / 1e6:.2f} M rows/s",
            "≥ 1 M/s",
            rows / seconds >= TARGET_ROWS,
        )
        cold, peak, _ = timed([*exe, "validate", "--no-cache"], root, env, memory=True)
        cold = min(cold, timed([*exe, "validate", "--no-cache"], root, env)[0])
        line("twoku validate --no-cache (whole store, with the tables)", f"{cold:.2f} s", "", None)
        line("  peak memory (process tree)", f"{peak / 2**20:.0f} MiB", "≤ 1024 MiB", peak / 2**20 <= TARGET_MIB)
        timed([*exe, "validate"], root, env)
        warm = min(timed([*exe, "validate"], root, env)[0] for _ in range(3))
        line("twoku validate, warm, nothing changed", f"{warm:.3f} s", "≤ 0.3 s", warm <= 0.3)
        item, spec, _ = store_tables(root)[0]
        from twoku.model import tables as model_tables

        csv = root / model_tables.table_path(item, spec)
        original = csv.read_bytes()
        try:
            lines = original.split(b"\n")
            lines[5] = lines[5].replace(b",20", b",19", 1)  # one row's date
            csv.write_bytes(b"\n".join(lines))
            subprocess.run(
                [*exe, "table", "seal", Path(item).stem], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL
            )
            edited = timed([*exe, "validate"], root, env)[0]
        finally:
            subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)
        line("twoku validate after one table changed (and sealed)", f"{edited:.3f} s", "", None)
    if "diff" not in skip:
        whole, peak, shown = diff_command(args.diff_rows, exe, env, scratch)
        line(
            f"twoku diff --format json, a {args.diff_rows:,}-row table, 1% changed ({shown:,} rows shown)",
            f"{whole:.2f} s",
            "≤ 1 s",
            whole <= TARGET_DIFF,
        )
        line("  its peak memory (process tree)", f"{peak / 2**20:.0f} MiB", "≤ 1024 MiB", peak / 2**20 <= TARGET_MIB)
        # a table not as sealed (quotes, CR, out of key order: validate's findings) is parsed whole, both versions
        before = _peak_mib()
        total, alone, found = diff_figure(args.diff_rows)
        line(
            f"  a version not as sealed: both parsed, in process ({found:,} rows)",
            f"{alone:.2f} s (+parse {total - alone:.2f} s)",
            "",
            None,
        )
        line("    peak memory (this process)", f"{max(before, _peak_mib()):.0f} MiB", "", None)
    if "run" not in skip:
        figures = run_figures(root, args.lines, args.reference_lines, scratch)
        n, seconds, _cpu = figures["join"]
        m, literal = figures["literal"]
        rate, reference = n / seconds, m / literal
        line(
            f"run: {figures['rules']} rules joining {figures['tables']} tables, {n:,} lines, 1 thread",
            f"{rate / 1e6:.2f} M lines/s",
            "≥ 1 M/s/core",
            rate >= TARGET_RUN,
        )
        line(f"  the literal IN form ({m:,} lines)", f"{reference / 1e6:.3f} M lines/s", "", None)
        line("  joins ÷ literal IN, per line", f"{rate / reference:.0f}×", "≥ 50×", rate / reference >= TARGET_RATIO)
        whole, peak = figures["command"]
        line(f"  the whole twoku run command, {n:,} lines, 1 thread, --memory {MEMORY}", f"{whole:.1f} s", "", None)
        line("  its peak memory (process tree)", f"{peak / 2**20:.0f} MiB", "≤ 1024 MiB", peak / 2**20 <= TARGET_MIB)
    print(f"| {'figure':<58} | {'measured':>22} | {'target':>12} | {'met':^4} |")
    print(f"|{'-' * 60}|{'-' * 24}|{'-' * 14}|{'-' * 6}|")
    print("\n".join(report))
    shutil.rmtree(scratch / "cache", ignore_errors=True)
    if args.store is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
