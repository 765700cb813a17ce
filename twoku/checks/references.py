"""TK4xx: references — what an item cites exists, is in reach, and is still in force."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from twoku.checks.registry import finding, store_check
from twoku.model.enums import DEPRECATED
from twoku.model.findings import WARNING, Finding
from twoku.model.library import Item, Library
from twoku.model.regex import UnsafePattern, compile_linear

Citation = tuple[Item, int, Any]  # (the citing item, the index in its basis, the ID it cites)
Successors = list[tuple[tuple[str | int, ...], Any]]  # (pointer, the ID) of superseded_by and deprecated.replaced_by
Graph = dict[str, list[tuple[str, tuple[str | int, ...]]]]  # knowledge ID → (knowledge it cites, where)


@dataclass
class _Refs:
    """What every item's basis cites, sorted out in one pass for the checks that follow one another: each of
    them then looks at the few citations it is about (55,000 items cite 100,000 times; four checks walking
    every citation took 0.3 s of a cold validate)."""

    missing: list[Citation] = field(default_factory=list)  # citing no knowledge item (TK401)
    beyond: list[tuple[Item, int, Any, Item]] = field(default_factory=list)  # knowledge outside the chain (TK402)
    deprecated: list[tuple[Item, int, Any, Item]] = field(default_factory=list)  # by an item in force (TK403)
    graph: Graph = field(default_factory=dict)  # knowledge citing knowledge, by basis (TK405)
    successors: list[tuple[Item, Successors]] = field(default_factory=list)  # every item naming a successor


_last: tuple[weakref.ref[Library] | None, _Refs] = (None, _Refs())


def _refs(lib: Library) -> _Refs:
    """The citations of every item, in the library's order (the last answer is kept, for the same library only:
    a library is not changed once built)."""
    global _last
    if _last[0] is not None and _last[0]() is lib:
        return _last[1]
    items = lib.items
    refs = _Refs()
    chains: dict[str, frozenset[str]] = {}  # layer code → the codes of its chain
    for item in items.values():
        data = item.data
        basis = data.get("basis")
        if isinstance(basis, list) and basis:
            kind = item.kind
            layer = item.layer
            chain = None  # TK402 looks at the knowledge cited by items of a layer, not by records
            if layer is not None and kind not in ("argumentation", "adjustment"):
                chain = chains.get(layer.code)
                if chain is None:
                    chain = chains[layer.code] = frozenset(upper.code for upper in layer.chain)
            in_force = data.get("status") != DEPRECATED
            edges: list[tuple[str, tuple[str | int, ...]]] | None = [] if kind == "knowledge" else None
            for n, entry in enumerate(basis):
                if not (type(entry) is dict or isinstance(entry, Mapping)):
                    continue
                ref = entry.get("id")
                cited = items.get(ref) if isinstance(ref, str) else None
                if cited is None or cited.kind != "knowledge":
                    refs.missing.append((item, n, ref))
                    continue
                if chain is not None and cited.layer is not None and cited.layer.code not in chain:
                    refs.beyond.append((item, n, ref, cited))
                if in_force and cited.data.get("status") == DEPRECATED:
                    refs.deprecated.append((item, n, ref, cited))
                if edges is not None:
                    edges.append((cited.id, ("basis", n, "id")))  # its ID: the ref, as a string
            if edges:
                refs.graph[item.id] = edges
        successors: Successors = []
        if "superseded_by" in data:
            successors.append((("superseded_by",), data["superseded_by"]))
        deprecated = data.get("deprecated")
        if deprecated is not None and isinstance(deprecated, Mapping) and "replaced_by" in deprecated:
            successors.append((("deprecated", "replaced_by"), deprecated["replaced_by"]))
        if successors:
            refs.successors.append((item, successors))
    _last = (weakref.ref(lib, _forget), refs)
    return refs


def _forget(_: weakref.ref[Library]) -> None:
    """The library is gone: so is what its items cite (the answer holds its items)."""
    global _last
    _last = (None, _Refs())


@store_check("TK401", "basis-exists")
def basis_exists(lib: Library) -> Iterator[Finding]:
    """依据（basis）引用了不存在的知识条目。第八条：规则库基于知识库产生。

    坏：``basis: [{id: CN-K-0999}]`` 而库中没有 CN-K-0999
    好：先用 twoku new knowledge 录入依据，再引用其编号
    """
    for item, n, ref in _refs(lib).missing:
        what = "不是知识条目" if lib.get(ref) else "不存在"
        yield finding(
            "TK401",
            f"依据 {ref} {what}",
            item.path,
            ("basis", n, "id"),
            item.id,
            "核对编号；可用 twoku ls knowledge 查看现有知识",
        )


@store_check("TK402", "basis-in-reach")
def basis_in_reach(lib: Library) -> Iterator[Finding]:
    """依据引用了本层级链之外的知识（下级或其他地区的知识）。

    一个条目只能引用本层级或上级（国家 → 本省 → 本市）的知识：上级规则不能依据下级知识，
    一个省也不能依据另一个省的知识。
    """
    for item, n, ref, cited in _refs(lib).beyond:
        yield finding(
            "TK402",
            f"{item.id}（{item.layer}）不能引用 {cited.layer} 层的知识 {ref}",
            item.path,
            ("basis", n, "id"),
            item.id,
            "只能引用本层级或上级的知识；需要时在本层录入相应知识",
        )


@store_check("TK403", "basis-deprecated")
def basis_deprecated(lib: Library) -> Iterator[Finding]:
    """依据引用了已废弃的知识。生效条目引用废弃知识为错误，其他状态为警告。

    依据被替代时（第十五条：所依据的法律法规、政策文件出现重大调整），应启动即时调整，
    把引用改为替代它的知识。
    """
    for item, n, ref, cited in _refs(lib).deprecated:
        successor = cited.data.get("superseded_by")
        hint = f"改为引用替代它的 {successor}" if successor else "改为引用现行有效的知识"
        severity = None if item.active else WARNING
        yield finding(
            "TK403", f"依据 {ref}（{cited.title}）已废弃", item.path, ("basis", n, "id"), item.id, hint, severity
        )


@store_check("TK404", "successor-exists")
def successor_exists(lib: Library) -> Iterator[Finding]:
    """被替代为（superseded_by）或替代条目（deprecated.replaced_by）指向不存在的条目。"""
    for item, refs in _refs(lib).successors:
        for pointer, ref in refs:
            target = lib.get(ref)
            if target is None or target.kind != item.kind:
                yield finding(
                    "TK404", f"替代条目 {ref} 不存在", item.path, pointer, item.id, "填写库中已有的同类条目编号"
                )
            elif target.id == item.id:
                yield finding("TK404", "条目不能被自己替代", item.path, pointer, item.id)


def _acyclic(graph: dict[str, list[tuple[str, Any]]]) -> bool:
    """Whether a graph (node → [(target, label)]; a node without edges may be left out) has no cycle."""
    state: dict[str, bool] = {}  # True while on the path, False when done
    for start, edges in graph.items():
        if start in state:
            continue
        state[start] = True
        stack = [(start, iter(edges))]
        while stack:
            node, todo = stack[-1]
            for target, _ in todo:
                seen = state.get(target)
                if seen is None:
                    further = graph.get(target)
                    if further:
                        state[target] = True
                        stack.append((target, iter(further)))
                        break
                    state[target] = False
                elif seen:
                    return False
            else:
                state[node] = False
                stack.pop()
    return True


@store_check("TK405", "knowledge-cycle")
def knowledge_cycle(lib: Library) -> Iterator[Finding]:
    """知识之间的引用（basis、superseded_by）成环：A 依据 B，B 又依据 A。

    环使“依据从何而来”无从回答，也会使即时调整的影响分析无法终止。环上的每一条知识都会报告，
    并给出从它出发、回到它的最短一环；去掉环上任意一处引用即可。
    """
    refs = _refs(lib)
    graph: Graph = {node: list(edges) for node, edges in refs.graph.items()}
    for item, successors in refs.successors:
        if item.kind != "knowledge":
            continue
        for pointer, successor in successors:
            if pointer == ("superseded_by",) and isinstance(successor, str) and lib.get(successor, "knowledge"):
                graph.setdefault(item.id, []).append((successor, pointer))
    if _acyclic(graph):
        return  # nearly always: the search below, which names each cycle, is needed only when there is one
    # Whether an item lies on a cycle depends only on what it reaches and what reaches it (its strongly
    # connected component), never on where a search began: validate re-checks cycles after an edit from
    # the knowledge downstream of it alone (model/scope.py).
    for component in _cyclic_components(graph):
        for node in sorted(component):
            loop, pointer = _shortest_loop(graph, node, component)
            item = lib.items[node]
            yield finding(
                "TK405",
                f"知识引用成环：{' → '.join(loop)}",
                item.path,
                pointer,
                node,
                "去掉环上的一处引用；依据应从法律法规指向具体知识，而不回指",
            )


def _cyclic_components(graph: Graph) -> list[set[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm, without recursion)."""
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for start in sorted(graph):
        if start in number:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, index = work.pop()
            if index == 0:
                number[node] = low[node] = len(number)
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, [])
            if index < len(edges):
                work.append((node, index + 1))
                target = edges[index][0]
                if target not in number:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], number[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or any(target == node for target, _ in edges):
                    out.append(component)
    return out


def _shortest_loop(graph: Graph, node: str, component: set[str]) -> tuple[list[str], tuple[str | int, ...]]:
    """The shortest way from ``node`` back to itself within its component, and the pointer of its first step."""
    first: dict[str, tuple[str | int, ...]] = {}
    came: dict[str, str] = {}
    queue: list[str] = []
    for target, pointer in graph[node]:
        if target in component and target not in first:
            first[target] = pointer
            came[target] = node
            queue.append(target)
    for current in queue:  # breadth first: the queue grows while it is read
        if current == node:
            break
        for target, _ in graph.get(current, []):
            if target in component and target not in came:
                came[target] = current
                first[target] = first[current]
                queue.append(target)
    loop = [node]
    step = came[node]
    while step != node:
        loop.append(step)
        step = came[step]
    loop.append(node)
    loop.reverse()
    return loop, first[node]


@store_check("TK406", "code-table")
def code_table(lib: Library) -> Iterator[Finding]:
    """医保信息业务编码条目的代码表（table）缺失，或其中的代码不符合 pattern。

    坏：pattern ``^H\\d{11}$`` 而代码表中有 ``H1234``
    好：代码表中的每个代码都符合编码规则
    """
    for item in lib.of_kind("knowledge"):
        table = item.data.get("table")
        if not isinstance(table, str):
            continue
        path = item.path.rsplit("/", 1)[0] + "/" + table
        codes = lib.tables.get(path)
        if codes is None:
            yield finding(
                "TK406",
                f"代码表 {table} 不存在或不是 UTF-8 CSV",
                item.path,
                ("table",),
                item.id,
                f"在 {path} 放置代码表（首行为表头，首列为代码）",
            )
            continue
        pattern = item.data.get("pattern")
        try:
            regex = re.compile(pattern, re.ASCII) if isinstance(pattern, str) else None
        except re.error:
            yield finding("TK406", f"编码规则 {pattern} 不是有效的正则表达式", item.path, ("pattern",), item.id)
            continue
        try:  # run by RE2, in linear time: a backtracking pattern cannot hang validate (TK408)
            regex = compile_linear(pattern) if isinstance(pattern, str) else None
        except UnsafePattern:
            continue  # TK408 says so; its codes are not tried
        bad = [c for c in codes if regex and not regex.fullmatch(c)]
        if bad:
            sample = "、".join(bad[:3])
            yield finding(
                "TK406",
                f"代码表 {table} 中有 {len(bad)} 个代码不符合编码规则：{sample}",
                item.path,
                ("table",),
                item.id,
                f"编码规则为 {pattern}",
            )
