"""Indicators (统计指标监测类) in ``twoku run`` and ``twoku test``: computed per institution and period.

A rule with an ``indicator`` section (model/indicator.py) yields no line hits: ``twoku run``
computes it into its own output beside the hits (``--out 命中.csv`` writes ``命中.indicators.csv``
too), each institution-period with its value, baseline and whether it is flagged.  Kept apart
from ops/run.py so the line rules' path stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twoku.engine.indicator import IndicatorSpec
from twoku.errors import TwokuError, UsageError
from twoku.model.condition import AllOf, ConditionProblem, patterns
from twoku.model.indicator import parse_indicator
from twoku.model.library import Item, Library
from twoku.model.regions import Layer
from twoku.model.runs import IndicatorResult
from twoku.ops.run import effective_params, resolve_patterns, table_refs


def is_indicator(rule: Item) -> bool:
    return isinstance(rule.data.get("indicator"), dict)


def split_ids(lib: Library, rule_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The rule IDs of ``--rules`` as (line rules, indicators); unknown IDs stay with the line rules, which say so."""
    lines: list[str] = []
    indicators: list[str] = []
    for rule_id in rule_ids:
        rule = lib.get(rule_id, "rule")
        (indicators if rule is not None and is_indicator(rule) else lines).append(rule_id)
    return lines, indicators


def select_indicators(lib: Library, region: Layer, rule_ids: Sequence[str] = ()) -> list[Item]:
    """The indicators to compute: those named, or every 生效 indicator rule of the region."""
    if not rule_ids:
        return [r for r in lib.of_kind("rule") if lib.in_region(r, region) and r.active and is_indicator(r)]
    chosen = []
    for rule_id in rule_ids:
        rule = lib.get(rule_id, "rule")
        assert rule is not None  # split_ids put it here
        if not lib.in_region(rule, region):
            raise UsageError(f"{rule_id} 不在 {region} 的生效库中", hint=f"改用 --region {rule.layer}")
        chosen.append(rule)
    return chosen


def indicator_spec(
    root: Path, lib: Library, rule: Item, region: Layer, params: dict[str, Any] | None = None
) -> IndicatorSpec:
    """The indicator as it runs in ``region``: its section with the localised parameters and the tables its
    conditions read (``params`` runs it with these values instead)."""
    if params is None:
        params = effective_params(lib, rule, region)
    try:
        ind = parse_indicator(rule.data.get("indicator"), params)
    except ConditionProblem as problem:
        raise TwokuError(
            f"{rule.id} 的指标（indicator）有误：{problem.message}", hint="运行 twoku validate 查看位置", path=rule.path
        ) from None
    wheres = tuple(m.where for m in ind.measures if m.where is not None)
    tables: dict[str, Any] = {}
    found: dict[str, str] = {}
    if wheres:
        together = AllOf(wheres)
        from twoku.ops.run import _check_patterns

        _check_patterns(together, rule)
        tables = table_refs(root, lib, together)
        found = resolve_patterns(lib, [p.knowledge for p, _ in patterns(together)])
    effective, expires = rule.data.get("effective"), rule.data.get("expires")
    return IndicatorSpec(
        rule.id,
        ind,
        params,
        tables,
        found,
        effective if isinstance(effective, str) else None,
        expires if isinstance(expires, str) else None,
    )


def compute(
    con: Any, root: Path, lib: Library, region: Layer, rules: Sequence[Item], out: Path | None
) -> list[IndicatorResult]:
    """Each indicator over the loaded ``claims``; with ``out``, every institution-period written beside it."""
    from twoku.engine import indicator as engine

    specs = specs_of(con, root, lib, region, rules)
    return results(con, rules, specs, engine.run_indicators(con, specs, region.code), out)


def specs_of(con: Any, root: Path, lib: Library, region: Layer, rules: Sequence[Item]) -> list[IndicatorSpec]:
    """The indicators as they run in ``region``, the tables they read loaded into ``con``."""
    from twoku.ops.run import load_tables

    specs = [indicator_spec(root, lib, r, region) for r in rules]
    load_tables(con, root, lib, specs, region)  # type: ignore[arg-type]  # reads .tables only
    return specs


def results(
    con: Any,
    rules: Sequence[Item],
    specs: Sequence[IndicatorSpec],
    counts: dict[str, tuple[int, int]],
    out: Path | None,
) -> list[IndicatorResult]:
    """What ``run`` reports of the computed table ``indicators``; with ``out``, every row written there."""
    from twoku.engine import indicator as engine

    if out is not None:
        _write_whole(con, out)
    rows = engine.indicator_rows(con, flagged_only=True)
    return [
        IndicatorResult(
            r.id,
            r.title,
            counts[r.id][0],
            counts[r.id][1],
            dict(s.params),
            [row for row in rows if row["rule_id"] == r.id][:20],
        )
        for r, s in zip(rules, specs, strict=True)
    ]


def indicators_path(out: Path) -> Path:
    """Where ``--out 命中.csv`` puts the indicators: ``命中.indicators.csv`` beside it."""
    return out.with_name(f"{out.stem}.indicators{out.suffix}")


def _write_whole(con: Any, out: Path) -> None:
    """Write beside the target and rename: never a half-written indicators file."""
    from twoku.engine.indicator import write_indicators
    from twoku.store.documents.edit import written_beside

    written_beside(out, lambda tmp: write_indicators(con, tmp))


def columns(root: Path, lib: Library, region: Layer, rules: Sequence[Item]) -> set[str]:
    """The claim fields the indicators read: all a CSV load needs to keep for them."""
    from twoku.engine.sql import RuleSpec, columns_used

    used = {"institution_code", "visit_id", "admission_date", "discharge_date", "line_id"}
    for rule in rules:
        spec = indicator_spec(root, lib, rule, region)
        ind = spec.indicator
        baseline = ind.baseline.peers if ind.baseline is not None else ()
        used.update((*ind.per, *baseline, ind.date, *(m.field for m in ind.measures if m.field)))
        wheres = [RuleSpec(rule.id, "", m.where, {}) for m in ind.measures if m.where is not None]
        used |= columns_used(wheres)
    return used
