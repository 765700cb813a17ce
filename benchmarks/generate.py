"""Generate a synthetic national-scale store for the benchmarks.

    python benchmarks/generate.py --rules 5000 --knowledge 50000 /tmp/twoku-bench

N rules and M knowledge items across the three layers (national, provinces, cities),
with realistic Chinese text, nested parameters, overrides within bounds (correct
``base_digest``) and the argumentation records that 生效 rules need, so that
``twoku validate`` on it is green.  The store is committed into a fresh git
repository with two tags, ``bench/before`` and ``bench/after``, 50 rule edits apart.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twoku.model import enums
from twoku.model.digest import content_digest
from twoku.model.regions import Layer
from twoku.store.documents import yamlio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_tables import POINTS, ROWS, TABLES, add_tables

BEFORE, AFTER = "bench/before", "bench/after"
EDITS = 50
MAX_SERIAL = 9999  # IDs carry four digits per layer

PROVINCES = [("510000", "四川省"), ("440000", "广东省"), ("320000", "江苏省"), ("330000", "浙江省")]
PROVINCES += [("370000", "山东省"), ("410000", "河南省"), ("420000", "湖北省"), ("430000", "湖南省")]
CITIES = ["0100", "0300", "0500"]

DRUGS = ["阿帕他胺片", "注射用头孢曲松钠", "奥美拉唑肠溶胶囊", "阿托伐他汀钙片", "人血白蛋白", "胸腺法新", "参麦注射液"]
DRUGS += ["甲钴胺片", "氯吡格雷片", "复方丹参滴丸", "左氧氟沙星注射液", "重组人干扰素", "培美曲塞二钠", "门冬胰岛素"]
SERVICES = [
    "CT平扫",
    "彩色多普勒超声",
    "静脉输液",
    "血液透析",
    "康复评定",
    "针刺",
    "中药熏洗",
    "心电监护",
    "动态血糖监测",
]
CONSUMABLES = ["一次性使用吻合器", "冠脉药物洗脱支架", "人工晶体", "骨科内固定板", "留置针", "医用敷料", "导尿管"]
ISSUERS = ["国家医疗保障局", "国家卫生健康委员会", "国家药品监督管理局", "国家中医药管理局", "国务院办公厅"]
INSTITUTIONS = ["三级甲等综合医院", "二级综合医院", "社区卫生服务中心", "定点零售药店", "专科医院", "乡镇卫生院"]
VERBS = ["超限定支付范围使用", "重复收费", "分解收费", "超标准收费", "串换项目", "无指征使用", "超量开具"]
PATTERNS = {"药品": r"^X[A-Z]\d{2}[A-Z]{3}\d{3}[A-Z]\d{12}$", "项目": r"^\d{15}$", "耗材": r"^C\d{19}"}


@dataclass
class Plan:
    layers: list[Layer]
    names: dict[str, str]
    rules: dict[str, int] = field(default_factory=dict)  # layer code → count
    knowledge: dict[str, int] = field(default_factory=dict)


def plan(rules: int, knowledge: int) -> Plan:
    provinces = PROVINCES[: 3 if rules < 1000 else len(PROVINCES)]
    layers, names = [Layer("CN")], {}
    for code, name in provinces:
        layers.append(Layer(code))
        names[code] = f"{name}（模拟）"
        for n, suffix in enumerate(CITIES, 1):
            city = code[:2] + suffix
            layers.append(Layer(city))
            names[city] = f"{name}第{n}市（模拟）"
    out = Plan(layers, names)
    for total, target in ((rules, out.rules), (knowledge, out.knowledge)):
        national = min(MAX_SERIAL, max(1, total * 2 // 5))
        rest, lower = total - national, len(layers) - 1
        target["CN"] = national
        for n, layer in enumerate(layers[1:]):
            share = rest // lower + (1 if n < rest % lower else 0)
            if share > MAX_SERIAL:
                raise SystemExit(f"too many items for {lower} lower layers (at most {MAX_SERIAL} each)")
            target[layer.code] = share
    return out


def _schema(path: str, kind: str) -> str:
    return f"# yaml-language-server: $schema={'../' * path.count('/')}schema/{kind}.schema.json\n"


def _pick(rng: random.Random, seq: list[str], k: int) -> list[str]:
    return rng.sample(seq, min(k, len(seq)))


def knowledge_text(item_id: str, n: int, layer: Layer, cites: list[str], rng: random.Random) -> tuple[str, str]:
    category = enums.KNOWLEDGE_CATEGORIES[n % len(enums.KNOWLEDGE_CATEGORIES)]
    path = f"{layer.root}/knowledge/{category.slug}/{item_id}.yaml"
    issuer = ISSUERS[n % len(ISSUERS)] if layer.kind == "national" else f"{layer.code} 医疗保障局"
    year = 2018 + n % 7
    drug, service = rng.choice(DRUGS), rng.choice(SERVICES)
    lines = [
        _schema(path, "knowledge").rstrip("\n"),
        f"id: {item_id}",
        f"category: {category.label}",
        f"title: 关于规范{drug}和{service}医保支付管理的通知（第{n}号）",
        f"issuer: {issuer}",
        f"doc_number: 医保发〔{year}〕{n % 97 + 1}号",
        f"effective: {year}-{n % 12 + 1:02d}-01",
        "status: 生效",
        "summary: |",
        f"  明确{drug}限定支付范围及{service}收费标准，{rng.choice(INSTITUTIONS)}应按目录结算。",
    ]
    if category.label == "医保信息业务编码":
        lines.append(f"pattern: '{PATTERNS[rng.choice(list(PATTERNS))]}'")
    lines += ["articles:", f"  - ref: 第{n % 30 + 1}条", f"    gist: 不得{rng.choice(VERBS)}{drug}。"]
    if cites:
        lines.append("basis:")
        lines += [f"  - id: {c}\n    article: 第{rng.randint(1, 40)}条" for c in cites]
    return path, "\n".join(lines) + "\n"


def rule_text(item_id: str, n: int, layer: Layer, basis: list[str], status: str, rng: random.Random) -> tuple[str, str]:
    rc = enums.RULE_CATEGORIES[n % len(enums.RULE_CATEGORIES)]
    path = f"{layer.root}/rules/{rc.slug}/{item_id}.yaml"
    drug, service, consumable = rng.choice(DRUGS), rng.choice(SERVICES), rng.choice(CONSUMABLES)
    verb = rng.choice(VERBS)
    low, high = 3 + n % 5, 30 + n % 60
    days = rng.randint(low, high)
    uses = _pick(rng, list(enums.USES), 3)
    lines = [
        _schema(path, "rule").rstrip("\n"),
        f"id: {item_id}",
        f"name: {drug}{verb}（{n}）",
        f"category: {rc.label}",
        f"framework_code: GZ10000{rc.code[0]}0{rc.code[2]}{n % 1000:03d}000",
        "definition: |",
        f"  监控{rng.choice(INSTITUTIONS)}对{drug}{verb}的行为，以及{service}与{consumable}的不合理组合。",
        "  依据药品目录限定支付范围，参保人在{{param:interval_days}}内重复发生的，纳入疑点。",  # the local value
        "monitoring_point: |",
        f"  {drug}仅限目录限定范围内使用并由基金支付；超出范围的费用将被标记，请按自费结算并事先告知。",
        "logic: |",
        "  数据范围：门诊、住院、购药结算的费用明细。",
        f"  1. 以医保药品代码匹配{drug}，按费用发生日计算间隔；间隔小于参数 interval_days 的判定违规。",
        "  2. 单次用量超过参数 dose.max_units 的，判定可疑。",
        "  3. 违规金额为该明细计入政策范围内费用的部分。",
        "parameters:",
        "  interval_days:",
        f"    value: {days}",
        "    unit: 天",
        "    description: 两次结算的最短间隔",
        "    localisable:",
        f"      min: {low}",
        f"      max: {high}",
        "  max_units:",
        f"    value: {[2, 4, 6][n % 3]}",
        "    unit: 支",
        "    description: 单日最大用量",
        "    localisable:",
        "      choices: [2, 4, 6, 8]",
        "  settlement_types:",
        "    value: [门诊, 住院]",
        "    description: 纳入监控的结算类型",
        "uses:",
        *[f"  - {s}" for s in uses],
        "stages: [事中, 事后]",
        f"level: {enums.LEVELS[n % 2]}",
        "violations:",
        f"  - 参保人在 {days - 1} 天内于同一机构再次结算{drug}",
        f"  - {rng.choice(INSTITUTIONS)}将{consumable}按{service}收费",
        "basis:",
        *[f"  - id: {b}\n    article: 第{rng.randint(1, 60)}条" for b in basis],
    ]
    if n % 20 == 0:
        lines.append("focus: [阈值复杂]")
    lines += [f"status: {status}", f"effective: 2026-{n % 12 + 1:02d}-01"]
    return path, "\n".join(lines) + "\n"


def override_text(item_id: str, layer: Layer, target: str, digest: str, rng: random.Random) -> tuple[str, str]:
    path = f"{layer.root}/overrides/{item_id}.yaml"
    text = (
        _schema(path, "override")
        + f"id: {item_id}\ntarget: {target}\nbase_digest: {digest}\nparameters:\n"
        + f"  max_units: {rng.choice([2, 4, 6, 8])}\nuses:\n  - 协议考核\n"
        + "reason: |\n  本地定点医药机构用药结构与全国不同，按本地实施细则调整单日最大用量，在上级允许的可选值之内。\n"
        + "status: 生效\neffective: 2026-07-01\n"
    )
    return path, text


PEOPLE = {
    "业务论证": [("医保行政部门", "医保管理"), ("医保经办机构", "经办"), ("医保经办机构", "医保管理")],
    "学术论证": [("高等院校", "临床医学"), ("科研院所", "医保管理"), ("学会协会", "法律")],
    "行业论证": [("卫生健康部门", "卫生健康管理"), ("定点医药机构", "药学"), ("中医药管理部门", "中医药")],
}


def record_text(item_id: str, kind: str, subjects: list[tuple[str, str]]) -> tuple[str, str]:
    path = f"argumentation/{item_id}.yaml"
    lines = [_schema(path, "argumentation").rstrip("\n"), f"id: {item_id}", f"kind: {kind}", "date: 2025-11-20"]
    lines += ["organizer: 医疗保障局（模拟）", "subjects:"]
    lines += [f"  - id: {s}\n    digest: {d}" for s, d in subjects]
    lines.append("participants:")
    for n, (unit, area) in enumerate(PEOPLE[kind], 1):
        lines += [
            f"  - name: 专家{n}",
            f"    affiliation: 某{unit}",
            f"    affiliation_type: {unit}",
            f"    field: {area}",
        ]
    lines += ["conclusion: 通过", "opinions:", "  - 规则逻辑清晰，阈值在合理范围内，同意按期生效。"]
    return path, "\n".join(lines) + "\n"


def _digest(text: str) -> str:
    data, _ = yamlio.load(text.encode("utf-8"))
    return content_digest(yamlio.to_json(data))


def _write(root: Path, path: str, text: str) -> None:
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text, encoding="utf-8")


def generate(
    root: Path, rules: int, knowledge: int, seed: int = 12, table_rows: int = 0, tables: int = TABLES
) -> dict[str, int]:
    """Write the store under ``root`` (which must not exist or be empty) and commit it with its two tags;
    with ``table_rows``, ``tables`` sealed knowledge tables holding as many code rows, and a rule joining each
    (benchmarks/generate_tables.py)."""
    rng = random.Random(seed)
    p = plan(rules, knowledge)
    root.mkdir(parents=True, exist_ok=True)
    regions = "".join(f'  "{code}": {name}\n' for code, name in p.names.items())
    _write(root, "twoku.yaml", f"schema_version: 2\nname: 基准测试库（模拟）\nregion: CN\nregions:\n{regions}")
    shutil.copytree(Path(__file__).resolve().parents[1] / "schema", root / "schema")
    k_ids: dict[str, list[str]] = {}
    for layer in p.layers:
        ids = k_ids[layer.code] = []
        for n in range(1, p.knowledge[layer.code] + 1):
            item_id = f"{layer.code}-K-{n:04d}"
            reach = ids[-50:] + ([] if layer.kind == "national" else k_ids["CN"][:200])
            cites = _pick(rng, reach, n % 3)
            _write(root, *knowledge_text(item_id, n, layer, cites, rng))
            ids.append(item_id)
    rule_files: dict[str, tuple[str, Layer, str]] = {}  # id → (path, layer, status)
    active: dict[str, list[str]] = {}
    editable: list[str] = []
    for layer in p.layers:
        reach = [k for up in layer.chain for k in k_ids[up.code][:500]]
        for n in range(1, p.rules[layer.code] + 1):
            item_id = f"{layer.code}-R-{n:04d}"
            status = {8: "草稿", 9: "征求意见"}.get(n % 10, "生效")
            path, text = rule_text(item_id, n, layer, _pick(rng, reach, 2 + n % 3), status, rng)
            _write(root, path, text)
            rule_files[item_id] = (path, layer, status)
            if status == "生效":
                active.setdefault(layer.code, []).append(item_id)
            else:
                editable.append(item_id)
    digests = {i: _digest((root / v[0]).read_text(encoding="utf-8")) for i, v in rule_files.items() if v[2] == "生效"}
    overrides = 0
    for layer in p.layers[1:]:
        upper = [r for up in layer.chain[:-1] for r in active.get(up.code, [])]
        for n, target in enumerate(_pick(rng, upper, max(1, p.rules[layer.code] // 10)), 1):
            _write(root, *override_text(f"{layer.code}-O-{n:04d}", layer, target, digests[target], rng))
            overrides += 1
    records = 0
    for layer in p.layers:
        serial = 0
        ids = active.get(layer.code, [])
        for start in range(0, len(ids), 200):
            batch = ids[start : start + 200]
            focus = [i for i in batch if int(i[-4:]) % 20 == 0]
            for kind, subjects in (("业务论证", batch), ("学术论证", focus), ("行业论证", focus)):
                if subjects:
                    serial += 1
                    _write(
                        root, *record_text(f"{layer.code}-A-{serial:04d}", kind, [(s, digests[s]) for s in subjects])
                    )
                    records += 1
    counts = {"rules": len(rule_files), "knowledge": sum(len(v) for v in k_ids.values()), "overrides": overrides}
    if table_rows:
        first = p.rules["CN"] + 1
        made = add_tables(root, k_ids["CN"], first, tables, table_rows, max(tables, POINTS * table_rows // ROWS))
        counts |= made
        counts["rules"] += made["tables"]
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "synthetic store")
    _git(root, "tag", BEFORE)
    edited = editable[:EDITS]
    for item_id in edited:
        full = root / rule_files[item_id][0]
        text = full.read_text(encoding="utf-8").replace("    unit: 支\n", "    unit: 支（按最小包装）\n", 1)
        full.write_text(text.replace("  - 参保人在", "  - 参保人（含异地就医）在", 1), encoding="utf-8")
    _git(root, "commit", "-q", "-am", f"edit {len(edited)} draft rules")
    _git(root, "tag", AFTER)
    return counts


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=root, check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=5000)
    parser.add_argument("--knowledge", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--table-rows", type=int, default=ROWS, help="code rows of the knowledge tables (0: none)")
    parser.add_argument("--tables", type=int, default=TABLES)
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    if args.dir.exists() and any(args.dir.iterdir()):
        raise SystemExit(f"{args.dir} exists and is not empty")
    counts = generate(args.dir, args.rules, args.knowledge, args.seed, args.table_rows, args.tables)
    print(f"{args.dir}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
