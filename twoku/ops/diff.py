"""``twoku diff``: what changed in the libraries between two revisions, per item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from twoku.errors import UsageError
from twoku.model import enums, tables
from twoku.model.changes import (
    ORDER,
    WORKTREE,
    Diff,
    ItemChange,
    Rev,
    Version,
    item_change,
    item_changes,
    needs_argumentation,
)
from twoku.model.digest import content_digest
from twoku.model.ids import parse_id
from twoku.model.prose import own_render, parameter_words
from twoku.model.regions import Layer, parse_layer
from twoku.store import files
from twoku.store.documents import yamlio
from twoku.store.repo import gitdiff


def _layer_option(option: str, code: str | None) -> Layer | None:
    if code is None:
        return None
    try:
        return parse_layer(code)
    except ValueError as exc:
        raise UsageError(f"{option} {code}：{exc}", hint="国家写 CN，省如 510000，市如 510100") from None


def _parse(raw: bytes | None, path: str, unreadable: list[str]) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data, _ = yamlio.load_json(raw)
    except yamlio.YamlProblem:
        unreadable.append(path)
        return None
    return data if isinstance(data, dict) else None


def _revisions(repo: Any, root: Path, since: str | None, until: str | None) -> tuple[Rev, Rev]:
    if until is None:
        until = WORKTREE if gitdiff.is_dirty(repo, root) else "HEAD"
    end = gitdiff.resolve(repo, root, until)
    if since is not None:
        return gitdiff.resolve(repo, root, since), end
    try:
        return gitdiff.resolve(repo, root, "last-annual"), end
    except UsageError:
        return gitdiff.first_commit(repo), end


def _with_targets(
    repo: Any, root: Path, diff_items: list[ItemChange], news: list[Version], olds: list[Version], diff: Diff
) -> list[ItemChange]:
    """Name the rule each changed override localises, reading just that rule's file."""
    wanted = {c.target for c in diff_items if c.target}
    names: dict[str, str] = {}
    for version in [*olds, *news]:  # new versions last: the current name wins
        item_id = version.data.get("id")
        if item_id in wanted and isinstance(version.data.get("name"), str):
            names[item_id] = own_render(version.data["name"], version.data)
    for rev in (diff.until, diff.since):
        missing = wanted - names.keys()
        if not missing:
            break
        for path in gitdiff.paths_at(repo, root, rev):
            item_id = path.rsplit("/", 1)[-1].removesuffix(".yaml")
            if item_id in missing and "/rules/" in path:
                data = _parse(gitdiff.read_at(repo, root, rev, path), path, [])
                if data is not None and isinstance(data.get("name"), str):
                    names[item_id] = own_render(data["name"], data)
    return [replace(c, target_name=names.get(c.target)) if c.target else c for c in diff_items]


def _rows_of(
    repo: Any,
    root: Path,
    start: Rev,
    end: Rev,
    old: tuple[str | None, Mapping[str, Any] | None],
    new: tuple[str | None, Mapping[str, Any] | None],
) -> tuple[tables.TableDiff | None, set[str]]:
    """The rows of an item's table that changed between two revisions (item path and data at each), and the
    tables' paths.  From the files' lines where both are as seal writes them, else by parsing both."""
    specs = [tables.spec_of(data) if path and data is not None else None for path, data in (old, new)]
    paths = [
        tables.table_path(str(side[0]), spec) if spec else None for side, spec in zip((old, new), specs, strict=True)
    ]
    raws = gitdiff.read_both(repo, root, ((start, paths[0]), (end, paths[1])))
    found = {p for p in paths if p}
    spec = specs[1] or specs[0]
    if spec is not None and (specs[0] is None or specs[1] is None or specs[0].names == specs[1].names):
        quick = tables.diff_raw(raws[0], raws[1], spec, str(paths[1] or paths[0]))
        if quick is not None:
            return quick, found
    parsed = [
        tables.parse(raw, s, str(p)) if raw is not None and s is not None and p else None
        for raw, s, p in zip(raws, specs, paths, strict=True)
    ]
    return tables.diff(parsed[0], parsed[1]), found


def _with_rows(
    repo: Any, root: Path, start: Rev, end: Rev, found: list[ItemChange], tables_changed: set[str]
) -> list[ItemChange]:
    """Each changed knowledge item with the rows of its table that changed; and the items whose table changed
    while their YAML did not (an edit not sealed: TK429), as modified with those rows."""
    out: list[ItemChange] = []
    seen: set[str] = set()
    at_end: list[str] = []  # the library's paths at the end, listed once where a table's item is looked for
    for c in found:
        if c.kind == "knowledge" and any(side is not None and "table" in side for side in (c.old, c.new)):
            rows, paths = _rows_of(repo, root, start, end, (c.old_path, c.old), (c.new_path, c.new))
            c = replace(c, rows=rows if rows is not None and not rows.empty else None)
            seen.update(paths)
        out.append(c)
    for path in sorted(tables_changed - seen):
        at_end = at_end or gitdiff.paths_at(repo, root, end)
        item = _item_of_table(repo, root, end, path, at_end)
        if item is None:
            continue
        item_path, data = item
        rows, _ = _rows_of(repo, root, start, end, (item_path, data), (item_path, data))
        if rows is None or rows.empty:
            continue
        change = item_change(str(data.get("id")), Version(item_path, data), Version(item_path, data), always=True)
        if change is not None:
            out.append(replace(change, rows=rows, reargue=True, unsealed=True))
    return sorted(out, key=lambda c: (ORDER.index(c.change), c.id))


def _item_of_table(repo: Any, root: Path, rev: Rev, path: str, paths: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The knowledge item beside a table's file that declares it (by the file's name), at ``rev``."""
    folder, _, name = path.rpartition("/")
    for candidate in paths:
        if candidate.rpartition("/")[0] != folder or not candidate.endswith(".yaml"):
            continue
        data = _parse(gitdiff.read_at(repo, root, rev, candidate), candidate, [])
        spec = tables.spec_of(data) if data is not None else None
        if data is not None and spec is not None and spec.file == name:
            return candidate, data
    return None


def _argued(repo: Any, root: Path, rev: Rev, changes: list[ItemChange]) -> list[ItemChange]:
    """Whether each changed item needs new argumentation, as signoff status says it at ``until``: one
    whose records were bound again to its present content (re-argued) needs none.  Reads argumentation/ only."""
    wanted = {c.id for c in changes if c.reargue and c.new is not None and not c.unsealed}
    if not wanted:
        return changes
    records: dict[str, list[tuple[str, str, str]]] = {}
    needles = [i.encode() for i in wanted]
    for path, raw in gitdiff.files_at(repo, root, rev, ("argumentation",)):
        if not path.endswith(".yaml") or not any(n in raw for n in needles):
            continue  # only the records that name a changed item are parsed
        data = _parse(raw, path, [])
        if data is None:
            continue
        kind, conclusion = str(data.get("kind")), str(data.get("conclusion"))
        for subject in data.get("subjects") or []:
            if isinstance(subject, dict) and subject.get("id") in wanted:
                records.setdefault(subject["id"], []).append((kind, str(subject.get("digest")), conclusion))
    return [
        replace(c, reargue=needs_argumentation(content_digest(c.new), records.get(c.id, [])))
        if c.id in wanted and c.new is not None
        else c
        for c in changes
    ]


def _words(
    repo: Any, root: Path, rev: Rev, changes: list[ItemChange], chain: Layer | None
) -> dict[str, dict[str, str]]:
    """Each changed rule's parameter values in words at ``rev``: in the region (its overrides applied,
    top layer first) when one is given, else the rule's own.  Reads the region's override files only."""
    rules = {c.id: c.new for c in changes if c.kind == "rule" and c.new is not None}
    params: dict[str, dict[str, Any]] = {}
    for rule_id, data in rules.items():
        raw = data.get("parameters")
        params[rule_id] = {k: dict(v) if isinstance(v, dict) else {"value": v} for k, v in (raw or {}).items()}
    if chain is not None and rules:
        found = []
        for path in gitdiff.paths_at(repo, root, rev):
            if "/overrides/" not in path or not path.endswith(".yaml"):
                continue
            parsed = parse_id(path.rsplit("/", 1)[-1].removesuffix(".yaml"))
            if parsed is None or parsed.layer not in chain.chain:
                continue
            override = _parse(gitdiff.read_at(repo, root, rev, path), path, [])
            if override and override.get("target") in rules and override.get("status") != enums.DEPRECATED:
                found.append((parsed.layer.depth, str(override.get("id")), override))
        for _, _, override in sorted(found, key=lambda f: f[:2]):
            spec = params[override["target"]]
            for name, value in (override.get("parameters") or {}).items():
                if name in spec:
                    spec[name]["value"] = value
    return {rule_id: parameter_words(spec) for rule_id, spec in params.items()}


def diff(
    root: Path,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    layer: str | None = None,
) -> Diff:
    """Item-level changes between ``since`` (default last-annual, else the first commit)
    and ``until`` (default HEAD, or WORKTREE when the library has uncommitted changes)."""
    chain_of = _layer_option("--region", region)
    only = _layer_option("--layer", layer)
    repo = gitdiff.open_repo(root)
    start, end = _revisions(repo, root, since, until)
    olds: list[Version] = []
    news: list[Version] = []
    unreadable: list[str] = []
    tables_changed: set[str] = set()
    for change in gitdiff.changed_paths(repo, root, start, end):
        if (change.new_path or change.old_path or "").endswith(".csv"):
            tables_changed.update(p for p in (change.old_path, change.new_path) if p)
            continue  # a table: compared row by row with its item (_with_rows)
        if change.old_path is not None and change.old_blob is not None:  # no blob: an unmerged path
            data = _parse(gitdiff.read_blob(repo, root, change.old_blob, change.old_path), change.old_path, unreadable)
            if data is not None:
                olds.append(Version(change.old_path, data))
        if change.new_path is not None:
            new_blob = change.new_blob if end.commit is not None else None
            data = _parse(gitdiff.read_blob(repo, root, new_blob, change.new_path), change.new_path, unreadable)
            if data is not None:
                news.append(Version(change.new_path, data))
    found = _with_rows(repo, root, start, end, item_changes(olds, news), tables_changed)
    if chain_of is not None:
        found = [c for c in found if c.layer is not None and Layer(c.layer) in chain_of.chain]
    if only is not None:
        found = [c for c in found if c.layer == only.code]
    found = _argued(repo, root, end, found)
    result = Diff(start, end, found, sorted(set(unreadable)), region, layer)
    config = files.load_config(root)
    names = config.get("regions") or {}
    disclosure = config.get("disclosure")
    return replace(
        result,
        disclosure=dict(disclosure) if isinstance(disclosure, dict) else {},
        items=_with_targets(repo, root, found, news, olds, result),
        names={str(k): str(v) for k, v in names.items()},
        words=_words(repo, root, end, found, chain_of),
    )
