"""``twoku run`` and ``twoku compile``: a region's effective rules over claim lines.

A rule runs with the parameters it takes effect with in the region (national values
with the province's and the city's overrides applied, 第五条) and with the code sets its
condition names, read from the knowledge items' CSV tables.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.engine.sql import DIALECTS, RuleSpec, columns_used, compile_rules
from twoku.errors import TwokuError, UsageError
from twoku.model.condition import CodeSet, ConditionProblem, code_sets, parse, patterns
from twoku.model.library import Item, Library, effective_rule
from twoku.model.regions import Layer
from twoku.model.runs import RuleHits, RunResult
from twoku.ops.library import region_layer
from twoku.ops.validate import load_store


def table_rows(root: Path, lib: Library, knowledge_id: str) -> list[tuple[str, str]]:
    """(code, name) of each row of a knowledge item's CSV code table."""
    item = lib.get(knowledge_id, "knowledge")
    table = item.data.get("table") if item else None
    if item is None or not isinstance(table, str):
        raise TwokuError(
            f"代码集 {knowledge_id} 不是带代码表（table）的知识条目", hint="在条件中引用医保信息业务编码类知识"
        )
    path = root / (item.path.rsplit("/", 1)[0] + "/" + table)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TwokuError(f"读不出代码表 {path.name}：{exc}") from None
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return [(r[0].strip(), r[1].strip() if len(r) > 1 else "") for r in rows if r and r[0].strip()]


def resolve_codes(root: Path, lib: Library, wanted: Sequence[CodeSet]) -> dict[CodeSet, list[str]]:
    out: dict[CodeSet, list[str]] = {}
    for code_set in wanted:
        rows = table_rows(root, lib, code_set.knowledge)
        codes = [c for c, name in rows if not code_set.names or name in code_set.names]
        unknown = [n for n in code_set.names if n not in {name for _, name in rows}]
        if unknown:
            raise TwokuError(f"代码表 {code_set.knowledge} 中没有名称为 {'、'.join(unknown)} 的代码")
        out[code_set] = codes
    return out


def resolve_patterns(lib: Library, knowledge_ids: Sequence[str]) -> dict[str, str]:
    """The ``pattern`` of each coding knowledge item a condition tests with ``{pattern_of: …}``."""
    out: dict[str, str] = {}
    for knowledge_id in knowledge_ids:
        item = lib.get(knowledge_id, "knowledge")
        pattern = item.data.get("pattern") if item else None
        if not isinstance(pattern, str) or not pattern:
            raise TwokuError(
                f"{knowledge_id} 不是带编码规则（pattern）的知识条目", hint="pattern_of 应引用医保信息业务编码类知识"
            )
        out[knowledge_id] = pattern
    return out


def rule_spec(root: Path, lib: Library, rule: Item, region: Layer) -> RuleSpec:
    """The rule as it runs in ``region``: condition, localised parameters, resolved code sets."""
    eff = effective_rule(lib, rule, region)
    params = {name: spec["value"].value for name, spec in eff.parameters.items()}
    try:
        condition = parse(rule.data.get("condition"), params)
    except ConditionProblem as problem:
        raise TwokuError(
            f"{rule.id} 的条件有误：{problem.message}", hint="运行 twoku validate 查看位置", path=rule.path
        ) from None
    codes = resolve_codes(root, lib, [c for c, _ in code_sets(condition)])
    level = str(rule.data.get("level") or "")
    effective, expires = rule.data.get("effective"), rule.data.get("expires")
    return RuleSpec(
        rule.id,
        level,
        condition,
        params,
        codes,
        effective if isinstance(effective, str) else None,
        expires if isinstance(expires, str) else None,
        resolve_patterns(lib, [p.knowledge for p, _ in patterns(condition)]),
    )


def select_rules(lib: Library, region: Layer, rule_ids: Sequence[str] = ()) -> list[Item]:
    """The rules to run: those named, or every 生效 rule of the region that has a condition."""
    if not rule_ids:
        return [
            r
            for r in lib.of_kind("rule")
            if lib.in_region(r, region) and r.active and isinstance(r.data.get("condition"), dict)
        ]
    chosen = []
    for rule_id in rule_ids:
        rule = lib.get(rule_id, "rule")
        if rule is None:
            raise UsageError(f"库中没有规则 {rule_id}", hint="用 twoku ls rules 查找编号")
        if not lib.in_region(rule, region):
            raise UsageError(f"{rule_id} 不在 {region} 的生效库中", hint=f"改用 --region {rule.layer}")
        if not isinstance(rule.data.get("condition"), dict):
            raise UsageError(f"{rule_id} 没有可执行条件（condition）", hint="先为规则写 condition 和 examples")
        chosen.append(rule)
    return chosen


def run(
    root: Path,
    claims: Path,
    region: str | None = None,
    rule_ids: Sequence[str] = (),
    out: Path | None = None,
    threads: int | None = None,
    encoding: str = "auto",
) -> RunResult:
    from twoku.engine import duck
    from twoku.ops import progress

    if out is not None and out.suffix.lower() not in duck.HIT_SUFFIXES:
        raise UsageError(f"--out {out.name}：命中结果应写为 .parquet、.csv 或 .json")
    lib = load_store(root).library
    layer = region_layer(region, lib)
    rules = select_rules(lib, layer, rule_ids)
    specs = [rule_spec(root, lib, r, layer) for r in rules]
    started = time.perf_counter()
    con = duck.connect(threads)
    read = duck.read_claims(con, claims, columns_used(specs), encoding)
    counts = duck.run_rules(con, specs, layer.code, lambda done: progress.tell("运行规则", done, len(specs)))
    seconds = time.perf_counter() - started
    if out is not None:
        _write_whole(con, out)
    per_rule = [
        RuleHits(r.id, r.title, s.level, counts.get(r.id, 0), dict(s.params)) for r, s in zip(rules, specs, strict=True)
    ]
    sample = duck.hit_rows(con, 20)
    return RunResult(layer, claims, read.lines, per_rule, out, seconds, sample, read.encoding, read.ignored)


def _write_whole(con: Any, out: Path) -> None:
    """Write beside the target and rename: never a half-written hits file."""
    from twoku.engine import duck

    out.parent.mkdir(parents=True, exist_ok=True)
    from twoku.store.edit import file_mode

    mode = file_mode(out)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=out.suffix)
    os.close(fd)
    try:
        duck.write_hits(con, Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Compiled:
    dialect: str
    region: Layer
    rules: list[str]
    sql: str


def compile_sql(root: Path, dialect: str, region: str | None = None, rule_ids: Sequence[str] = ()) -> Compiled:
    if dialect not in DIALECTS:
        raise UsageError(f"--dialect {dialect} 不受支持", hint="可选：" + "、".join(DIALECTS))
    lib = load_store(root).library
    layer = region_layer(region, lib)
    rules = select_rules(lib, layer, rule_ids)
    if not rules:
        raise TwokuError(f"{layer} 的生效库中没有带可执行条件的规则")
    specs = [rule_spec(root, lib, r, layer) for r in rules]
    sql = compile_rules(specs, dialect, {r.id: r.title for r in rules})
    return Compiled(dialect, layer, [r.id for r in rules], sql)
