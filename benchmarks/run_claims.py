"""Time ``twoku run`` on synthetic claims against a straightforward pandas implementation of the same rules.

    python benchmarks/run_claims.py                        # 10,000,000 lines, every national rule with a condition
    python benchmarks/run_claims.py --lines 1000000        # quicker
    python benchmarks/run_claims.py --claims claims.parquet --threads 1
    python benchmarks/run_claims.py --no-pandas            # the embedded engine alone

The claims come from ``benchmarks/generate_claims.py`` (Parquet; made once in a temporary
folder unless ``--claims`` names a file).  ``twoku run`` is timed as the command runs it
(read the file, run every rule, count the hits; not the store load) with DuckDB on
one thread, then on ``--threads`` threads (default: every core).  Its rate per core is
lines ÷ wall seconds ÷ threads, so a run on two cores must do twice the work of a run on
one to score the same; the CPU seconds are printed too, since a busy machine stretches
the wall time of a run that wants every core.

The pandas reference evaluates each rule's parsed ``condition`` directly — a boolean
Series per comparison, ``groupby().transform`` for counts and sums, ``shift`` within
sorted groups for "days since previous" and "previous admission" — on one core (pandas
does not parallelise these).  Its load (the used columns into a DataFrame) and its rule
time are printed apart.  Both must find the same hits, rule by rule; the benchmark says so
or fails.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

TARGET_PER_CORE = 1_000_000  # lines per second per core (issue 12)


def specs_of(root: Path) -> list[Any]:
    from twoku.ops.library import region_layer
    from twoku.ops.run import rule_spec, select_rules
    from twoku.ops.validate import load_store

    lib = load_store(root).library
    layer = region_layer(None, lib)
    return [rule_spec(root, lib, rule, layer) for rule in select_rules(lib, layer)]


def time_twoku(claims: Path, threads: int) -> tuple[float, float, int, dict[str, set[str]]]:
    """Wall and CPU seconds, lines and hits per rule of ``twoku run`` (file read + every rule) on ``threads``."""
    from twoku.engine import duck
    from twoku.engine.sql import columns_used
    from twoku.ops.run import load_tables
    from twoku.ops.validate import load_store

    specs = specs_of(REPO)
    lib = load_store(REPO).library
    started, cpu = time.perf_counter(), time.process_time()
    con = duck.connect(threads)
    lines = duck.load_claims(con, claims, columns_used(specs))
    load_tables(con, REPO, lib, specs)
    duck.run_rules(con, specs)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    hits: dict[str, set[str]] = {s.rule_id: set() for s in specs}
    for rule_id, line_id in con.execute("SELECT rule_id, line_id FROM hits").fetchall():
        hits[rule_id].add(line_id)
    return seconds, cpu, lines, hits


# --- the pandas reference ----------------------------------------------------------------


def _resolved(value: Any, params: Any) -> Any:
    """A value with its parameter or code set replaced by what it stands for (the reference reads the table)."""
    from twoku.model.condition import CodeSet, Param

    if isinstance(value, Param):
        got = params.get(value.name)
        return tuple(got) if isinstance(got, list) else got
    if isinstance(value, CodeSet):
        return _codes(value)
    return value


@functools.cache
def _codes(code_set: Any) -> tuple[str, ...]:
    from twoku.ops.run import table_of
    from twoku.ops.validate import load_store

    table = table_of(REPO, load_store(REPO).library, code_set.knowledge)
    names = table.spec.names
    at = next((i for i, c in enumerate(table.spec.columns) if c.type == "code"), 0)
    name_at = names.index("name") if "name" in names else None
    wanted = set(code_set.names)
    return tuple(r[at] for r in table.rows if not wanted or (name_at is not None and r[name_at] in wanted))


class PandasRules:
    """Each rule's condition evaluated with pandas on a DataFrame of claim lines."""

    def __init__(self, df: Any) -> None:
        self.df = df

    def hits(self, spec: Any) -> set[str]:
        mask = self.cond(spec.condition, spec)
        dates = self.df["service_date"]
        if spec.effective:
            mask &= dates >= _date(spec.effective)
        if spec.expires:
            mask &= dates <= _date(spec.expires)
        return set(self.df.loc[mask.to_numpy(), "line_id"])

    def cond(self, cond: Any, spec: Any) -> Any:
        from twoku.model.condition import AllOf, AnyOf, Not

        if isinstance(cond, AllOf):
            out = self.cond(cond.parts[0], spec)
            for part in cond.parts[1:]:
                out = out & self.cond(part, spec)
            return out
        if isinstance(cond, AnyOf):
            out = self.cond(cond.parts[0], spec)
            for part in cond.parts[1:]:
                out = out | self.cond(part, spec)
            return out
        if isinstance(cond, Not):
            return ~self.cond(cond.part, spec)
        return self.compare(cond, spec)

    def compare(self, comp: Any, spec: Any) -> Any:
        import pandas as pd

        from twoku.model.condition import FieldRef

        lhs = self.measure(comp.measure, spec)
        if comp.chars is not None:
            lhs = lhs.astype("string").str[: comp.chars]
        if comp.op == "is_null":
            return lhs.isna()
        if comp.op == "not_null":
            return lhs.notna()
        value = _resolved(comp.value, spec.params)
        if comp.op in ("matches", "not_matches"):
            from twoku.model.condition import PatternOf

            pattern = spec.patterns[value.knowledge] if isinstance(value, PatternOf) else str(value)
            with warnings.catch_warnings():  # "has match groups": only whether it matches is wanted
                warnings.simplefilter("ignore", UserWarning)
                found = lhs.astype("string").str.contains(pattern, regex=True)
            out = found if comp.op == "matches" else ~found
            return out.fillna(False).astype(bool)
        if isinstance(value, FieldRef):
            rhs: Any = self.df[value.name]
            if value.chars is not None:
                rhs = rhs.astype("string").str[: value.chars]
        elif comp.measure.kind in ("field", "previous_admission") and _is_date(comp.measure.field, comp.chars):
            rhs = [_date(v) for v in value] if isinstance(value, tuple) else _date(value)
        else:
            rhs = value
        if comp.op == "in":
            out = lhs.isin(list(rhs))
        elif comp.op == "not_in":
            out = ~lhs.isin(list(rhs)) & lhs.notna()
        elif comp.op == "starts_with":
            text = lhs.astype("string")
            out = pd.Series(False, index=lhs.index)
            for prefix in rhs:
                out |= text.str.startswith(str(prefix)).fillna(False).astype(bool)
        else:
            import operator

            ops = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le}
            ops |= {"gt": operator.gt, "ge": operator.ge}
            if not isinstance(lhs, pd.Series):  # a parameter: a constant
                return pd.Series(bool(lhs is not None and ops[comp.op](lhs, rhs)), index=self.df.index)
            out = ops[comp.op](lhs, rhs) & lhs.notna()
            if isinstance(rhs, pd.Series):
                out &= rhs.notna()
        return out.fillna(False).astype(bool)

    def measure(self, m: Any, spec: Any) -> Any:
        import pandas as pd

        df = self.df
        if m.kind == "field":
            return df[m.field]
        if m.kind == "param":
            return spec.params.get(m.param)
        per = list(m.per)
        flag = self.cond(m.where, spec) if m.where is not None else pd.Series(True, index=df.index)
        if m.kind == "count":
            return flag.astype("int64").groupby([df[k] for k in per], dropna=False).transform("sum")
        if m.kind == "sum":
            grouped = df[m.field].where(flag).groupby([df[k] for k in per], dropna=False)
            return grouped.transform("sum").where(grouped.transform("count") > 0)  # NULL when nothing to sum
        if m.kind == "days_since_first":
            first = df["service_date"].where(flag).groupby([df[k] for k in per], dropna=False).transform("min")
            return (df["service_date"] - first).dt.days.where(flag)
        if m.kind == "admissions_spanning":
            return self.spanning(m, spec)
        if m.kind == "days_since_previous":
            order = df.assign(_flag=flag).sort_values(["service_date", "line_id"])
            prev = order.groupby([*per, "_flag"], dropna=False)["service_date"].shift()
            gap = (order["service_date"] - prev).dt.days.where(order["_flag"])
            return gap.reindex(df.index)
        return self.admission(m, spec)

    def admission(self, m: Any, spec: Any) -> Any:
        from twoku.model import claim

        df = self.df
        per = list(m.per)
        keys = [*per, "visit_id"] if "visit_id" not in per else per
        adm = df[df["admission_date"].notna() & df["visit_id"].notna()]
        adm = adm.groupby(keys, dropna=False).agg(
            admission_date=("admission_date", "min"),
            discharge_date=("discharge_date", "max"),
            main_diagnosis=("main_diagnosis", "min"),
            discharge_mode=("discharge_mode", "min"),
        )
        adm = adm.reset_index().sort_values([*per, "admission_date", "visit_id"])
        grouped = adm.groupby(per, dropna=False)
        adm["gap"] = (adm["admission_date"] - grouped["discharge_date"].shift()).dt.days
        for f in claim.ADMISSION_FIELDS:
            adm[f"prev_{f}"] = grouped[f].shift()
        column = "gap" if m.kind == "admission_gap" else f"prev_{m.field}"
        joined = df[keys].merge(adm[[*keys, column]], on=keys, how="left")
        return joined[column].set_axis(df.index)

    def spanning(self, m: Any, spec: Any) -> Any:
        """How many admissions of the line's group (another visit) its service_date falls in."""
        from twoku.model.condition import Param

        df = self.df
        per = list(m.per)
        strict = bool(spec.params.get(m.strict.name)) if isinstance(m.strict, Param) else m.strict
        adm = df[df["admission_date"].notna() & df["discharge_date"].notna() & df["visit_id"].notna()]
        adm = (
            adm.groupby([*per, "visit_id"])
            .agg(adm_from=("admission_date", "min"), adm_to=("discharge_date", "max"))
            .reset_index()
        )
        lines = df[[*per, "visit_id", "service_date"]].reset_index(names="_row").dropna(subset=per)
        pairs = lines.merge(adm, on=per, suffixes=("", "_adm"))
        inside = (pairs["adm_from"] < pairs["service_date"]) & (pairs["service_date"] < pairs["adm_to"])
        if not strict:
            inside = (pairs["adm_from"] <= pairs["service_date"]) & (pairs["service_date"] <= pairs["adm_to"])
        other = pairs["visit_id"].isna() | (pairs["visit_id"] != pairs["visit_id_adm"])
        counts = pairs[inside & other].groupby("_row").size()
        return counts.reindex(df.index, fill_value=0)


def _date(value: Any) -> Any:
    import pandas as pd

    return pd.Timestamp(value)


def _is_date(field: str | None, chars: int | None) -> bool:
    from twoku.model import claim

    return field in claim.DATE_FIELDS and chars is None


def time_pandas(claims: Path) -> tuple[float, float, dict[str, set[str]]]:
    """Seconds to load the used columns into pandas, seconds to run every rule, and the hits per rule."""
    import duckdb
    import pandas as pd

    from twoku.engine.sql import columns_used
    from twoku.model import claim

    specs = specs_of(REPO)
    used = [f.name for f in claim.CLAIM_FIELDS if f.name in columns_used(specs)]
    started = time.perf_counter()
    present = {r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{claims}')").fetchall()}
    df = duckdb.sql(f"SELECT {', '.join(c for c in used if c in present)} FROM read_parquet('{claims}')").df()
    for c in used:
        if c not in present:
            df[c] = None
    for c in claim.DATE_FIELDS & set(used):
        df[c] = pd.to_datetime(df[c])
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    engine = PandasRules(df)
    hits = {spec.rule_id: engine.hits(spec) for spec in specs}
    return loaded, time.perf_counter() - started, hits


def main() -> None:
    parser = argparse.ArgumentParser(description="twoku run 与 pandas 实现的速度对比（合成结算明细）")
    parser.add_argument("--lines", type=int, default=10_000_000, help="合成明细条数（缺省一千万）")
    parser.add_argument("--claims", type=Path, help="已有的 .parquet 明细（否则临时生成）")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="另测的 DuckDB 线程数（缺省为全部核）")
    parser.add_argument("--no-pandas", action="store_true", help="不运行 pandas 对照")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twoku-claims-") as tmp:
        claims = args.claims
        if claims is None:
            from generate_claims import generate

            claims = Path(tmp) / "claims.parquet"
            started = time.perf_counter()
            generate(claims, args.lines)
            print(f"generated {args.lines:,} lines in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        hits: dict[str, set[str]] = {}
        for threads in dict.fromkeys((1, args.threads)) if args.threads > 1 else (1,):
            load = os.getloadavg()[0]
            seconds, cpu, lines, hits = time_twoku(claims, threads)
            rate = lines / seconds
            per_core = rate / threads
            total = sum(len(h) for h in hits.values())
            if threads == 1:
                print(f"rules: {len(hits)} ({', '.join(sorted(hits))})")
            verdict = "met" if per_core >= TARGET_PER_CORE else "MISSED"
            print(
                f"twoku run (DuckDB, {threads} threads): {lines:,} lines in {seconds:.2f} s = "
                f"{rate / 1e6:.2f} M lines/s = {per_core / 1e6:.2f} M lines/s per core; {total:,} hits "
                f"[target ≥ {TARGET_PER_CORE / 1e6:.0f} M/s per core: {verdict}]"
            )
            print(
                f"  CPU time {cpu:.2f} s = {lines / cpu / 1e6:.2f} M lines per CPU-second; load average {load:.1f} "
                f"on {os.cpu_count()} cores before the run (other work on the machine slows the wall time)"
            )
        if args.no_pandas:
            return
        loaded, ran, expected = time_pandas(claims)
        print(
            f"pandas (1 thread): load {loaded:.2f} s + rules {ran:.2f} s = {loaded + ran:.2f} s = "
            f"{lines / (loaded + ran) / 1e6:.2f} M lines/s ({lines / ran / 1e6:.2f} M lines/s on rules alone)"
        )
        print(f"twoku run is {(loaded + ran) / seconds:.1f}× the pandas reference in wall time")
        differ = [r for r in hits if hits[r] != expected.get(r)]
        for rule_id in differ:
            print(f"  {rule_id}: twoku {len(hits[rule_id])} hits, pandas {len(expected.get(rule_id, ()))}")
        if differ:
            raise SystemExit("twoku and pandas disagree on the hits of " + ", ".join(differ))
        print("both found the same hits for every rule")


if __name__ == "__main__":
    main()
