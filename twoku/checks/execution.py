"""Executable rules: the condition means something, and a rule in force has examples that test it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twoku.checks.registry import finding, item_check, store_check, walk
from twoku.checks.tables import column_patterns
from twoku.model import tables
from twoku.model.condition import (
    PATTERN_OPS,
    Condition,
    ConditionProblem,
    code_sets,
    matches,
    parse,
    row_refs,
    tables_read,
)
from twoku.model.findings import WARNING, Finding, Pointer
from twoku.model.library import Item, Library
from twoku.model.regex import UnsafePattern, compile_linear


def _conditioned(lib: Library) -> Iterator[Item]:
    for rule in lib.of_kind("rule"):
        if isinstance(rule.data.get("condition"), Mapping):
            yield rule


@store_check("TK407", "condition-references")
def condition_references(lib: Library) -> Iterator[Finding]:
    """可执行条件（condition）或监测指标（indicator）引用了规则没有的参数、不带代码表的知识或未列入依据的知识；
    用例的 hits 引用了不存在的明细；指标写在非统计指标监测类规则上、与 condition 并存，或其用例写 hits 而非 flags。

    条件与文字逻辑（logic）一样以知识为依据（第八条）：所用代码集的知识条目须带代码表，并列在 basis 中。
    坏：``value: {param: readmision_days}``（参数名拼错）；``value: {codes: CN-K-0030}`` 而 basis 中没有 CN-K-0030
    好：参数名与 parameters 中一致，代码集的知识列入 basis
    """
    for rule in _conditioned(lib):
        params = rule.data.get("parameters")
        try:
            condition = parse(rule.data["condition"], params if isinstance(params, Mapping) else {})
        except ConditionProblem as problem:
            yield finding("TK407", problem.message, rule.path, problem.pointer, rule.id, "按 condition 的写法修改")
            continue
        basis = {b.get("id") for b in rule.data.get("basis") or [] if isinstance(b, Mapping)}
        for code_set, pointer in code_sets(condition):
            item = lib.get(code_set.knowledge, "knowledge")
            spec = tables.spec_of(item.data) if item is not None else None
            if item is None or spec is None:
                why = "不存在" if item is None else "没有代码表（table）"
                yield finding(
                    "TK407",
                    f"代码集 {code_set.knowledge} {why}",
                    rule.path,
                    pointer,
                    rule.id,
                    "引用带代码表的编码类知识",
                )
            elif code_set.knowledge not in basis:
                yield finding(
                    "TK407",
                    f"代码集 {code_set.knowledge} 未列入依据（basis）",
                    rule.path,
                    pointer,
                    rule.id,
                    f"在 basis 中加入 {code_set.knowledge}",
                )
            elif code_set.names:
                yield from _unknown_names(lib, rule, item, spec, code_set.names, pointer)
        yield from _matches(lib, rule, condition, basis)
    yield from _example_hits(lib)
    yield from _example_parameters(lib)
    yield from _indicators(lib)


def _matches(lib: Library, rule: Item, condition: Condition, basis: set[Any]) -> Iterator[Finding]:
    """Each match names a knowledge item with a table, listed in the basis, and columns the table has."""
    for match in matches(condition):
        item = lib.get(match.table, "knowledge")
        spec = tables.spec_of(item.data) if item is not None else None
        at = (*match.pointer, "table")
        if item is None or spec is None:
            why = "不存在" if item is None else "没有表格（table）"
            yield finding("TK407", f"match 的表格 {match.table} {why}", rule.path, at, rule.id, "引用带表格的知识条目")
            continue
        if match.table not in basis:
            hint = f"在 basis 中加入 {match.table}"
            yield finding("TK407", f"表格 {match.table} 未列入依据（basis）", rule.path, at, rule.id, hint)
        names = spec.names if not spec.legacy else None  # the shorthand's columns are as its file's header says
        if names is None:
            continue
        wanted = [(on.column, (*match.pointer, "on", on.field)) for on in match.on]
        if match.where is not None:
            wanted += [(ref.column, pointer) for ref, pointer in row_refs(match.where)]
        for column, pointer in wanted:
            if column not in names:
                message = f"表格 {match.table} 没有列 {column}"
                yield finding("TK407", message, rule.path, pointer, rule.id, "可用的列：" + "、".join(names))


def _unknown_names(
    lib: Library, rule: Item, item: Item, spec: tables.TableSpec, names: tuple[str, ...], pointer: Pointer
) -> Iterator[Finding]:
    """``names:`` that no row of the table carries (a misspelt name selects nothing, and run refuses it)."""
    table = lib.tables.get(tables.table_path(item.path, spec))
    if table is None or not table.readable or "name" not in spec.names:
        return  # the table's own findings say why
    known = tables.present(table, spec.names.index("name"), names)
    unknown = [n for n in names if n not in known]
    if unknown:
        yield finding(
            "TK407",
            f"代码集 {item.id} 的表格中没有名称为 {'、'.join(unknown)} 的行",
            rule.path,
            (*pointer, "names"),
            rule.id,
            f"用 twoku table {item.id} 查看表格中的名称",
        )


def _example_hits(lib: Library) -> Iterator[Finding]:
    for rule in _conditioned(lib):
        examples = rule.data.get("examples")
        for n, example in enumerate(examples if isinstance(examples, list) else []):
            if not isinstance(example, Mapping):
                continue
            if "hits" not in example:
                message = f"用例“{example.get('name')}”没有 hits：逐条判断明细的规则列出应命中的明细"
                yield finding(
                    "TK407", message, rule.path, ("examples", n), rule.id, "写 hits: [明细流水号…]（可为空列表）"
                )
            lines, hits = example.get("lines"), example.get("hits")
            lines = lines if isinstance(lines, list) else []
            hits = hits if isinstance(hits, list) else []
            ids = {line.get("line_id") for line in lines if isinstance(line, Mapping)}
            for k, hit in enumerate(hits):
                if hit not in ids:
                    yield finding(
                        "TK407",
                        f"用例“{example.get('name')}”的 hits 中 {hit} 不是其中任何明细的 line_id",
                        rule.path,
                        ("examples", n, "hits", k),
                        rule.id,
                        "核对明细流水号",
                    )


def _example_parameters(lib: Library) -> Iterator[Finding]:
    """An example's ``parameters`` name parameters of its rule."""
    for rule in lib.of_kind("rule"):
        examples, params = rule.data.get("examples"), rule.data.get("parameters")
        known = set(params) if isinstance(params, Mapping) else set()
        for n, example in enumerate(examples if isinstance(examples, list) else []):
            pinned = example.get("parameters") if isinstance(example, Mapping) else None
            for name in pinned if isinstance(pinned, Mapping) else ():
                if name not in known:
                    at = ("examples", n, "parameters", name)
                    yield finding("TK407", f"用例的参数 {name} 不是规则的参数", rule.path, at, rule.id, "核对参数名")


def _indicators(lib: Library) -> Iterator[Finding]:
    """An indicator (统计指标监测类, model/indicator.py) means something, reads tables of its basis, belongs to a
    rule of that class without a condition, and its examples expect institution-periods (flags), not lines."""
    from twoku.model.indicator import parse_indicator

    for rule in lib.of_kind("rule"):
        section = rule.data.get("indicator")
        if not isinstance(section, Mapping):
            continue
        if rule.data.get("category") != "统计指标监测类":
            hint = "指标只用于统计指标监测类规则；逐条明细判断的规则写 condition"
            yield finding("TK407", "非统计指标监测类规则写了 indicator", rule.path, ("indicator",), rule.id, hint)
        if "condition" in rule.data:
            hint = "一条规则或逐条判断明细（condition），或按机构和统计期计算指标（indicator），二者只写其一"
            yield finding("TK407", "规则同时写了 condition 和 indicator", rule.path, ("indicator",), rule.id, hint)
        params = rule.data.get("parameters")
        try:
            ind = parse_indicator(section, params if isinstance(params, Mapping) else {})
        except ConditionProblem as problem:
            yield finding("TK407", problem.message, rule.path, problem.pointer, rule.id, "按 indicator 的写法修改")
            continue
        basis = {b.get("id") for b in rule.data.get("basis") or [] if isinstance(b, Mapping)}
        for m in ind.measures:
            if m.where is None:
                continue
            for code_set, pointer in code_sets(m.where):
                if code_set.knowledge not in basis:
                    message = f"代码集 {code_set.knowledge} 未列入依据（basis）"
                    yield finding(
                        "TK407", message, rule.path, pointer, rule.id, f"在 basis 中加入 {code_set.knowledge}"
                    )
            yield from _matches(lib, rule, m.where, basis)
        examples = rule.data.get("examples")
        for n, example in enumerate(examples if isinstance(examples, list) else []):
            if isinstance(example, Mapping) and "hits" in example:
                hint = "写 flags: [{institution: 机构编码, period: 2025-03}]，列出应被标记的机构和统计期"
                message = f"指标规则的用例“{example.get('name')}”写了 hits：指标不命中明细"
                yield finding("TK407", message, rule.path, ("examples", n, "hits"), rule.id, hint)


@store_check("TK411", "example-tables")
def example_tables(lib: Library) -> Iterator[Finding]:
    """用例的示例知识点（examples[].tables）不成立：表格不是本规则条件读取的表格，或其中的行不符合表格的列
    （列名、类型、编码规则、必填、键重复）。

    国家种子表只收录核实过的公开行（或尚无行，待 twoku import 补全），规则的用例仍须证明其关联逻辑：
    用例可带它所依据的知识点行，运行该用例时这张表只有这些行。这些行与表格自身的行一样检查，
    以免用例证明的是一张实际不可能存在的表。
    坏：``tables: {CN-K-0031: [...]}`` 而条件只读取 CN-K-0030；``{code: X123, min_age: 十八}``（整数列写了文字）
    好：``tables: {CN-K-0030: [{code: XL02BBA326A001010102180, sex: 男}]}``，各列取值符合表格声明
    """
    for rule in _conditioned(lib):
        examples = rule.data.get("examples")
        for n, example in enumerate(examples if isinstance(examples, list) else []):
            named = example.get("tables") if isinstance(example, Mapping) else None
            if not isinstance(named, Mapping) or not named:
                continue
            read = _tables_read(rule)
            for knowledge_id, rows in named.items():
                at = ("examples", n, "tables", knowledge_id)
                if read is not None and knowledge_id not in read:
                    reads = "、".join(read) or "没有表格"
                    yield finding(
                        "TK411",
                        f"用例“{example.get('name')}”给出表格 {knowledge_id} 的行，但规则的条件不读取它",
                        rule.path,
                        at,
                        rule.id,
                        f"条件读取的表格：{reads}",
                    )
                    continue
                item = lib.get(str(knowledge_id), "knowledge")
                spec = tables.spec_of(item.data) if item is not None else None
                if item is None or spec is None or not isinstance(rows, list):
                    continue  # TK407 says the condition's table is missing; the schema says rows must be a list
                yield from _example_rows(lib, rule, item, spec, [r for r in rows if isinstance(r, Mapping)], at)


def _tables_read(rule: Item) -> list[str] | None:
    """The tables the rule's condition reads, or None where it cannot be parsed (TK407 says why)."""
    params = rule.data.get("parameters")
    try:
        return tables_read(parse(rule.data["condition"], params if isinstance(params, Mapping) else {}))
    except ConditionProblem:
        return None


def _example_rows(
    lib: Library, rule: Item, item: Item, spec: tables.TableSpec, rows: list[Mapping[str, Any]], at: Pointer
) -> Iterator[Finding]:
    """The example's rows checked as the table's own: their columns, cells and keys (not their order)."""

    def bad(message: str, *pointer: str | int, hint: str | None = None) -> Finding:
        return finding("TK411", f"{item.id} 的示例行：{message}", rule.path, (*at, *pointer), rule.id, hint)

    for k, entry in enumerate(rows):
        unknown = [str(c) for c in entry if c not in spec.names]
        if unknown:
            yield bad(f"表格没有列 {'、'.join(unknown)}", k, hint="列：" + "、".join(spec.names))
    table = tables.entries_table(spec, rows, rule.path)
    patterns = column_patterns(lib, item, spec)
    for problem in tables.problems(table, patterns, keys=bool(spec.key)):
        if problem.kind != "order":  # an example lists its rows as it reads best; the engine does not care
            yield bad(problem.message, *((problem.line - 1,) if problem.line else ()), hint=problem.hint)


@store_check("TK610", "examples-missing", WARNING)
def examples_missing(lib: Library) -> Iterator[Finding]:
    """生效的规则有可执行条件（condition）但没有用例（examples），其条件未经 twoku test 检验。

    用例是合成的结算明细及其中应命中的明细：既有应命中的真实情形，也有相近而不应命中的情形。
    坏：``status: 生效``，有 ``condition``，没有 ``examples``
    好：``examples: [{name: 女性结算阿帕他胺片, lines: [{line_id: L1, sex: 女, …}], hits: [L1]}, …]``
    """
    for rule in [*_conditioned(lib), *(r for r in lib.of_kind("rule") if isinstance(r.data.get("indicator"), Mapping))]:
        if rule.active and not rule.data.get("examples"):
            key = "condition" if isinstance(rule.data.get("condition"), Mapping) else "indicator"
            yield finding(
                "TK610",
                "生效规则有可执行条件但没有用例" if key == "condition" else "生效规则有监测指标（indicator）但没有用例",
                rule.path,
                (key,),
                rule.id,
                "在 examples 中写应命中和不应命中的结算明细，用 twoku test 运行",
            )


@item_check("TK408", "regex-unsafe")
def regex_unsafe(item: Item) -> Iterator[Finding]:
    """编码规则（pattern）或条件中 matches、not_matches 的正则表达式无法保证在线性时间内执行。

    这些正则表达式来自下级、上级或技术服务方写的文件，用于 validate 检查代码表和 run 审核明细。
    回溯式的写法可让一次匹配耗时以指数增长（如 ``^(\\d+)+$`` 遇到 34 位数字加一个字母），
    使 validate、intake 长时间停住。twoku 用 RE2 执行它们：RE2 的耗时与文本长度成正比，
    但不支持反向引用、前后断言（lookaround），也不接受展开后过大的表达式。
    坏：``pattern: '^(?=H)H\\d{11}$'``（前瞻断言）；``value: '^(\\d)\\1+$'``（反向引用）
    好：``pattern: '^H[0-9]{11}$'``
    """
    if item.kind == "knowledge" and isinstance(item.data.get("pattern"), str):
        yield from _unsafe(item, item.data["pattern"], ("pattern",))
    if item.kind == "rule" and isinstance(item.data.get("condition"), Mapping):
        for pointer, node in walk(item.data["condition"], ("condition",)):
            if isinstance(node, Mapping) and node.get("op") in PATTERN_OPS and isinstance(node.get("value"), str):
                yield from _unsafe(item, node["value"], (*pointer, "value"))


def _unsafe(item: Item, pattern: str, pointer: Pointer) -> Iterator[Finding]:
    import re

    try:
        re.compile(pattern)
    except re.error:
        return  # not a regular expression at all: the schema (TK2xx) or the condition's check (TK407) says so
    try:
        compile_linear(pattern)
    except UnsafePattern as exc:
        hint = "改写为不用反向引用和前后断言的形式，数字写 [0-9]，避免嵌套的重复（如 (\\d+)+）"
        yield finding("TK408", str(exc), item.path, pointer, item.id, hint)
