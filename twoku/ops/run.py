"""``twoku run`` and ``twoku compile``: a region's effective rules over claim lines.

A rule runs with the parameters it takes effect with in the region (national values
with the province's and the city's overrides applied, 第五条) and with the code sets its
condition names, read from the knowledge items' CSV tables.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from twoku.engine.sql import DIALECTS, RuleSpec, TableRef, columns_used, compile_rules, relation_name
from twoku.errors import TwokuError, UsageError
from twoku.model import tables
from twoku.model.condition import (
    PATTERN_OPS,
    Condition,
    ConditionProblem,
    comparisons,
    parse,
    patterns,
    tables_read,
)
from twoku.model.library import Item, Library, effective_rule, table_overrides
from twoku.model.regions import Layer
from twoku.model.runs import RuleHits, RunResult
from twoku.model.tables import Table
from twoku.ops.library import region_layer
from twoku.ops.validate import load_store
from twoku.store import files


def table_file(lib: Library, knowledge_id: str) -> tuple[str, tables.TableSpec]:
    """Where a knowledge item's table is and how it is declared (its rows are not read)."""
    item = lib.get(knowledge_id, "knowledge")
    spec = tables.spec_of(item.data) if item else None
    if item is None or spec is None:
        raise TwokuError(
            f"代码集 {knowledge_id} 不是带表格（table）的知识条目",
            hint="在条件中引用医保信息业务编码类知识或知识点明细",
        )
    return tables.table_path(item.path, spec), spec


def table_of(root: Path, lib: Library, knowledge_id: str) -> Table:
    """A knowledge item's table as read from its file, refused where it cannot be read whole."""
    path, spec = table_file(lib, knowledge_id)
    table = lib.tables.get(path) if path in lib.tables else files.read_table(root, path, spec)
    if table is None or not table.readable or table.problems:
        problem = table.problems[0].message if table is not None and table.problems else "文件不存在"
        raise TwokuError(f"读不出表格 {path}：{problem}", hint="先运行 twoku validate 并改正表格")
    return table


def table_refs(root: Path, lib: Library, condition: Condition) -> dict[str, TableRef]:
    """The tables the condition reads (code sets and matches), each checked to be readable whole."""
    out: dict[str, TableRef] = {}
    for knowledge_id in tables_read(condition):
        table = table_of(root, lib, knowledge_id)
        spec = table.spec
        code = next((c.name for c in spec.columns if c.type == "code"), spec.columns[0].name)
        name = "name" if "name" in spec.names else None
        out[knowledge_id] = TableRef(relation_name(knowledge_id), spec.names, spec.key, code, name)
    return out


def load_tables(con: Any, root: Path, lib: Library, specs: Sequence[RuleSpec], region: Layer | None = None) -> None:
    """Each table the rules read, loaded into the engine as a typed table under its relation name: as ``region``
    has it (the rows its overrides add and remove applied), else as its own layer wrote it."""
    from twoku.engine import duck

    done: set[str] = set()
    for spec in specs:
        for knowledge_id, ref in spec.tables.items():
            if knowledge_id in done:
                continue
            path, declared = table_file(lib, knowledge_id)  # read whole and checked when the spec was made
            columns = [(c.name, c.type) for c in declared.columns]
            duck.load_table(con, ref.relation, root / path, columns)
            for _, _, rows in table_overrides(lib, knowledge_id, region) if region is not None else []:
                removed = [tables.key_of_entry(declared, e) for e in rows.get("remove") or ()]
                added = [tables.row_of(declared, e) for e in rows.get("add") or ()]
                duck.change_rows(con, ref.relation, columns, declared.key, removed, added)  # top layer first
            done.add(knowledge_id)


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
        _linear(pattern, knowledge_id, item.path if item else None)
        out[knowledge_id] = pattern
    return out


def _check_patterns(condition: Condition, rule: Item) -> None:
    """Every literal pattern of the condition, those inside a measure's ``where`` too, runs in RE2."""
    for comp in comparisons(condition):
        if comp.op in PATTERN_OPS and isinstance(comp.value, str):
            _linear(comp.value, rule.id, rule.path)
        if comp.measure.where is not None:
            _check_patterns(comp.measure.where, rule)


def _linear(pattern: str, owner: str, path: str | None) -> None:
    """Refuse a pattern RE2 (the engine's, and validate's) cannot run in linear time: TK408 says where."""
    from twoku.model.regex import UnsafePattern, compile_linear

    try:
        compile_linear(pattern)
    except UnsafePattern as exc:
        raise TwokuError(f"{owner}：{exc}", hint="运行 twoku validate 查看 TK408 并改写", path=path) from None


def rule_spec(root: Path, lib: Library, rule: Item, region: Layer, params: dict[str, Any] | None = None) -> RuleSpec:
    """The rule as it runs in ``region``: condition, localised parameters, resolved code sets.
    ``params`` runs it with these values instead (twoku test --region asks what a changed value does)."""
    if params is None:
        params = effective_params(lib, rule, region)
    try:
        condition = parse(rule.data.get("condition"), params)
    except ConditionProblem as problem:
        raise TwokuError(
            f"{rule.id} 的条件有误：{problem.message}", hint="运行 twoku validate 查看位置", path=rule.path
        ) from None
    _check_patterns(condition, rule)
    tables_read = table_refs(root, lib, condition)
    level = str(rule.data.get("level") or "")
    effective, expires = rule.data.get("effective"), rule.data.get("expires")
    return RuleSpec(
        rule.id,
        level,
        condition,
        params,
        tables_read,
        effective if isinstance(effective, str) else None,
        expires if isinstance(expires, str) else None,
        resolve_patterns(lib, [p.knowledge for p, _ in patterns(condition)]),
    )


def effective_params(lib: Library, rule: Item, region: Layer) -> dict[str, Any]:
    """Each parameter's value in force in ``region``."""
    return {name: spec["value"].value for name, spec in effective_rule(lib, rule, region).parameters.items()}


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


def check_out(out: Path | None) -> None:
    """``--out`` names a hits file (.parquet, .csv or .json) that can be written, before anything runs."""
    from twoku.engine import duck

    if out is not None and out.suffix.lower() not in duck.HIT_SUFFIXES:
        raise UsageError(f"--out {out.name}：命中结果应写为 .parquet、.csv 或 .json")
    if out is not None:
        from twoku.store.documents.edit import writable_file

        writable_file(out)


@dataclass(frozen=True)
class Chosen:
    """What ``twoku run`` runs, on either engine: the region's line rules (or those of ``--rules``) with their
    specs, and its indicators."""

    lib: Library
    layer: Layer
    rules: list[Item]
    specs: list[RuleSpec]
    measured: list[Item]

    def per_rule(self, counts: Mapping[str, int]) -> list[RuleHits]:
        return [
            RuleHits(r.id, r.title, s.level, counts.get(r.id, 0), dict(s.params))
            for r, s in zip(self.rules, self.specs, strict=True)
        ]


def choose(root: Path, region: str | None, rule_ids: Sequence[str]) -> Chosen:
    """The rules and indicators ``twoku run`` runs in ``region`` (``rule_ids``: only these)."""
    from twoku.ops import indicators

    lib = load_store(root, tables=False).library  # the tables it reads, it reads one at a time
    layer = region_layer(region, lib)
    line_ids, indicator_ids = indicators.split_ids(lib, rule_ids)
    rules = select_rules(lib, layer, line_ids) if line_ids or not rule_ids else []
    measured = indicators.select_indicators(lib, layer, indicator_ids) if indicator_ids or not rule_ids else []
    return Chosen(lib, layer, rules, [rule_spec(root, lib, r, layer) for r in rules], measured)


def run(
    root: Path,
    claims: Path,
    region: str | None = None,
    rule_ids: Sequence[str] = (),
    out: Path | None = None,
    threads: int | None = None,
    encoding: str = "auto",
    memory: str | None = None,
) -> RunResult:
    from twoku.engine import duck
    from twoku.ops import indicators, progress

    check_out(out)
    chosen = choose(root, region, rule_ids)
    lib, layer, specs, measured = chosen.lib, chosen.layer, chosen.specs, chosen.measured
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="twoku-run-") as spill:
        con = duck.connect(threads, memory, Path(spill))
        used = columns_used(specs) | indicators.columns(root, lib, layer, measured)
        read = duck.read_claims(con, claims, used, encoding)
        load_tables(con, root, lib, specs, layer)
        counts = duck.run_rules(con, specs, layer.code, lambda done: progress.tell("运行规则", done, len(specs)))
        beside = indicators.indicators_path(out) if out is not None and measured else None
        computed = indicators.compute(con, root, lib, layer, measured, beside)
        seconds = time.perf_counter() - started
        if out is not None:
            _write_whole(con, out)
        sample = duck.hit_rows(con, 20)
        con.close()
    return RunResult(
        layer,
        claims,
        read.lines,
        chosen.per_rule(counts),
        out,
        seconds,
        sample,
        read.encoding,
        read.ignored,
        computed,
        beside,
    )


ENGINES = ("duckdb", "spark")


def run_on(
    engine: str,
    root: Path,
    claims: str,
    region: str | None = None,
    rule_ids: Sequence[str] = (),
    out: Path | None = None,
    threads: int | None = None,
    encoding: str = "auto",
    memory: str | None = None,
    master: str | None = None,
    conf: Sequence[str] = (),
) -> RunResult:
    """``twoku run --engine``: the embedded DuckDB (:func:`run`), or Spark (ops/sparkrun.py)."""
    if engine == "spark":
        from twoku.engine.spark import parse_conf
        from twoku.ops import sparkrun

        if threads is not None or memory is not None:
            raise UsageError("--threads 和 --memory 只用于 DuckDB", hint="Spark 的资源用 --master 和 --conf 设定")
        return sparkrun.run(root, claims, region, rule_ids, out, master, parse_conf(conf))
    if engine != "duckdb":
        raise UsageError(f"--engine {engine} 不受支持", hint="可选：" + "、".join(ENGINES))
    if master is not None or conf:
        raise UsageError("--master 和 --conf 只用于 --engine spark", hint="加 --engine spark，或去掉这两个选项")
    return run(root, Path(claims), region, rule_ids, out, threads, encoding, memory)


def _write_whole(con: Any, out: Path) -> None:
    """Write beside the target and rename: never a half-written hits file."""
    from twoku.engine import duck
    from twoku.store.documents.edit import written_beside

    written_beside(out, lambda tmp: duck.write_hits(con, tmp))


@dataclass(frozen=True)
class Compiled:
    dialect: str
    region: Layer
    rules: list[str]
    sql: str
    tables: dict[str, TableRef] = field(default_factory=dict)  # knowledge ID → the table the SQL reads
    out: Path | None = None  # the bundle's folder, when one was written


def compile_sql(
    root: Path, dialect: str, region: str | None = None, rule_ids: Sequence[str] = (), out: Path | None = None
) -> Compiled:
    """The rules' SQL in ``dialect``; with ``out``, a bundle that runs as it is on that engine: the SQL, the
    tables it reads (the region's, as Parquet), the statements that register them, and a manifest."""
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}：已存在且不是空目录", hint="换一个新目录名，或先删除它")
    if dialect not in DIALECTS:
        raise UsageError(f"--dialect {dialect} 不受支持", hint="可选：" + "、".join(DIALECTS))
    lib = load_store(root, tables=False).library  # the tables it reads, it reads one at a time
    layer = region_layer(region, lib)
    rules = select_rules(lib, layer, rule_ids)
    if not rules:
        raise TwokuError(f"{layer} 的生效库中没有带可执行条件的规则")
    specs = [rule_spec(root, lib, r, layer) for r in rules]
    sql = compile_rules(specs, dialect, {r.id: r.title for r in rules})
    used = {k: ref for s in specs for k, ref in s.tables.items()}
    compiled = Compiled(dialect, layer, [r.id for r in rules], sql, used)
    if out is None:
        return compiled
    from twoku.ops.bundle import write_bundle

    write_bundle(root, lib, compiled, specs, out)
    return replace(compiled, out=out)
