"""``twoku renumber OLD NEW``: give an item another ID, move its file, update every reference.

The usual cause is two people allocating the same ID on two branches (TK301 after the
merge).  The file moves to the path the new ID dictates (``git mv``), its ``id``
changes, and every reference to the old ID — basis, target, superseded_by,
replaced_by, argumentation subjects, adjustment scope and trigger, waivers — is
rewritten in place, keeping comments and layout.  When the old ID is duplicated, which
of the two a reference meant cannot be known: those references are listed, not changed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model.digest import content_digest
from twoku.model.findings import Pointer
from twoku.model.ids import id_problem, parse_id
from twoku.model.layout import CONFIG_FILE, expected_path
from twoku.model.library import Item
from twoku.ops.validate import load_store
from twoku.store import files
from twoku.store.writes import faults
from twoku.store.writes.faults import writes


@dataclass(frozen=True)
class Renumbered:
    old: str
    new: str
    old_path: str
    new_path: str
    references: dict[str, int] = field(default_factory=dict)  # path → references rewritten
    ambiguous: list[str] = field(default_factory=list)  # paths whose references were left alone
    commit: str | None = None


def references(data: Mapping[str, Any], item_id: str) -> Iterator[Pointer]:
    """Where a file's data names ``item_id``: every field that holds another item's ID."""
    for key in ("superseded_by", "target", "trigger"):
        if data.get(key) == item_id:
            yield (key,)
    deprecated = data.get("deprecated")
    if isinstance(deprecated, Mapping) and deprecated.get("replaced_by") == item_id:
        yield ("deprecated", "replaced_by")
    for key in ("basis", "subjects", "waivers"):
        entries = data.get(key)
        for n, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, Mapping) and entry.get("id") == item_id:
                yield (key, n, "id")
    scope = data.get("scope")
    for n, entry in enumerate(scope if isinstance(scope, list) else []):
        if entry == item_id:
            yield ("scope", n)


def _set(data: Any, pointer: Pointer, value: Any) -> None:
    for step in pointer[:-1]:
        data = data[step]
    data[pointer[-1]] = value


def _rebind(items: list[Item], referring: dict[str, dict[Pointer, Any]]) -> None:
    """Keep current bindings current: a changed ID in ``basis`` changes a digest, not the content.

    An override's ``base_digest`` or an argumentation record's subject digest that
    matched an item before the renumbering moves to the item's digest after it;
    stale bindings stay stale.
    """
    moved: dict[str, tuple[str, str]] = {}
    for item in items:
        changes = referring.get(item.path)
        if not changes or item.kind not in ("knowledge", "rule", "override"):
            continue
        after = copy.deepcopy(dict(item.data))
        for pointer, value in changes.items():
            _set(after, pointer, value)
        before_digest, after_digest = content_digest(item.data), content_digest(after)
        if before_digest != after_digest:
            moved[item.id] = (before_digest, after_digest)
    for item in items:
        extra: dict[Pointer, Any] = {}
        target = item.data.get("target")
        if item.kind == "override" and target in moved and item.data.get("base_digest") == moved[target][0]:
            extra[("base_digest",)] = moved[target][1]
        subjects = item.data.get("subjects") if item.kind == "argumentation" else None
        for n, subject in enumerate(subjects if isinstance(subjects, list) else []):
            ref = subject.get("id") if isinstance(subject, Mapping) else None
            if ref in moved and subject.get("digest") == moved[ref][0]:
                extra[("subjects", n, "digest")] = moved[ref][1]
        if extra:
            referring.setdefault(item.path, {}).update(extra)


def _parse(text: str, which: str) -> Any:
    problem = id_problem(text)
    if problem:
        raise UsageError(f"{which} {problem}")
    return parse_id(text)


def _choose(root: Path, found: list[Item], path: str | None, old: str) -> Item:
    if path is not None:
        wanted = Path(path)
        rel = (wanted if wanted.is_absolute() else Path.cwd() / wanted).resolve()
        try:
            key = rel.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"--path {path} 不在库中") from None
        for item in found:
            if item.path == key:
                return item
        raise UsageError(f"--path {path} 不是编号为 {old} 的文件", hint="可选：" + "、".join(i.path for i in found))
    if len(found) > 1:
        raise UsageError(
            f"编号 {old} 重复，有 {len(found)} 个文件：{'、'.join(i.path for i in found)}",
            hint=f"用 --path 指定要改号的文件（通常是后来者）：twoku renumber {old} <新编号> --path {found[-1].path}",
        )
    return found[0]


@writes
def renumber(root: Path, old: str, new: str, path: str | None = None, commit: bool = False) -> Renumbered:
    from twoku.store.documents.edit import update_values
    from twoku.store.repo import gitwork

    old_id, new_id = _parse(old, "OLD："), _parse(new, "NEW：")
    if (old_id.kind, old_id.layer) != (new_id.kind, new_id.layer):
        raise UsageError(
            f"{new} 与 {old} 的层级或类别不同",
            hint=f"改号不改归属：新编号须同为 {old_id.layer.code}-{old.split('-')[1]}-NNNN",
        )
    loaded = load_store(root)
    lib = loaded.library
    everything = [*lib.items.values(), *(i for group in lib.duplicates.values() for i in group[1:])]
    found = sorted((i for i in everything if i.id == old), key=lambda i: i.path)
    if not found:
        raise UsageError(f"库中没有编号为 {old} 的条目", hint="用 twoku ls 查找编号")
    on_disk = {p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in files.store_paths(root)}
    if any(i.id == new for i in everything) or new in on_disk:
        raise UsageError(f"编号 {new} 已被使用", hint="换一个未用过的编号；twoku new 会取本层下一个空号")
    item = _choose(root, found, path, old)
    new_path = expected_path(item.kind, new, new_id.layer, item.data.get("category"))
    if new_path is None:  # a category twoku does not know: keep the folder
        new_path = item.path.rsplit("/", 1)[0] + f"/{new}.yaml"
    if (root / new_path).exists():
        raise TwokuError(f"{new_path} 已存在，未覆盖")

    referring: dict[str, dict[Pointer, Any]] = {}
    sources = [(i.path, i.data) for i in everything if i is not item]
    sources.append((CONFIG_FILE, lib.config))
    for source, data in sources:
        pointers = list(references(data, old))
        if pointers:
            referring[source] = dict.fromkeys(pointers, new)
    duplicated = len(found) > 1
    if not duplicated:
        _rebind(everything, referring)

    faults.note(root / item.path)
    faults.note(root / new_path, (root / item.path).read_bytes())  # git mv puts the old file's bytes there
    gitwork.move(root, item.path, new_path)
    update_values(root / new_path, {("id",): new})
    changed = {}
    if not duplicated:
        for source, values in referring.items():
            update_values(root / source, values)
            changed[source] = len(values)
    paths = [new_path, *changed]
    sha = None
    if gitwork.is_repo(root):
        gitwork.stage(root, paths)
        if commit:
            message = f"{old} 改号为 {new}" + (f"，更新 {len(changed)} 个文件中的引用" if changed else "")
            sha = gitwork.commit_only(root, [item.path, *paths], message)
    ambiguous = sorted(referring) if duplicated else []
    return Renumbered(old, new, item.path, new_path, changed, ambiguous, sha)
