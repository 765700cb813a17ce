"""``twoku table``: a knowledge item's table (知识点明细), seen and sealed.

Sealing puts a table under change control: its rows are sorted by key and written in the canonical
form (UTF-8, LF, the header of the columns' names), and the item records the number of rows and their
digest (model/tables.py).  From then on the item's content digest covers its rows, so an edit of the
table shows in diff, makes sign-offs stale and asks overrides to review; an edit not sealed is a
validate error (TK429).  A legacy ``table: X.csv`` is turned into the full declaration as it is sealed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model import tables
from twoku.model.library import Item, Library, table_overrides
from twoku.model.tables import Sealed, Table, TableView
from twoku.ops.library import region_layer
from twoku.ops.validate import load_store
from twoku.store import files
from twoku.store.writes.faults import writes


def knowledge_with_table(lib: Library, item_id: str) -> tuple[Item, tables.TableSpec]:
    item = lib.get(item_id)
    if item is None or item.kind != "knowledge":
        raise UsageError(f"库中没有编号为 {item_id} 的知识条目", hint="用 twoku ls knowledge 查找编号")
    spec = tables.spec_of(item.data)
    if spec is None:
        raise UsageError(
            f"{item_id} 没有声明表格（table）", hint="在条目中声明 table：文件、列和键（见 README“知识点明细表”）"
        )
    return item, spec


def read(root: Path, lib: Library, item: Item, spec: tables.TableSpec) -> Table:
    path = tables.table_path(item.path, spec)
    table = lib.tables.get(path) if path in lib.tables else files.read_table(root, path, spec)
    if table is None:
        raise TwokuError(f"表格文件 {path} 不存在", path=item.path, hint="把 CSV 放在条目旁边，或改正 table.file")
    return table


@writes
def seal(root: Path, item_id: str) -> Sealed:
    """Sort and canonicalise the table's file and record its rows' digest in the item."""
    lib = load_store(root).library
    item, spec = knowledge_with_table(lib, item_id)
    table = read(root, lib, item, spec)
    fatal = [p for p in table.problems if p.kind != "encoding" or not table.readable]
    fatal += [p for p in tables.problems(table, {}) if p.kind in ("duplicate", "conflict")]
    if not table.readable or fatal:
        shown = "\n  ".join(f"第 {p.line} 行：{p.message}" for p in (fatal or table.problems)[:10])
        raise TwokuError(
            f"表格 {table.path} 有问题，未封存：\n  {shown}",
            path=table.path,
            hint="改正后再封存；twoku validate 列出全部问题",
        )
    digest = tables.rows_digest(table)
    text = tables.canonical_text(table)
    from twoku.store.documents.edit import atomic_write, update_values

    raw = (root / table.path).read_bytes()
    rewritten = raw != text.encode("utf-8")
    if rewritten:
        atomic_write(root / table.path, text.encode("utf-8"))
    declared = spec.legacy
    changes: dict[tuple[str | int, ...], Any] = {}
    if declared:
        changes[("table",)] = _declaration(table.spec, len(table.rows), digest)
    elif spec.digest != digest or spec.rows != len(table.rows):
        changes[("table", "rows")] = len(table.rows)
        changes[("table", "digest")] = digest
    if changes:
        update_values(root / item.path, changes)
    return Sealed(item.id, item.path, table.path, len(table.rows), spec.digest, digest, rewritten, declared)


def _declaration(spec: tables.TableSpec, rows: int, digest: str) -> dict[str, Any]:
    """The full declaration of a legacy code table: its columns as they were read."""
    columns: list[Mapping[str, Any]] = []
    for column in spec.columns:
        entry: dict[str, Any] = {"name": column.name, "title": column.title, "type": column.type}
        if column.system:
            entry["system"] = column.system
        columns.append(entry)
    from twoku.store.documents.edit import flow

    return {
        "file": spec.file,
        "key": flow(list(spec.key)),
        "columns": columns,  # block style: the quick reader (store/documents/quickyaml.py) takes it, flow mappings not
        "rows": rows,
        "digest": digest,
    }


def view(root: Path, item_id: str, region: str | None = None) -> TableView:
    lib = load_store(root).library
    item, spec = knowledge_with_table(lib, item_id)
    table = read(root, lib, item, spec)
    if not table.readable:
        problem = table.problems[0]
        raise TwokuError(f"读不出表格 {table.path}：{problem.message}", path=table.path, hint=problem.hint)
    own = item.layer.code if item.layer else ""
    chain = region_layer(region, lib) if region else item.layer
    overrides = table_overrides(lib, item.id, chain) if chain is not None else []
    effective = tables.layered(table, own, overrides)  # the upper rows, less those removed, plus those added
    sealed = spec.digest == tables.rows_digest(table)
    title = str(item.data.get("title") or "")
    return TableView(
        item.id, title, table.path, spec.columns, spec.key, effective.rows, effective.layers, region, sealed
    )
