"""``twoku import``: NHSA's 知识点明细 workbooks and the national code database exports, under change control.

``nhsa`` reads a batch's workbooks (model/importing.py understands them), makes the class's knowledge table
in the chosen layer, checks it as ``validate`` would (cells, patterns, keys) before anything is written, writes
it sealed (the same rows digest and canonical text as ``twoku table seal``), records the batch as a 政策规范
knowledge item the table cites, commits all of it with a summary of the rows added, removed and changed, and
opens an instant adjustment (第十五条) due by the batch's effective date (第十六条) where it is given.
``codes`` fills a code system's table from a code database export, its pattern enforced.

Either completes or leaves the store as it was (store/writes/faults.py); a problem anywhere stops it before the first
write.  Importing the same workbook again writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model import tables
from twoku.model.framework import RULE_KINDS, RuleKind, find
from twoku.model.importing import Built, Imported, WorkbookProblem, batch_number, summary_of
from twoku.model.layout import expected_path, schema_ref
from twoku.model.layouts import build_codes, build_points, keep_rows, widen
from twoku.model.library import Item, Library
from twoku.model.regions import Layer, parse_layer
from twoku.ops.validate import load_store
from twoku.store.writes.faults import writes

Progress = Callable[[str], None]
FACT_CLASS, FACT_CODE = "规则类别", "框架编码"  # the facts by which a class's table item is found again
NHSA = "国家医疗保障局"


def _quiet(_: str) -> None:
    pass


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} “{text}” 不是有效日期", hint="日期写作 YYYY-MM-DD，如 2026-01-01") from None


def rule_kind(text: str) -> RuleKind:
    kind = find(text)
    if kind is None:
        near = [k.name for k in RULE_KINDS if text.strip() and (text.strip() in k.name or k.name in text)]
        raise UsageError(
            f"--class {text}：不是国家规则框架中的规则类别",
            hint=("是否指：" + "、".join(near[:5]) + "？")
            if near
            else "写类别名称（如 药品区分性别使用）或框架编码（如 GZ10000301004000）；twoku import nhsa --help 有说明",
        )
    return kind


def _layer(lib: Library, code: str | None) -> Layer:
    own = str(lib.config.get("region") or "CN")
    chosen = code or own
    try:
        layer = parse_layer(chosen)
    except ValueError as exc:
        raise UsageError(f"--layer {chosen}：{exc}", hint="国家写 CN，省如 510000，市如 510100") from None
    _writable(own, layer, f"--layer {chosen}")
    return layer


def _writable(own: str, layer: Layer, what: str) -> None:
    if own not in {upper.code for upper in layer.chain}:
        raise UsageError(
            f"{what} 不是本库（{own}）的层级或其下级：下级不改上级的文件",
            hint=f"写入本层 {own}；上级的表格由上级导入后发布（twoku release / intake）",
        )


def _systems(lib: Library, layer: Layer) -> dict[str, str]:
    """The code systems a table of ``layer`` may use: coding items with a pattern, of this layer or above."""
    out = {}
    for item in lib.of_kind("knowledge"):
        pattern = item.data.get("pattern")
        if isinstance(pattern, str) and pattern and lib.in_region(item, layer) and not item.deprecated:
            out[item.id] = pattern
    return out


def _read(paths: Sequence[Path], progress: Progress) -> list[Any]:
    from twoku.store.workbook import read_sheets

    sheets = []
    for path in paths:
        progress(f"读取 {path.name} …")
        sheets.extend(read_sheets(path))
    return sheets


def _refuse(problem: WorkbookProblem) -> TwokuError:
    return TwokuError(problem.message, hint=problem.hint)


def _check(built: Built, spec: tables.TableSpec, path: str, systems: Mapping[str, str]) -> tables.Table:
    """The new table, checked cell by cell and key by key as validate checks it; refused on any problem."""
    table = tables.Table(spec, path, rows=built.rows, lines=list(range(2, len(built.rows) + 2)))
    found = list(tables.problems(table, systems, keys=False))
    if found:
        shown = "\n  ".join(f"{p.message}" for p in found[:20])
        raise TwokuError(f"导入的表格有 {len(found)} 处问题，未写入：\n  {shown}", hint="改正工作簿后重新导入")
    return table


def _owned(lib: Library, layer: Layer, kind: RuleKind) -> Item | None:
    for item in lib.of_kind("knowledge"):
        facts = item.data.get("facts")
        if (
            item.layer == layer
            and "table" in item.data
            and isinstance(facts, dict)
            and facts.get(FACT_CLASS) == kind.name
        ):
            return item
    return None


def _batch_title(kind: RuleKind, batch: str | None, names: Sequence[str]) -> str:
    return f"{NHSA}{kind.name}知识点明细（{batch or '、'.join(names)}）"


def _next_ids(root: Path, lib: Library, layer: Layer, count: int) -> list[str]:
    from twoku.ops.new import next_id

    first = int(next_id(root, lib, layer, "knowledge").rsplit("-", 1)[1])
    return [f"{layer.code}-K-{first + n:04d}" for n in range(count)]


def _yaml(path: str, data: dict[str, Any]) -> bytes:
    from twoku.ops.validate import schema_problems
    from twoku.store.documents.edit import dump

    problems = schema_problems("knowledge", data)
    if problems:  # a bug of ours rather than the user's: say so plainly
        raise TwokuError(f"{path} 不符合 schema，未写入：\n  " + "\n  ".join(problems))
    shown = {k: dt.date.fromisoformat(v) if k in ("issued", "effective") else v for k, v in data.items()}
    head = f"# yaml-language-server: $schema={schema_ref(path, 'knowledge.schema.json')}\n"
    return (head + dump(shown)).encode("utf-8")


def declaration(spec: tables.TableSpec) -> dict[str, Any]:
    """The ``table`` mapping of a spec, as the item carries it (columns in block style: the quick reader)."""
    from twoku.store.documents.edit import flow

    columns = []
    for c in spec.columns:
        entry: dict[str, Any] = {"name": c.name, "title": c.title, "type": c.type}
        if c.values:
            entry["values"] = flow(list(c.values))
        if c.system:
            entry["system"] = c.system
        if c.required:
            entry["required"] = True
        if c.disclosure:
            entry["disclosure"] = c.disclosure
        columns.append(entry)
    out: dict[str, Any] = {"file": spec.file, "key": flow(list(spec.key)), "columns": columns}
    if spec.add or spec.remove:
        out["lower"] = flow({"add": spec.add, "remove": spec.remove})
    out |= {"rows": spec.rows, "digest": spec.digest}
    return out


def _dirty(root: Path, paths: Sequence[str]) -> None:
    from twoku.store.repo import gitio

    changed = gitio.uncommitted(root, paths)
    if changed:
        raise TwokuError(
            f"{'、'.join(changed)} 有未提交的修改，导入会覆盖它们，未导入",
            hint="先提交（或撤销）这些修改，再导入；git status 可查看",
        )


@writes
def nhsa(
    root: Path,
    workbooks: Sequence[Path],
    class_text: str,
    layer_code: str | None = None,
    batch: str | None = None,
    published: str | None = None,
    effective: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    progress: Progress = _quiet,
    keep: bool = False,
) -> Imported:
    """Import one batch's workbooks into the class's table of ``layer_code`` (default: the store's own layer)."""
    kind = rule_kind(class_text)
    issued, due = _date(published, "--published"), _date(effective, "--effective")
    sheets = _read(workbooks, progress)
    progress("读取库 …")
    lib = load_store(root).library
    layer = _layer(lib, layer_code)
    systems = _systems(lib, layer)
    progress("识别表头、整理代码 …")
    try:
        built = build_points(sheets, systems)
    except WorkbookProblem as problem:
        raise _refuse(problem) from None
    if not kind.points:
        built.notes.append(f"2025 年版未公布{kind.name}的知识点明细：请核对 --class 是否正确")
    names = [p.name for p in workbooks]
    title = _batch_title(kind, batch, names)
    owner = _owned(lib, layer, kind)
    batch_item = next((k for k in lib.of_kind("knowledge") if k.layer == layer and k.title == title), None)
    fresh = _next_ids(root, lib, layer, 2)
    batch_id = batch_item.id if batch_item else fresh[0]
    item_id = owner.id if owner else fresh[1] if batch_item is None else fresh[0]
    category = "政策规范" if kind.number <= 34 else "医药学知识"  # 政策类 limits are the drug list's; the rest medical
    item_path = owner.path if owner else expected_path("knowledge", item_id, layer, category)
    assert item_path is not None
    old_spec = tables.spec_of(owner.data) if owner else None
    old = _old_table(root, lib, owner, old_spec)
    if old_spec is not None:
        widen(built, old_spec.columns)
    if keep and old is not None:
        if old.spec.key != built.key:
            raise UsageError(
                f"--keep：库中表格的键是 {'、'.join(old.spec.key)}，工作簿的是 {'、'.join(built.key)}，无法合并",
                hint="工作簿与库中表格的格式不同（如项目对与单项），不加 --keep 导入",
            )
        kept = keep_rows(built, old.spec.names, old.rows)
        built.notes.append(f"--keep：保留了库中表格里工作簿没有列出的 {kept} 行")
    if old_spec is not None:  # what the bureau declared of a column (its disclosure) outlives a batch
        said = {c.name: c.disclosure for c in old_spec.columns if c.disclosure}
        built.columns = tuple(replace(c, disclosure=said.get(c.name, c.disclosure)) for c in built.columns)
    spec = tables.TableSpec(
        old_spec.file if old_spec else f"{item_id}.csv",
        built.columns,
        built.key,
        old_spec.add if old_spec else True,
        old_spec.remove if old_spec else True,
    )
    table_path = tables.table_path(item_path, spec)
    progress(f"检查 {len(built.rows)} 行 …")
    table = _check(built, spec, table_path, systems)
    digest = tables.rows_digest(table)
    spec = tables.TableSpec(spec.file, spec.columns, spec.key, spec.add, spec.remove, len(table.rows), digest)
    change = tables.diff(old, table)
    assert change is not None
    basis = list(owner.data.get("basis") or []) if owner else []
    cites = any(isinstance(b, dict) and b.get("id") == batch_id for b in basis)
    same = owner is not None and old_spec == spec and cites and batch_item is not None
    result = summary_of(kind.name, kind.code, layer.code, item_id, item_path, table_path, built, change, names)
    result.batch_id, result.dry_run, result.unchanged = batch_id, dry_run, same
    opened = any(a.data.get("trigger") == batch_id for a in lib.of_kind("adjustment"))
    if same and due is not None and not opened:
        result.notes.append(
            f"表格没有变化，未启动即时调整；需要时运行 twoku adjust instant --trigger {batch_id} --slug 简称 "
            f"--deadline {due.isoformat()}"
        )
    if dry_run or same:
        return result
    batch_path = batch_item.path if batch_item else expected_path("knowledge", batch_id, layer, "政策规范")
    assert batch_path is not None
    _dirty(root, [p for p in (item_path, table_path, batch_path)])
    progress("写入 …")
    from twoku.store.documents.edit import atomic_write
    from twoku.store.repo import gitio

    written = [table_path, item_path]
    atomic_write(root / table_path, tables.canonical_text(table).encode("utf-8"))
    if batch_item is None:
        atomic_write(
            root / batch_path, _yaml(batch_path, _batch_data(batch_id, title, kind, batch, issued, due, source))
        )
        written.append(batch_path)
    if not cites:
        basis.append({"id": batch_id})
    _write_item(root, owner, item_id, item_path, kind, category, spec, basis)
    result.commit = gitio.commit_files(root, written, result.message(batch))
    if due is not None:
        _adjust(root, result, batch_id, kind, batch, due)
    else:
        result.notes.append("未给出 --effective（施行日期），未启动即时调整；需要时用 twoku adjust instant 启动")
    return result


def _old_table(root: Path, lib: Library, owner: Item | None, spec: tables.TableSpec | None) -> tables.Table | None:
    if owner is None or spec is None:
        return None
    from twoku.store import files

    path = tables.table_path(owner.path, spec)
    old = lib.tables.get(path) if path in lib.tables else files.read_table(root, path, spec)
    return old if old is not None and old.readable else None


def _batch_data(
    batch_id: str,
    title: str,
    kind: RuleKind,
    batch: str | None,
    issued: dt.date | None,
    due: dt.date | None,
    source: str | None,
) -> dict[str, Any]:
    """The batch as policy knowledge: what NHSA announced, when, where (only what the user gave: no date or
    文号 is made up)."""
    data: dict[str, Any] = {"id": batch_id, "category": "政策规范", "title": title, "issuer": NHSA}
    if issued:
        data["issued"] = issued.isoformat()
    if due:
        data["effective"] = due.isoformat()
    data["status"] = "生效"
    data["summary"] = (
        f"{NHSA}公布的{kind.name}规则知识点明细{batch or ''}，由 twoku import nhsa 导入为本层知识点明细表。\n"
    )
    data["facts"] = {FACT_CLASS: kind.name, **({FACT_CODE: kind.code} if kind.code else {})}
    if source:
        data["source"] = source
    return data


def _write_item(
    root: Path,
    owner: Item | None,
    item_id: str,
    path: str,
    kind: RuleKind,
    category: str,
    spec: tables.TableSpec,
    basis: list[Any],
) -> None:
    from twoku.store.documents.edit import atomic_write, update_values

    if owner is not None:
        from twoku.ops.validate import schema_problems

        problems = schema_problems("knowledge", {**owner.data, "table": declaration(spec), "basis": basis})
        if problems:  # the item was edited by hand into a shape the import cannot extend: say so, write nothing
            raise TwokuError(f"{path} 不符合 schema，未导入：\n  " + "\n  ".join(problems), path=path)
        update_values(root / path, {("table",): declaration(spec), ("basis",): basis})
        return
    data: dict[str, Any] = {
        "id": item_id,
        "category": category,
        "title": f"{kind.name}知识点明细",
        "issuer": NHSA,
        "status": "生效",
        "summary": f"{kind.name}规则所依据的知识点明细（国家医保局分批公布），由 twoku import nhsa 导入。\n",
        "facts": {FACT_CLASS: kind.name, **({FACT_CODE: kind.code} if kind.code else {})},
        "table": declaration(spec),
        "basis": basis,
    }
    atomic_write(root / path, _yaml(path, data), exclusive=True)


def _adjust(root: Path, result: Imported, batch_id: str, kind: RuleKind, batch: str | None, due: dt.date) -> None:
    from twoku.ops.adjust import instant

    number = batch_number(batch)
    slug = f"kp{kind.number}" + (f"-b{number}" if number is not None else "")
    try:
        done = instant.__wrapped__(root, batch_id, slug, due.isoformat())  # type: ignore[attr-defined]
    except TwokuError as exc:
        result.notes.append(f"未启动即时调整：{exc.message}")
        return
    result.adjustment, result.deadline = done.id, due.isoformat()


# --- code database exports --------------------------------------------------------------------


def parse_map(text: str | None) -> dict[str, str]:
    """``code=药品代码,name=注册名称`` as {column: header}."""
    out: dict[str, str] = {}
    for part in re.split(r"[,，]", text or ""):
        if not part.strip():
            continue
        name, sep, header = part.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise UsageError(f"--map 的“{part}”应写作 列名=表头", hint="如 --map code=药品代码,name=注册名称")
        out[name.strip()] = header.strip()
    return out


@writes
def codes(
    root: Path,
    export: Path,
    system: str,
    mapping: str | None = None,
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> Imported:
    """Fill the table of code system ``system`` (a coding knowledge item) from a code database export."""
    wanted = parse_map(mapping)
    progress("读取库 …")
    lib = load_store(root).library
    item = lib.get(system, "knowledge")
    pattern = item.data.get("pattern") if item is not None else None
    if item is None or not isinstance(pattern, str):
        what = "不存在" if item is None else "不是编码体系（没有 pattern）"
        raise UsageError(f"--system {system} {what}", hint="写医保信息业务编码条目的编号，如 CN-K-0030")
    if item.layer is not None:
        _writable(str(lib.config.get("region") or "CN"), item.layer, f"{system} 所在的层级 {item.layer.code}")
    # A code system without a table yet gets the shorthand's columns (code, name, note), declared in full on writing.
    spec = tables.spec_of(item.data) or tables.spec_of({"id": item.id, "pattern": pattern, "table": f"{item.id}.csv"})
    assert spec is not None
    unknown = sorted(set(wanted) - set(spec.names))
    if unknown:
        raise UsageError(
            f"--map 中的列 {'、'.join(unknown)} 不在 {system} 的表格中", hint="表格的列：" + "、".join(spec.names)
        )
    sheets = _read([export], progress)
    progress("识别表头、整理代码 …")
    built, refused = None, []
    for sheet in sheets:  # the first sheet with the header: an export may open with a sheet of notes
        try:
            built = build_codes(sheet, spec.columns, wanted, {system: pattern})
            break
        except WorkbookProblem as problem:
            refused.append(problem)
    if built is None:
        raise _refuse(refused[0]) if refused else TwokuError(f"{export.name} 中没有工作表") from None
    built.key = spec.key
    systems = {k: p for k, p in _systems(lib, item.layer or Layer("CN")).items()}
    path = tables.table_path(item.path, spec)
    progress(f"检查 {len(built.rows)} 行 …")
    table = _check(built, spec, path, systems)
    keyed = list(tables.problems(table, {}, keys=True))
    doubled = [p for p in keyed if p.kind in ("duplicate", "conflict")]
    if doubled:
        shown = "\n  ".join(p.message.replace("第 ", "导出文件数据第 ") for p in doubled[:10])
        raise TwokuError(f"导出文件中有 {len(doubled)} 个重复的键，未写入：\n  {shown}", hint="一个代码只保留一行")
    digest = tables.rows_digest(table)
    old = _old_table(root, lib, item, spec)
    change = tables.diff(old, table)
    assert change is not None
    result = summary_of(
        str(item.title),
        None,
        item.layer.code if item.layer else "",
        item.id,
        item.path,
        path,
        built,
        change,
        [export.name],
    )
    result.unchanged = change.empty and spec.digest == digest and spec.rows == len(table.rows) and not spec.legacy
    result.dry_run = dry_run
    if dry_run or result.unchanged:
        return result
    _dirty(root, [item.path, path])
    progress("写入 …")
    from twoku.store.documents.edit import atomic_write, update_values
    from twoku.store.repo import gitio

    atomic_write(root / path, tables.canonical_text(table).encode("utf-8"))
    sealed = tables.TableSpec(spec.file, spec.columns, spec.key, spec.add, spec.remove, len(table.rows), digest)
    update_values(root / item.path, {("table",): declaration(sealed)})
    result.commit = gitio.commit_files(root, [path, item.path], result.message(None))
    return result
