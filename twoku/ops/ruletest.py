"""``twoku test``: run each rule's examples and say which pass.

An example is a handful of synthetic claim lines and the line IDs among them that must
hit; every other line must not.  Without a region a rule is tested with its own layer's
parameters (a national rule with the national values), so an example pins down what the
rule as written and argued does.

With ``--region`` each rule of the region's effective library runs with the values in force
there.  An example is written for its rule's own values ("间隔恰为14天不命中"); when it fails
under the region's values and holds under the rule's own, it is reported as depending on the
value the region changed, naming the parameter, not as a failure.  This is detected, not
declared: an example would otherwise have to list the values it assumes, and that list could
go stale as silently as the prose did; running the example both ways cannot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from twoku.engine.sql import RuleSpec
from twoku.errors import TwokuError, UsageError
from twoku.model import tables
from twoku.model.library import Item, Library, effective_rule
from twoku.model.prose import value_words
from twoku.model.regions import Layer, layer_name
from twoku.model.runs import ExampleOutcome, LocalValue, RuleTestReport
from twoku.ops.library import region_layer
from twoku.ops.run import effective_params, load_tables, rule_spec, table_of
from twoku.ops.validate import load_store


def _candidates(rules: list[Item], rule_ids: Sequence[str]) -> list[Item]:
    if not rule_ids:
        return [r for r in rules if isinstance(r.data.get("condition"), Mapping) and not r.deprecated]
    by_id = {r.id: r for r in rules}
    chosen = []
    for rule_id in rule_ids:
        if rule_id not in by_id:
            raise UsageError(f"库中没有规则 {rule_id}", hint="用 twoku ls rules 查找编号")
        if not isinstance(by_id[rule_id].data.get("condition"), Mapping):
            raise UsageError(f"{rule_id} 没有可执行条件（condition），无可测试")
        chosen.append(by_id[rule_id])
    return chosen


def _in_region(lib: Library, region: Layer, rule_ids: Sequence[str]) -> list[Item]:
    for rule_id in rule_ids:
        rule = lib.get(rule_id, "rule")
        if rule is not None and not lib.in_region(rule, region):
            raise UsageError(f"{rule_id} 不在 {region} 的生效库中", hint=f"改用 --region {rule.layer}，或去掉 --region")
    return [r for r in lib.of_kind("rule") if lib.in_region(r, region)]


def _local_values(lib: Library, rule: Item, region: Layer, names: dict[str, str]) -> list[LocalValue]:
    """The parameters whose value in ``region`` is not the rule's own."""
    out = []
    for name, spec in effective_rule(lib, rule, region).parameters.items():
        sourced = spec["value"]
        if sourced.source == rule.id:
            continue
        own = rule.data["parameters"][name]
        own_value = own.get("value") if isinstance(own, Mapping) else own
        if own_value == sourced.value:
            continue
        unit = spec.get("unit") if isinstance(spec.get("unit"), str) else None
        out.append(
            LocalValue(
                name,
                value_words(own_value, unit),
                value_words(sourced.value, unit),
                layer_name(sourced.layer, names),
                sourced.source,
            )
        )
    return out


def run_examples(root: Path, rule_ids: Sequence[str] = (), region: str | None = None) -> RuleTestReport:
    import time

    from twoku.engine import duck

    started = time.perf_counter()
    lib = load_store(root).library
    names = lib.region_names()
    layer = region_layer(region, lib) if region else None
    rules = _candidates(_in_region(lib, layer, rule_ids) if layer else lib.of_kind("rule"), rule_ids)
    con = duck.connect(threads=1)
    outcomes: list[ExampleOutcome] = []
    untested: list[str] = []
    for rule in rules:
        examples = rule.data.get("examples")
        if not isinstance(examples, list) or not examples:
            untested.append(rule.id)
            continue
        assert rule.layer is not None
        try:
            spec = rule_spec(root, lib, rule, layer or rule.layer)
            load_tables(con, root, lib, [spec], layer or rule.layer)
        except TwokuError as exc:
            outcomes += [ExampleOutcome(rule.id, _name(e, n), (), (), exc.message) for n, e in enumerate(examples)]
            continue
        local = _local_values(lib, rule, layer, names) if layer else []
        for n, example in enumerate(examples):
            outcome = _run_one(con, root, lib, spec, rule.id, n, example)
            if not outcome.passed and outcome.error is None and local:
                assert layer is not None
                outcome = _explained(con, root, lib, rule, layer, n, example, outcome, local)
            outcomes.append(outcome)
    return RuleTestReport(
        outcomes,
        untested,
        time.perf_counter() - started,
        layer.code if layer else None,
        layer_name(layer, names) if layer else None,
    )


def _explained(
    con: Any,
    root: Path,
    lib: Library,
    rule: Item,
    region: Layer,
    n: int,
    example: Any,
    outcome: ExampleOutcome,
    local: list[LocalValue],
) -> ExampleOutcome:
    """An example failing with the region's values: does it hold with the rule's own?  Then it depends
    on what the region changed; each changed value alone on top of the rule's own says which."""
    from dataclasses import replace

    assert rule.layer is not None
    own = {k: (v.get("value") if isinstance(v, Mapping) else v) for k, v in rule.data["parameters"].items()}
    if not _run_one(con, root, lib, rule_spec(root, lib, rule, rule.layer, own), rule.id, n, example).passed:
        return outcome  # wrong with the rule's own values too: a plain failure
    in_region = effective_params(lib, rule, region)
    culprits = []
    for value in local:
        alone = rule_spec(root, lib, rule, rule.layer, {**own, value.name: in_region[value.name]})
        if not _run_one(con, root, lib, alone, rule.id, n, example).passed:
            culprits.append(value)
    return replace(outcome, depends_on=tuple(culprits or local))


def _name(example: Any, n: int) -> str:
    name = example.get("name") if isinstance(example, Mapping) else None
    return str(name) if name else f"用例 {n + 1}"


def _run_one(con: Any, root: Path, lib: Library, spec: RuleSpec, rule_id: str, n: int, example: Any) -> ExampleOutcome:
    from twoku.engine import duck

    lines = example.get("lines") if isinstance(example, Mapping) else None
    expected = tuple(str(h) for h in (example.get("hits") or [])) if isinstance(example, Mapping) else ()
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        return ExampleOutcome(rule_id, _name(example, n), expected, (), "用例没有结算明细（lines）")
    try:
        spec = _with_example_rows(con, root, lib, spec, example)
        got = tuple(duck.example_hits(con, spec, lines))
    except TwokuError as exc:
        return ExampleOutcome(rule_id, _name(example, n), expected, (), exc.message)
    return ExampleOutcome(rule_id, _name(example, n), expected, got)


def _with_example_rows(con: Any, root: Path, lib: Library, spec: RuleSpec, example: Mapping[str, Any]) -> RuleSpec:
    """``spec`` reading, for each table the example gives rows of (``tables``), exactly those rows: loaded beside
    the real table under their own name, so the real rows stay loaded for the next example."""
    from dataclasses import replace

    from twoku.engine import duck

    named = example.get("tables")
    if not isinstance(named, Mapping) or not named:
        return spec
    refs = dict(spec.tables)
    for knowledge_id, entries in named.items():
        ref = spec.tables.get(knowledge_id)
        if ref is None:
            hint = "运行 twoku validate 查看 TK411"
            raise TwokuError(f"用例给出表格 {knowledge_id} 的行，但规则的条件不读取它", hint=hint)
        table_spec = table_of(root, lib, knowledge_id).spec  # as read: a shorthand table's columns are its header's
        rows = tables.entries_table(table_spec, [e for e in entries or () if isinstance(e, Mapping)], "")
        bad = next((p for p in tables.problems(rows, {}, keys=bool(table_spec.key)) if p.kind != "order"), None)
        if bad is not None:
            where = f"第 {bad.line} 行" if bad.line else ""
            raise TwokuError(f"{knowledge_id} 的示例行{where}：{bad.message}", hint="运行 twoku validate 查看 TK411")
        relation = f"{ref.relation}_example"
        duck.load_rows(con, relation, [(c.name, c.type) for c in table_spec.columns], rows.rows)
        refs[knowledge_id] = replace(ref, relation=relation)
    return replace(spec, tables=refs)
