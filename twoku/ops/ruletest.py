"""``twoku test``: run each rule's examples and say which pass.

An example is a handful of synthetic claim lines and the line IDs among them that must
hit; every other line must not.  A rule is tested with its own layer's parameters (a
national rule with the national values), so an example pins down what the rule as
written and argued does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model.library import Item
from twoku.model.runs import ExampleOutcome, RuleTestReport
from twoku.ops.run import load_tables, rule_spec
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


def run_examples(root: Path, rule_ids: Sequence[str] = ()) -> RuleTestReport:
    import time

    from twoku.engine import duck

    started = time.perf_counter()
    lib = load_store(root).library
    rules = _candidates(lib.of_kind("rule"), rule_ids)
    con = duck.connect(threads=1)
    outcomes: list[ExampleOutcome] = []
    untested: list[str] = []
    for rule in rules:
        examples = rule.data.get("examples")
        if not isinstance(examples, list) or not examples:
            untested.append(rule.id)
            continue
        try:
            assert rule.layer is not None
            spec = rule_spec(root, lib, rule, rule.layer)
            load_tables(con, root, lib, [spec])
        except TwokuError as exc:
            outcomes += [ExampleOutcome(rule.id, _name(e, n), (), (), exc.message) for n, e in enumerate(examples)]
            continue
        for n, example in enumerate(examples):
            outcomes.append(_run_one(con, spec, rule.id, n, example))
    return RuleTestReport(outcomes, untested, time.perf_counter() - started)


def _name(example: Any, n: int) -> str:
    name = example.get("name") if isinstance(example, Mapping) else None
    return str(name) if name else f"用例 {n + 1}"


def _run_one(con: Any, spec: Any, rule_id: str, n: int, example: Any) -> ExampleOutcome:
    from twoku.engine import duck

    lines = example.get("lines") if isinstance(example, Mapping) else None
    expected = tuple(str(h) for h in (example.get("hits") or [])) if isinstance(example, Mapping) else ()
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        return ExampleOutcome(rule_id, _name(example, n), expected, (), "用例没有结算明细（lines）")
    try:
        got = tuple(duck.example_hits(con, spec, lines))
    except TwokuError as exc:
        return ExampleOutcome(rule_id, _name(example, n), expected, (), exc.message)
    return ExampleOutcome(rule_id, _name(example, n), expected, got)
