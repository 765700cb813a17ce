"""``twoku override rebase``: re-bind a drifted override to its upper rule after review.

An override records the digest of the upper rule it was written against; when the
upper rule changes, TK506 says so (no silent drift).  Rebasing shows what changed,
refuses while the override's values fall outside the rule's new bounds, and otherwise
writes the current digest into ``base_digest``, keeping the file's comments and layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from twoku.errors import TwokuError, UsageError
from twoku.model.bounds import bounds_problem, describe_bounds
from twoku.model.digest import content_digest
from twoku.model.fielddiff import field_changes
from twoku.model.library import Item, Library
from twoku.ops.validate import load_store
from twoku.store.writes.faults import writes


@dataclass(frozen=True)
class Rebased:
    id: str
    path: str
    target: str
    old_digest: str
    new_digest: str
    changes: list[str] | None  # None when git history no longer has the version it was written against
    unchanged: bool
    written: bool


@writes
def rebase(root: Path, override_id: str, dry_run: bool = False) -> Rebased:
    from twoku.store.documents.edit import update_values
    from twoku.store.repo.history import version_with_digest

    lib = load_store(root).library
    override = lib.get(override_id)
    if override is None or override.kind != "override":
        raise UsageError(f"库中没有编号为 {override_id} 的本地化", hint="用 twoku ls overrides 查找编号")
    target_id = str(override.data.get("target"))
    target = lib.get(target_id, "rule") or lib.get(target_id, "knowledge")  # a rule, or a table (知识点明细)
    if target is None:
        raise TwokuError(f"目标条目 {target_id} 不存在，无从重新绑定", hint="该本地化已孤立：废弃它或改指向替代条目")
    if target.deprecated:
        raise TwokuError(f"目标条目 {target_id} 已废弃", hint="废弃该本地化，或为替代条目另写本地化")
    old = str(override.data.get("base_digest"))
    new = target.digest
    if old == new:
        return Rebased(override.id, override.path, target.id, old, new, [], True, False)
    before = version_with_digest(root, target.path, old, content_digest)
    changes = None if before is None else [c.describe() for c in field_changes(before, target.data, True)]
    if target.kind == "knowledge":
        changes = [*(changes or []), *_rows_touched(root, lib, target, override.data.get("rows"))]
        changes.append(f"上级表格逐行的增删改：twoku diff 查看 {target.id}（如 twoku diff --since 上次调整的标签）")
    problems = _outside(override.data.get("parameters"), target.data.get("parameters"))
    if problems:
        raise TwokuError(
            f"{override.id} 的参数不在 {target.id} 修改后的范围内，未重新绑定：\n  " + "\n  ".join(problems),
            path=override.path,
            hint="先按新的范围修改本地取值（或删除不再允许的参数），再运行 twoku override rebase " + override.id,
        )
    if not dry_run:
        update_values(root / override.path, {("base_digest",): new})
    return Rebased(override.id, override.path, target.id, old, new, changes, False, not dry_run)


def _rows_touched(root: Path, lib: Library, target: Item, rows: object) -> list[str]:
    """What the upper table now holds of the rows the override removes or adds: the rows to review first."""
    from twoku.model import tables
    from twoku.ops.run import table_of

    spec = tables.spec_of(target.data)
    if spec is None or not isinstance(rows, Mapping):
        return []
    try:
        table = table_of(root, lib, target.id)
    except TwokuError as exc:
        return [f"上级表格读不出：{exc.message}"]
    upper = {table.key_of(row) for row in table.rows}
    out = []
    for entry in rows.get("remove") or ():
        key = tables.key_of_entry(spec, entry) if isinstance(entry, Mapping) else ()
        if key and key not in upper:
            out.append(f"本地删除的行 {'/'.join(key)} 在上级表格中已不存在：删除已无必要")
    for entry in rows.get("add") or ():
        key = tables.key_of_entry(spec, entry) if isinstance(entry, Mapping) else ()
        if key and key in upper:
            out.append(f"本地增补的行 {'/'.join(key)} 现已在上级表格中：本地的这一行会取代上级的同键行，确认仍需要")
    return out


def _outside(local: object, upper: object) -> list[str]:
    """Each localised value the upper rule no longer allows, with the bounds it now has."""
    if not isinstance(local, Mapping):
        return []
    specs = upper if isinstance(upper, Mapping) else {}
    out = []
    for name, value in local.items():
        spec = specs.get(name)
        if not isinstance(spec, Mapping):
            out.append(f"{name}：上级规则已没有这个参数")
            continue
        problem = bounds_problem(spec, value)
        if problem:
            out.append(f"{name}：{problem}（现允许 {describe_bounds(spec)}）")
    return out
