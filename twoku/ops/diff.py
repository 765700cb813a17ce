"""``twoku diff``: what changed in the libraries between two revisions, per item."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from twoku.errors import UsageError
from twoku.model.changes import WORKTREE, Diff, ItemChange, Rev, Version, item_changes
from twoku.model.regions import Layer, parse_layer
from twoku.store import files, gitdiff, yamlio


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
            names[item_id] = version.data["name"]
    for rev in (diff.until, diff.since):
        missing = wanted - names.keys()
        if not missing:
            break
        for path in gitdiff.paths_at(repo, root, rev):
            item_id = path.rsplit("/", 1)[-1].removesuffix(".yaml")
            if item_id in missing and "/rules/" in path:
                data = _parse(gitdiff.read_at(repo, root, rev, path), path, [])
                if data is not None and isinstance(data.get("name"), str):
                    names[item_id] = data["name"]
    return [replace(c, target_name=names.get(c.target)) if c.target else c for c in diff_items]


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
    for change in gitdiff.changed_paths(repo, root, start, end):
        if change.old_path is not None and change.old_blob is not None:  # no blob: an unmerged path
            data = _parse(gitdiff.read_blob(repo, root, change.old_blob, change.old_path), change.old_path, unreadable)
            if data is not None:
                olds.append(Version(change.old_path, data))
        if change.new_path is not None:
            new_blob = change.new_blob if end.commit is not None else None
            data = _parse(gitdiff.read_blob(repo, root, new_blob, change.new_path), change.new_path, unreadable)
            if data is not None:
                news.append(Version(change.new_path, data))
    found = item_changes(olds, news)
    if chain_of is not None:
        found = [c for c in found if c.layer is not None and Layer(c.layer) in chain_of.chain]
    if only is not None:
        found = [c for c in found if c.layer == only.code]
    result = Diff(start, end, found, sorted(set(unreadable)), region, layer)
    names = files.load_config(root).get("regions") or {}
    return replace(
        result,
        items=_with_targets(repo, root, found, news, olds, result),
        names={str(k): str(v) for k, v in names.items()},
    )
