"""Synthetic settlement-list lines for `twoku run`: no real patient ever appears.

    python benchmarks/generate_claims.py --lines 1000000 claims.parquet [--truth truth.csv] [--seed 7]

Two kinds of line:

* background: ordinary outpatient lines (one visit, common drugs and services, short
  supplies) that no shipped rule should flag;
* scenarios: the shipped national rules' own examples (``examples`` in each rule file),
  copied with fresh patient, visit and line IDs. Each example brings the rule's true hits
  and its near misses (the lines that must not hit), so every rule with examples fires
  on real-looking data and is tested against its edge cases at scale.

About 2% of the lines are scenarios. ``--truth`` writes the (rule_id, line_id) pairs that
must hit (a rule's declared hits in its own examples, and the lines of other rules'
examples that it flags as well); it is what ``twoku evaluate`` can be checked against, and what a synthetic
``--feedback FILE`` is made from (the handling of each hit, in Chinese; ``--misfiring CN-R-0017 …``: those
rules' hits mostly 不予认定, so evaluate lists them as mostly misfiring).
Written with DuckDB in a few seconds per million lines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twoku.engine import duck
from twoku.engine.sql import literal, sql_type
from twoku.model import claim
from twoku.ops.validate import load_store

REPO = Path(__file__).resolve().parents[1]
SCENARIO_SHARE = 0.02
# Codes no shipped rule targets on its own (a statin, metformin, an outpatient consultation, a stent).
BACKGROUND_ITEMS = (
    ("XC10AAA001A000000000000", "西药", 7),
    ("XA10BAA001A000000000000", "西药", 14),
    ("001102000030000", "医疗服务项目", None),
    ("C0000000000000000002", "医用耗材", None),
)


def examples(root: Path) -> list[tuple[str, int, dict[str, Any], bool]]:
    """(rule, example number, line, must hit) of every national rule's examples."""
    out = []
    for rule in load_store(root, use_cache=False).library.of_kind("rule"):
        if rule.layer is None or rule.layer.code != "CN" or not rule.active:
            continue
        for n, example in enumerate(rule.data.get("examples") or []):
            if example.get("tables"):  # judged against its own rows, which run never reads: no truth at scale
                continue
            hits = set(example.get("hits") or [])
            for line in example.get("lines") or []:
                out.append((rule.id, n, dict(line), line.get("line_id") in hits))
    return out


def cross_hits(root: Path, templates: list[tuple[str, int, dict[str, Any], bool]]) -> list[tuple[str, int, str, str]]:
    """(rule, example number, line, hitting rule): an example's lines that other rules hit as well.

    Two rules may flag the same line (a children's drug for an adult is both 限儿童 and
    儿童用药); each example is self-contained (its own patients), so what another rule finds
    in it is found at scale too.  A rule's own hits are those its example declares.  Every example is
    loaded once, with its own IDs as at scale, and every rule runs once over them all.
    """
    from twoku.ops.library import region_layer
    from twoku.ops.run import load_tables, rule_spec, select_rules

    lib = load_store(root, use_cache=False).library
    layer = region_layer("CN", lib)
    specs = [rule_spec(root, lib, r, layer) for r in select_rules(lib, layer)]
    lines, origin = [], {}
    for rule_id, n, line, _ in templates:
        tag = f"{rule_id}-{n}-"
        line_id = tag + str(line["line_id"])
        origin[line_id] = (rule_id, n, str(line["line_id"]))
        visit = line.get("visit_id")
        ids = {"line_id": line_id, "patient_id": tag + str(line.get("patient_id") or "P")}
        lines.append({**line, **ids, "visit_id": None if visit is None else tag + str(visit)})
    con = duck.connect(1)
    load_tables(con, root, lib, specs)
    duck.load_lines(con, lines)
    duck.run_rules(con, specs)
    out = []
    for rule_id, line_id in con.execute("SELECT rule_id, line_id FROM hits ORDER BY 1, 2").fetchall():
        owner, n, own_line = origin[line_id]
        if rule_id != owner:
            out.append((owner, n, own_line, rule_id))
    return out


def _background_sql(n: int, seed: int) -> str:
    def pick(values: list[str], salt: int) -> str:
        options = ", ".join(literal(v) for v in values)
        return f"list_extract([{options}], 1 + CAST(hash(i, {seed + salt}) % {len(values)} AS INTEGER))"

    item = f"CAST(hash(i, {seed}) % {len(BACKGROUND_ITEMS)} AS INTEGER)"
    codes = ", ".join(literal(c) for c, _, _ in BACKGROUND_ITEMS)
    cats = ", ".join(literal(c) for _, c, _ in BACKGROUND_ITEMS)
    days = ", ".join(str(d) if d else "NULL" for _, _, d in BACKGROUND_ITEMS)
    return f"""
        SELECT
          'B' || i AS line_id, 'S' || (i // 3) AS settlement_id, 'BV' || (i // 3) AS visit_id,
          'BP' || (i // 3) AS patient_id,
          {pick(["男", "女"], 1)} AS sex,
          CAST(hash(i // 3, {seed + 2}) % 90 AS INTEGER) AS age,
          '普通门诊' AS visit_type,
          {pick(["H99999900001", "H99999900002"], 3)} AS institution_code,
          {pick(["二级", "三级"], 4)} AS institution_level,
          {pick(["内科", "外科", "儿科", "妇科"], 5)} AS department,
          list_extract([{codes}], 1 + {item}) AS item_code,
          list_extract([{cats}], 1 + {item}) AS item_category,
          DATE '2025-01-01' + CAST(hash(i // 3, {seed + 6}) % 365 AS INTEGER) AS service_date,
          1.0 AS quantity,
          CAST(hash(i, {seed + 7}) % 20000 AS DOUBLE) / 100 AS amount,
          CAST(hash(i, {seed + 7}) % 20000 AS DOUBLE) / 140 AS fund_amount,
          list_extract([{days}], 1 + {item}) AS supply_days,
          FALSE AS long_term_prescription
        FROM range({n}) AS r(i)
    """


def generate(
    out: Path,
    lines: int,
    seed: int = 7,
    truth: Path | None = None,
    feedback: Path | None = None,
    misfiring: tuple[str, ...] = (),
) -> int:
    con = duck.connect()
    templates = examples(REPO)
    if not templates:
        raise SystemExit("the shipped library has no rule examples")
    copies = max(1, round(lines * SCENARIO_SHARE / len(templates)))
    scenario_lines = min(lines, copies * len(templates))
    # the templates as a typed table, then copied `copies` times with fresh IDs
    rows = []
    for rule_id, n, line, hit in templates:
        rows.append({**line, "_rule": rule_id, "_example": n, "_hit": hit})
    cols = [f.name for f in claim.CLAIM_FIELDS]
    con.execute(
        "CREATE TABLE template ("
        + ", ".join(f"{c} {sql_type(c)}" for c in cols)
        + ", _rule VARCHAR, _example INTEGER, _hit BOOLEAN)"
    )
    con.executemany(
        f"INSERT INTO template VALUES ({', '.join('?' for _ in range(len(cols) + 3))})",
        [[_plain(r.get(c)) for c in cols] + [r["_rule"], r["_example"], r["_hit"]] for r in rows],
    )
    tag = "'X' || k || '-' || _rule || '-' || _example || '-'"
    renamed = {
        "line_id": f"{tag} || line_id",
        "patient_id": f"{tag} || COALESCE(patient_id, 'P')",
        "visit_id": f"CASE WHEN visit_id IS NULL THEN NULL ELSE {tag} || visit_id END",
    }
    select = ", ".join(f"{renamed[c]} AS {c}" if c in renamed else c for c in cols)
    con.execute(
        f"CREATE TABLE scenarios AS SELECT {select}, _rule, _example, line_id AS _line, _hit "
        f"FROM template, range({copies}) AS r(k) LIMIT {scenario_lines}"
    )
    con.execute("CREATE TABLE cross_hits (_rule VARCHAR, _example INTEGER, _line VARCHAR, rule_id VARCHAR)")
    if extra := cross_hits(REPO, templates):
        con.executemany("INSERT INTO cross_hits VALUES (?, ?, ?, ?)", extra)
    con.execute(
        "CREATE TABLE truth AS SELECT _rule AS rule_id, line_id FROM scenarios WHERE _hit "
        "UNION SELECT x.rule_id, s.line_id FROM scenarios AS s JOIN cross_hits AS x USING (_rule, _example, _line)"
    )
    background = max(0, lines - scenario_lines)
    bg_cols = ", ".join(c if c in _BACKGROUND_COLUMNS else f"CAST(NULL AS {sql_type(c)}) AS {c}" for c in cols)
    con.execute(
        f"CREATE TABLE claims AS SELECT * FROM (SELECT {bg_cols} FROM ({_background_sql(background, seed)}) "
        f"UNION ALL SELECT {', '.join(cols)} FROM scenarios) ORDER BY service_date, line_id"
    )
    fmt = "FORMAT parquet" if out.suffix.lower() == ".parquet" else "FORMAT csv, HEADER true"
    con.execute(f"COPY claims TO {literal(str(out))} ({fmt})")
    if truth is not None:
        con.execute(
            f"COPY (SELECT rule_id, line_id FROM truth ORDER BY 1, 2) "
            f"TO {literal(str(truth))} (FORMAT csv, HEADER true)"
        )
    if feedback is not None:
        write_feedback(con, feedback, misfiring)
    return int(con.execute("SELECT COUNT(*) FROM claims").fetchone()[0])


def write_feedback(con: Any, feedback: Path, misfiring: tuple[str, ...] = ()) -> None:
    """A plausible handling record of each hit (第二十条), its values in Chinese as a bureau writes them:
    most hits 确认违规 after 处理, some still 处理中 at 初审, some 不予认定 at 复审 (an appeal upheld now and
    then); the hits of the ``misfiring`` rules are mostly 不予认定, so ``twoku evaluate`` shows them."""
    wrong = ", ".join(literal(r) for r in misfiring) or "NULL"
    con.execute(
        f"""COPY (SELECT rule_id, line_id,
              CASE WHEN k = 0 THEN '处理中' WHEN rejected THEN '不予认定' ELSE '确认违规' END AS outcome,
              CASE WHEN k = 0 THEN '初审' WHEN rejected THEN '复审' ELSE '处理' END AS stage,
              k = 1 OR (rejected AND k = 2) AS appealed,
              rejected AND k = 2 AS appeal_upheld
            FROM (SELECT rule_id, line_id, hash(line_id) % 20 AS k,
                    CASE WHEN rule_id IN ({wrong}) THEN hash(line_id) % 5 <> 4 ELSE hash(line_id) % 20 = 3 END
                      AS rejected
                  FROM truth)
            ORDER BY 1, 2) TO {literal(str(feedback))} (FORMAT csv, HEADER true)"""
    )


_BACKGROUND_COLUMNS = {
    "line_id",
    "settlement_id",
    "visit_id",
    "patient_id",
    "sex",
    "age",
    "visit_type",
    "institution_code",
    "institution_level",
    "department",
    "item_code",
    "item_category",
    "service_date",
    "quantity",
    "amount",
    "fund_amount",
    "supply_days",
    "long_term_prescription",
}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def main() -> None:
    parser = argparse.ArgumentParser(description="合成结算明细（不含任何真实患者数据）")
    parser.add_argument("out", type=Path, help="输出文件：.csv 或 .parquet")
    parser.add_argument("--lines", type=int, required=True, help="明细条数")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--truth", type=Path, help="写出应命中的 (rule_id, line_id)")
    parser.add_argument("--feedback", type=Path, help="写出合成的处理结果，供 twoku evaluate 演示")
    parser.add_argument(
        "--misfiring", nargs="+", default=[], metavar="规则编号", help="这些规则的命中在处理结果中多数为 不予认定"
    )
    args = parser.parse_args()
    if args.out.suffix.lower() not in (".csv", ".parquet"):
        parser.error("OUT 应为 .csv 或 .parquet")
    n = generate(args.out, args.lines, args.seed, args.truth, args.feedback, tuple(args.misfiring))
    print(f"{args.out}: {n} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
