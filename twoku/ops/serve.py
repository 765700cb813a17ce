"""``twoku serve``: a region's effective library at a committed revision, ready to judge a visit in memory.

第十九条 names 事前提醒 and 支付审核 among the uses of the libraries: a doctor's order or a
settlement is checked while it happens.  :func:`load` reads the store as committed at the
revision (never the working tree), refuses it when validate finds an error in the region's
layers, and compiles each executable rule of the region for the in-memory evaluator
(engine/memory.py) with the parameters and tables in force there (ops/run.py resolves them as
``twoku run`` does).  A rule the evaluator cannot judge with the SQL engine's meaning is listed
with the reason, never judged.  :func:`check` answers one request: plain data in, plain data out;
ops/server.py puts it on HTTP.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.engine import memory
from twoku.errors import TwokuError, UsageError
from twoku.model import claim, enums, tables
from twoku.model.findings import ERROR
from twoku.model.library import Item, Library, table_overrides
from twoku.model.regions import Layer, layer_name

MAX_LINES = 20_000  # a visit with the patient's earlier lines; more is a batch for twoku run


@dataclass(frozen=True)
class ServedRule:
    id: str
    name: str
    level: str
    monitoring_point: str | None  # as published for the region, with its effective values
    judge: memory.MemoryRule
    tables: tuple[str, ...]  # the knowledge tables its condition reads


@dataclass(frozen=True)
class Skipped:
    """An executable rule of the region that is not judged here, and why (in Chinese)."""

    rule_id: str
    reason: str


@dataclass(frozen=True)
class Served:
    """One loaded library: what answers requests until a reload swaps in the next."""

    region: str
    region_name: str
    revision: str  # the commit judged with
    asked: str  # the revision as given (HEAD, a branch, a publish/… tag)
    uses: tuple[str, ...]
    rules: tuple[ServedRule, ...]
    skipped: tuple[Skipped, ...]
    loaded_at: str
    seconds: float  # how long loading took
    warnings: int = 0
    hidden: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table → columns not shown to institutions
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table → its columns

    def info(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_name": self.region_name,
            "revision": self.revision,
            "asked": self.asked,
            "uses": list(self.uses),
            "loaded_at": self.loaded_at,
            "load_seconds": round(self.seconds, 3),
            "warnings": self.warnings,
            "counts": {"rules": len(self.rules), "skipped": len(self.skipped), "tables": len(self.columns)},
            "rules": [{"id": r.id, "name": r.name, "level": r.level} for r in self.rules],
            "skipped": [{"rule_id": s.rule_id, "reason": s.reason} for s in self.skipped],
        }


def _uses(uses: Sequence[str]) -> tuple[str, ...]:
    unknown = [u for u in uses if u not in enums.USES]
    if unknown:
        raise UsageError(f"--use {'、'.join(unknown)} 不是应用场景", hint="可选：" + "、".join(enums.USES))
    return tuple(dict.fromkeys(uses))


def load(
    root: Path,
    region: str | None = None,
    uses: Sequence[str] = (),
    rule_ids: Sequence[str] = (),
    revision: str = "HEAD",
    today: dt.date | None = None,
) -> Served:
    """The region's library at ``revision``, compiled for memory; TwokuError when validate finds errors in it."""
    from twoku.ops.library import region_layer
    from twoku.ops.validate import load_store, validate
    from twoku.store.repo import snapshot

    started = time.perf_counter()
    wanted = _uses(uses)
    sha = snapshot.commit(root, revision)
    with contextlib.ExitStack() as scratch:
        here = root
        if not snapshot.checked_out(root, sha):  # else read in place, with validate's cache (a reload after a commit)
            here = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="twoku-serve-")))
            snapshot.export(root, sha, here)
        fresh = here != root
        lib = load_store(here, use_cache=not fresh).library
        layer = region_layer(region, lib)
        report = validate(here, region=layer.code, use_cache=not fresh, today=today)
        if report.errors:
            first = "；".join(f"{f.path} {f.code}" for f in report.of(ERROR)[:3])
            raise TwokuError(
                f"拒绝载入版本 {sha[:12]}：{layer.code} 适用的各层级中有 {report.errors} 个错误（{first}）",
                hint=f"运行 twoku validate --region {layer.code} 查看并修正，提交后再载入",
            )
        served = _compile(here, lib, layer, wanted, rule_ids, today or dt.date.today())
    names = lib.region_names()
    return Served(
        layer.code,
        layer_name(layer, names),
        sha,
        revision,
        wanted,
        served[0],
        served[1],
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        time.perf_counter() - started,
        report.warnings,
        served[2],
        served[3],
    )


def _compile(
    root: Path, lib: Library, layer: Layer, uses: tuple[str, ...], rule_ids: Sequence[str], today: dt.date
) -> tuple[tuple[ServedRule, ...], tuple[Skipped, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    from twoku.model.publication import public_library, public_rule
    from twoku.ops.run import rule_spec, select_rules

    chosen = select_rules(lib, layer, rule_ids)
    if uses:  # 第十九条's uses: ``uses`` since schema 2, ``scenarios`` before (which now holds 就医场景)
        chosen = [r for r in chosen if set(uses) & set(r.data.get("uses") or r.data.get("scenarios") or ())]
    names = lib.region_names()
    public = public_library(lib, "institutions", today, layer)
    loaded: dict[str, memory.MemoryTable] = {}
    hidden: dict[str, tuple[str, ...]] = {}
    columns: dict[str, tuple[str, ...]] = {}
    rules: list[ServedRule] = []
    skipped: list[Skipped] = []
    for rule in chosen:
        try:
            for knowledge_id in _named(rule.data.get("condition")):  # read once: rule_spec and _table both ask
                _remember(root, lib, knowledge_id)
            spec = rule_spec(root, lib, rule, layer)
            for knowledge_id in spec.tables:
                if knowledge_id not in loaded:
                    loaded[knowledge_id], hidden[knowledge_id] = _table(root, lib, knowledge_id, layer)
                    columns[knowledge_id] = loaded[knowledge_id].columns
            judge = memory.compile_rule(spec, loaded)
        except (TwokuError, memory.Unsupported) as exc:
            reason = exc.message if isinstance(exc, TwokuError) else str(exc)
            skipped.append(Skipped(rule.id, reason))
            continue
        shown = public.get(rule.id, "rule")
        published = public_rule(public, shown, layer, names) if shown is not None else None
        # the name and monitoring point as published for the region: its effective values in the words
        name = published.name if published is not None else _title(rule)
        point = published.monitoring_point if published is not None else None
        rules.append(ServedRule(rule.id, name, spec.level, point, judge, tuple(spec.tables)))
    return tuple(rules), tuple(skipped), hidden, columns


def _named(condition: Any) -> set[str]:
    """The knowledge IDs a condition's code sets and matches name."""
    out: set[str] = set()
    if isinstance(condition, Mapping):
        for key, value in condition.items():
            if key in ("codes", "table") and isinstance(value, str):
                out.add(value)
            else:
                out |= _named(value)
    elif isinstance(condition, list):
        for value in condition:
            out |= _named(value)
    return out


def _remember(root: Path, lib: Library, knowledge_id: str) -> None:
    """A table read from its file once and kept in the library, where table_of looks first."""
    from twoku.ops.run import table_of

    item = lib.get(knowledge_id, "knowledge")
    spec = tables.spec_of(item.data) if item is not None else None
    if item is None or spec is None or tables.table_path(item.path, spec) in lib.tables:
        return
    with contextlib.suppress(TwokuError):  # rule_spec says what is wrong with it
        table = table_of(root, lib, knowledge_id)
        lib.tables[table.path] = table


def _title(rule: Item) -> str:
    return str(rule.data.get("name") or rule.id)


def _table(root: Path, lib: Library, knowledge_id: str, layer: Layer) -> tuple[memory.MemoryTable, tuple[str, ...]]:
    """A knowledge table as the region has it (its overrides' rows applied), typed for memory; the columns
    institutions may not see (a hit's matched row leaves them out)."""
    from twoku.ops.run import table_of

    table = table_of(root, lib, knowledge_id)
    item = lib.get(knowledge_id, "knowledge")
    own = item.layer.code if item is not None and item.layer is not None else ""
    overrides = table_overrides(lib, knowledge_id, layer)
    # the region's rows; the order does not matter here (a hit names the least key), so no sort without overrides
    rows = tables.layered(table, own, overrides).rows if overrides else table.rows
    spec = table.spec
    code = next((c.name for c in spec.columns if c.type == "code"), spec.columns[0].name)
    name = "name" if "name" in spec.names else None
    typed = memory.memory_table([(c.name, c.type) for c in spec.columns], spec.key, rows, code, name)
    secret = tuple(c.name for c in spec.columns if c.disclosure == "internal")
    return typed, secret


# --- one request ----------------------------------------------------------------------------


class BadRequest(ValueError):
    """A request that cannot be judged: the HTTP status and what is wrong, naming the field (in Chinese)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def _lines(raw: Any, name: str, required: bool) -> list[memory.Line]:
    if raw is None and not required:
        return []
    if not isinstance(raw, list) or (required and not raw):
        raise BadRequest(422, f"{name} 应为结算明细（对象）的非空列表", name)
    out = []
    for n, line in enumerate(raw):
        at = f"{name}[{n}]"
        if not isinstance(line, Mapping):
            raise BadRequest(422, f"{at} 应为对象（字段: 值）", at)
        unknown = sorted(k for k in line if k not in claim.FIELDS)
        if unknown:
            raise BadRequest(
                422, f"{at}.{unknown[0]}：结算明细中没有这个字段，见 schema/claim.schema.json", f"{at}.{unknown[0]}"
            )
        for key in claim.REQUIRED:
            if line.get(key) in (None, ""):
                raise BadRequest(422, f"{at}.{key}（{claim.FIELDS[key].title}）为必填", f"{at}.{key}")
        try:
            out.append(memory.typed_line(line, n))
        except memory.LineProblem as problem:
            raise BadRequest(422, f"{at}.{problem.message}", f"{at}.{problem.name}") from None
    return out


def parse_request(body: Any) -> tuple[list[memory.Line], list[memory.Line]]:
    """The visit's lines and the patient's earlier lines of a /v1/check body (BadRequest 422 naming the field)."""
    if not isinstance(body, Mapping):
        raise BadRequest(422, '请求体应为 JSON 对象：{"lines": [...], "history": [...]}')
    unknown = sorted(k for k in body if k not in ("lines", "history"))
    if unknown:
        raise BadRequest(422, f"{unknown[0]}：请求中没有这个字段（只有 lines 和 history）", str(unknown[0]))
    lines = _lines(body.get("lines"), "lines", True)
    history = _lines(body.get("history"), "history", False)
    if len(lines) + len(history) > MAX_LINES:
        raise BadRequest(422, f"lines 与 history 合计超过 {MAX_LINES} 条：成批的明细请用 twoku run", "lines")
    seen: set[str] = set()
    for name, group in (("history", history), ("lines", lines)):
        for n, line in enumerate(group):
            if line["line_id"] in seen:  # a hit names its line by line_id: two lines with one ID are one too many
                raise BadRequest(422, f"{name}[{n}].line_id（明细流水号）与前面的明细重复", f"{name}[{n}].line_id")
            seen.add(line["line_id"])
    return lines, history


def check(served: Served, body: Any) -> dict[str, Any]:
    """The hits of the visit's lines (the earlier lines are context only) under every rule served."""
    lines, history = parse_request(body)
    batch = memory.Batch(history + lines)
    judged = range(len(history), len(history) + len(lines))
    hits = []
    for rule in served.rules:
        for hit in rule.judge.hits(batch, judged):
            hits.append(_hit(served, rule, hit))
    return {
        "region": served.region,
        "region_name": served.region_name,
        "revision": served.revision,
        "rules_checked": len(served.rules),
        "hits": hits,
    }


def _hit(served: Served, rule: ServedRule, hit: memory.Hit) -> dict[str, Any]:
    rows: dict[str, dict[str, Any] | None] = {}
    for knowledge_id, row in hit.rows.items():
        if row is None:
            rows[knowledge_id] = None
            continue
        secret = served.hidden.get(knowledge_id, ())
        rows[knowledge_id] = {
            c: _plain(v) for c, v in zip(served.columns[knowledge_id], row, strict=True) if c not in secret
        }
    return {
        "rule_id": rule.id,
        "name": rule.name,
        "level": rule.level,
        "line_id": hit.line_id,
        "monitoring_point": rule.monitoring_point,
        "evidence": hit.evidence,
        "rows": rows,
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
