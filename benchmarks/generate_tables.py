"""Knowledge tables for the synthetic store: 46 sealed tables of knowledge points and the rules joining them.

    python benchmarks/generate.py --table-rows 1000000 DIR   # as part of the store (the default)

Issue 17's benchmark store holds 46 tables with 250,000 knowledge points and 1,000,000 code rows in
all: long format (key ``[point, code]``: a point names several codes, a code may serve several points),
typed columns (integer, enum, date, text) and a code column whose system is one of two coding items
(drug codes, service item codes: their ``pattern`` applies to every code).  Each table is sealed as
``twoku table seal`` seals it (rows and digest in the item), so ``twoku validate`` on the store is green.

One draft rule per table joins it: the even ones ``match`` a line's item code to the table's rows and
compare the line's sex and age with the row's limits, the odd ones test the item code against the
table's code set ``{codes: …}`` and the line's age.  ``benchmarks/run_tables.py`` runs them, and the
same rules with the codes pasted as literal ``IN`` lists (the reference).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from twoku.model import tables

TABLES, ROWS, POINTS = 46, 1_000_000, 250_000
CODE_ITEMS = 2  # the coding items whose patterns the tables' code columns name
PATTERNS = (("药品", r"^X[A-Z]\d{2}[A-Z]{3}\d{3}[A-Z]\d{12}$"), ("医疗服务项目", r"^\d{15}$"))
FOLDER = "national/knowledge/medical"
CODES_FOLDER = "national/knowledge/codes"
COLUMNS = (
    "- {name: point, title: 知识点编号, type: integer}",
    "- {name: code, title: 项目代码, type: code, system: SYSTEM}",
    "- {name: name, title: 项目名称, type: text}",
    "- {name: sex, title: 限定性别, type: enum, values: [男, 女]}",
    "- {name: min_age, title: 最小年龄, type: integer}",
    "- {name: max_age, title: 最大年龄, type: integer}",
    "- {name: max_days, title: 支付天数, type: integer}",
    "- {name: since, title: 起始日期, type: date}",
)
NAMES = ("阿帕他胺片", "注射用头孢曲松钠", "人血白蛋白", "CT平扫", "血液透析", "针刺", "心电监护")


@dataclass(frozen=True)
class TablePlan:
    item: str  # the knowledge item holding the table
    system: str  # the coding item of its codes
    drug: bool  # drug codes (else service item codes)
    points: int
    rows: int


def code(drug: bool, n: int) -> str:
    """The n-th code of a system: distinct for distinct n, and matching the system's pattern."""
    if drug:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return f"X{letters[n % 24]}{n % 97:02d}ABC{n % 1000:03d}A{n:012d}"
    return f"{n:015d}"


def plans(knowledge_ids: list[str], n_tables: int, rows: int, points: int) -> tuple[list[str], list[TablePlan]]:
    """The coding items and the tables, placed on the last national knowledge IDs (which they replace)."""
    ids = knowledge_ids[-(n_tables + CODE_ITEMS) :]
    systems, holders = ids[:CODE_ITEMS], ids[CODE_ITEMS:]
    out = []
    for t, item in enumerate(holders):
        share = rows // n_tables + (1 if t < rows % n_tables else 0)
        pts = max(1, min(share, points // n_tables + (1 if t < points % n_tables else 0)))
        out.append(TablePlan(item, systems[t % CODE_ITEMS], t % CODE_ITEMS == 0, pts, share))
    return systems, out


def rows_of(plan: TablePlan, t: int, rng: random.Random) -> list[list[str]]:
    """The table's rows in key order: each point with its codes (a pool of codes shared among points)."""
    pool = max(1, plan.rows // 3)  # each code serves some three points
    base = t * 1_000_000 + 1
    out: list[list[str]] = []
    per, extra = divmod(plan.rows, plan.points)
    for point in range(1, plan.points + 1):
        k = per + (1 if point <= extra else 0)
        picks = sorted({code(plan.drug, base + rng.randrange(pool)) for _ in range(k)})
        while len(picks) < k:  # a repeated draw: the next unused codes of the pool
            more = code(plan.drug, base + rng.randrange(pool))
            if more not in picks:
                picks = sorted({*picks, more})
        limited = point % 4
        sex = ("", "男", "女", "")[limited]
        low, high = ("", "") if limited != 3 else (str(point % 18), str(60 + point % 30))
        for c in picks:
            name = NAMES[point % len(NAMES)]
            out.append([str(point), c, name, sex, low, high, str(7 + point % 60), f"20{18 + point % 8}-01-01"])
    return out


def coding_item(item_id: str, label: str, pattern: str) -> tuple[str, str]:
    path = f"{CODES_FOLDER}/{item_id}.yaml"
    text = (
        f"id: {item_id}\ncategory: 医保信息业务编码\ntitle: 医保{label}分类与代码（模拟）\n"
        f"issuer: 国家医疗保障局\neffective: 2020-01-01\nstatus: 生效\npattern: '{pattern}'\n"
    )
    return path, text


def table_item(plan: TablePlan, t: int, csv_name: str, rows: int, digest: str) -> tuple[str, str]:
    path = f"{FOLDER}/{plan.item}.yaml"
    what = "药品" if plan.drug else "医疗服务项目"
    lines = [
        f"id: {plan.item}",
        "category: 医药学知识",
        f"title: 限定条件的{what}知识点明细（第{t + 1}表，模拟）",
        "issuer: 国家医疗保障局",
        "effective: 2026-01-01",
        "status: 生效",
        "table:",
        f"  file: {csv_name}",
        "  key: [point, code]",
        "  columns:",
        *(f"    {c.replace('SYSTEM', plan.system)}" for c in COLUMNS),
        "  lower: {add: true, remove: true}",
        f"  rows: {rows}",
        f"  digest: {digest}",
    ]
    return path, "\n".join(lines) + "\n"


def rule_item(rule_id: str, plan: TablePlan, t: int) -> tuple[str, str]:
    """A draft rule joining the table: a match with the row's limits (even), or a code set (odd)."""
    category = "drug-policy" if plan.drug else "service-policy"
    label = "药品政策限定类" if plan.drug else "医疗服务项目政策限定类"
    if t % 2 == 0:
        condition = [
            "condition:",
            "  match:",
            f"    table: {plan.item}",
            "    on: {item_code: code}",
            "    where:",
            "      any:",
            "        - {field: sex, op: ne, value: {row: sex}}",
            "        - {field: age, op: lt, value: {row: min_age}}",
            "        - {field: age, op: gt, value: {row: max_age}}",
        ]
    else:
        condition = [
            "condition:",
            "  all:",
            f"    - {{field: item_code, op: in, value: {{codes: {plan.item}}}}}",
            f"    - {{field: age, op: lt, value: {6 + t % 12}}}",
        ]
    lines = [
        f"id: {rule_id}",
        f"name: 超限定条件使用知识点明细第{t + 1}表所列项目（模拟）",
        f"category: {label}",
        "definition: |",
        f"  参保人的性别、年龄不符合 {plan.item} 所列知识点限定条件的明细。",
        "logic: |",
        f"  按项目代码匹配 {plan.item} 的明细行，比较性别、年龄与该行的限定。",
        "uses: [支付审核]",
        "stages: [事后]",
        "level: 可疑",
        "violations:",
        "  - 超限定性别、年龄使用",
        "basis:",
        f"  - id: {plan.item}",
        "    article: 第1条",
        *condition,
        "status: 草稿",
    ]
    return f"national/rules/{category}/{rule_id}.yaml", "\n".join(lines) + "\n"


def add_tables(
    root: Path,
    knowledge_ids: list[str],
    first_rule: int,
    n_tables: int = TABLES,
    rows: int = ROWS,
    points: int = POINTS,
    seed: int = 17,
) -> dict[str, int]:
    """Replace the last national knowledge items by the coding items and the sealed tables, and add one rule
    per table from ``CN-R-<first_rule>``.  Returns the counts written."""
    rng = random.Random(seed)
    systems, table_plans = plans(knowledge_ids, n_tables, rows, points)
    for item_id in [*systems, *(p.item for p in table_plans)]:
        for old in root.glob(f"national/knowledge/*/{item_id}.yaml"):
            old.unlink()
    for item_id, (label, pattern) in zip(systems, PATTERNS, strict=True):
        _write(root, *coding_item(item_id, label, pattern))
    total = 0
    for t, plan in enumerate(table_plans):
        body = rows_of(plan, t, rng)
        csv_name = f"{plan.item}.csv"
        header = ",".join(c.split("name: ")[1].split(",")[0] for c in COLUMNS)
        text = header + "\n" + "".join(",".join(r) + "\n" for r in body)
        _write(root, f"{FOLDER}/{csv_name}", text)
        spec = tables.TableSpec(csv_name, tuple(tables.Column(n) for n in header.split(",")), ("point", "code"))
        # The digest does not depend on the columns' types but the key's order: point is an integer key.
        spec = _typed(spec)
        digest = tables.rows_digest(tables.parse(text.encode("utf-8"), spec, f"{FOLDER}/{csv_name}"))
        _write(root, *table_item(plan, t, csv_name, len(body), digest))
        _write(root, *rule_item(f"CN-R-{first_rule + t:04d}", plan, t))
        total += len(body)
    return {"tables": len(table_plans), "table_rows": total, "points": sum(p.points for p in table_plans)}


def _typed(spec: tables.TableSpec) -> tables.TableSpec:
    from dataclasses import replace

    types = {"point": "integer", "min_age": "integer", "max_age": "integer", "max_days": "integer", "since": "date"}
    return replace(spec, columns=tuple(replace(c, type=types.get(c.name, "text")) for c in spec.columns))


def _write(root: Path, path: str, text: str) -> None:
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text, encoding="utf-8")
