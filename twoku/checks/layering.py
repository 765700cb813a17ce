"""TK5xx: layering — overrides localise an upper rule of their own chain, within bounds.

A lower layer never edits an upper file; it writes an override (DESIGN.md).  When the
upper rule changes under it, the override's ``base_digest`` no longer matches and the
override must be reviewed: no silent drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twoku.checks.registry import finding, store_check
from twoku.model.bounds import bounds_problem, describe_bounds
from twoku.model.findings import WARNING, Finding
from twoku.model.library import Item, Library


def _target(lib: Library, override: Item) -> Item | None:
    """The rule an override localises, or the knowledge item whose table it adds rows to or removes rows from."""
    target = lib.get(override.data.get("target"))
    return target if target is not None and target.kind in ("rule", "knowledge") else None


@store_check("TK501", "override-target-exists")
def target_exists(lib: Library) -> Iterator[Finding]:
    """本地化（override）的目标规则不存在：孤立的本地化。

    目标被删除或改号后，本地化不再作用于任何规则。
    """
    for override in lib.of_kind("override"):
        target = override.data.get("target")
        if isinstance(target, str) and _target(lib, override) is None and not override.deprecated:
            yield finding(
                "TK501",
                f"目标规则 {target} 不存在，本地化已成孤立条目",
                override.path,
                ("target",),
                override.id,
                "核对目标编号；若上级已删除该规则，请废弃本条本地化",
            )


@store_check("TK502", "override-target-deprecated")
def target_deprecated(lib: Library) -> Iterator[Finding]:
    """本地化的目标规则已废弃：孤立的本地化，应随之废弃或改为本地化替代规则。"""
    for override in lib.of_kind("override"):
        target = _target(lib, override)
        if target is None or not target.deprecated or override.deprecated:
            continue
        dep = target.data.get("deprecated")
        successor = dep.get("replaced_by") if isinstance(dep, Mapping) else None
        hint = (
            f"改为本地化替代规则 {successor}（twoku new override {successor}），并废弃本条"
            if successor
            else "废弃本条本地化"
        )
        yield finding(
            "TK502", f"目标规则 {target.id}（{target.title}）已废弃", override.path, ("target",), override.id, hint
        )


@store_check("TK503", "override-in-chain")
def target_in_chain(lib: Library) -> Iterator[Finding]:
    """本地化的目标不是本层级链上的上级规则。

    市只能本地化本省或国家的规则，省只能本地化国家的规则；本层自己的规则直接修改即可。
    """
    for override in lib.of_kind("override"):
        target = _target(lib, override)
        if target is None or target.layer is None or override.layer is None:
            continue
        if not target.layer.is_above(override.layer):
            if target.layer == override.layer:
                why, hint = "是本层自己的规则", "直接修改该规则，无需本地化"
            else:
                why, hint = f"属于 {target.layer}，不在 {override.layer} 的上级链中", "只能本地化国家或本省的规则"
            yield finding("TK503", f"目标规则 {target.id} {why}", override.path, ("target",), override.id, hint)


@store_check("TK504", "override-localisable")
def localisable(lib: Library) -> Iterator[Finding]:
    """本地化调整了上级规则中不存在或未标明可本地化（localisable）的参数。"""
    for override, target, name, spec in _parameters(lib):
        if spec is None:
            names = "、".join(sorted(target.data.get("parameters") or {})) or "（无参数）"
            yield finding(
                "TK504",
                f"目标规则 {target.id} 没有参数 “{name}”",
                override.path,
                ("parameters", name),
                override.id,
                f"可用参数：{names}",
            )
        elif not isinstance(spec.get("localisable"), Mapping):
            yield finding(
                "TK504",
                f"参数 “{name}” 未被 {target.id} 标明可本地化",
                override.path,
                ("parameters", name),
                override.id,
                "只能调整上级标明 localisable 的参数；确需调整请向上级报告（twoku report-upstream）",
            )


@store_check("TK505", "override-bounds")
def within_bounds(lib: Library) -> Iterator[Finding]:
    """本地化的参数取值超出上级规则给出的范围（localisable 的 min/max/choices）。

    坏：上级 ``readmission_days`` 可在 7～30 天之间调整，本地写 ``readmission_days: 60``
    好：``readmission_days: 10``
    """
    for override, target, name, spec in _parameters(lib):
        if spec is None or not isinstance(spec.get("localisable"), Mapping):
            continue
        value = (override.data.get("parameters") or {})[name]
        problem = bounds_problem(spec, value)
        if problem:
            yield finding(
                "TK505",
                f"参数 “{name}”：{problem}",
                override.path,
                ("parameters", name),
                override.id,
                f"{target.id} 允许的范围：{describe_bounds(spec)}",
            )


@store_check("TK506", "override-drift")
def drift(lib: Library) -> Iterator[Finding]:
    """本地化编写时所依据的上级规则已被修改（base_digest 与目标规则的内容摘要不再相符）。

    上级调整了规则（阈值、逻辑、范围……），下级不能在不知情的情况下继续沿用旧的本地化。
    复核变化后用 ``twoku override rebase <编号>`` 重新绑定。
    """
    for override in lib.of_kind("override"):
        target = _target(lib, override)
        base = override.data.get("base_digest")
        if target is None or target.deprecated or not isinstance(base, str) or override.deprecated:
            continue
        if target.layer is None or override.layer is None or not target.layer.is_above(override.layer):
            continue  # TK503: not a rule this override may localise at all
        current = target.digest
        if base != current:
            severity = None if override.active else WARNING
            item = finding(
                "TK506",
                f"目标规则 {target.id} 在本地化编写后已被修改",
                override.path,
                ("base_digest",),
                override.id,
                f"复核上级的修改后运行 twoku override rebase {override.id}",
                severity,
            )
            item.extra.update(target=target.id, base_digest=base, current_digest=current, target_path=target.path)
            yield item


@store_check("TK507", "override-one-per-layer")
def one_per_layer(lib: Library) -> Iterator[Finding]:
    """同一层级对同一条规则有两个以上生效的本地化：哪一个算数说不清。

    一个地区对一条上级规则只有一个本地化取值（第五条）；两个都生效时，``show`` 和 ``run``
    只会按编号顺序让后一个悄悄覆盖前一个。应合并为一个，把另一个废弃或改回草稿。

    坏：510100-O-0002 与 510100-O-0005 都本地化 CN-R-0017，且都为 生效
    好：只保留 510100-O-0002（需要改的取值改在它里面），510100-O-0005 废弃
    """
    by_layer: dict[tuple[str, str], list[Item]] = {}
    for override in lib.of_kind("override"):
        target = override.data.get("target")
        if override.active and isinstance(target, str) and override.layer is not None:
            by_layer.setdefault((target, override.layer.code), []).append(override)
    for (target, _), overrides in by_layer.items():
        if len(overrides) < 2:
            continue
        for override in overrides:
            others = "、".join(f"{o.id}（{o.path}）" for o in overrides if o is not override)
            yield finding(
                "TK507",
                f"本层还有生效的本地化 {others} 也本地化 {target}",
                override.path,
                ("target",),
                override.id,
                "把需要的取值合并到其中一个本地化，另一个改为 废弃（写明 deprecated）或 草稿",
            )


def _parameters(lib: Library) -> Iterator[tuple[Item, Item, str, Mapping[str, Any] | None]]:
    for override in lib.of_kind("override"):
        target = _target(lib, override)
        params = override.data.get("parameters")
        if target is None or not isinstance(params, Mapping):
            continue
        upper = target.data.get("parameters")
        upper = upper if isinstance(upper, Mapping) else {}
        for name in params:
            spec = upper.get(name)
            yield override, target, str(name), spec if isinstance(spec, Mapping) else None
