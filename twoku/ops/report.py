"""``twoku report-upstream`` and ``twoku release``: a layer's own changes as one verifiable archive.

第五条: provinces and cities report their local additions promptly to the level above;
第十四条(三): a province may propose local rules for national adoption.  The other way,
an upper level releases its adjustments to the levels below.  Their networks are
segregated, so what travels is a file: the commits that touched the sender's own layer as
a ``git format-patch`` series cut down to that layer's paths, a ``git bundle`` of the same
range, a manifest binding every item to its content digest, and a cover letter in Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model.changes import Diff, ItemChange, Rev
from twoku.model.digest import content_digest
from twoku.model.exchange import BUNDLE, COVER, FORMAT, MANIFEST, RELEASE, REPORT, owns, pathspecs, slug
from twoku.model.regions import Layer, layer_name, parse_layer
from twoku.store import archive, files
from twoku.store.documents import yamlio
from twoku.store.documents.edit import atomic_write, writable_file
from twoku.store.repo import gitdiff, gitio
from twoku.store.writes import faults
from twoku.store.writes.faults import writes


@dataclass(frozen=True)
class Built:
    """What report-upstream or release made: the archive's manifest, or nothing new."""

    kind: str
    region: str
    since: Rev
    head: str
    manifest: dict[str, Any] | None = None  # None: nothing new since ``since``
    cover: str = ""
    out: Path | None = None
    tag: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def store_layer(root: Path) -> tuple[Layer, dict[str, Any]]:
    """The layer this store owns (twoku.yaml ``region``); the store must be its repository's root."""
    top = Path(archive.text(root, "rev-parse", "--show-toplevel")).resolve()
    if top != root.resolve():
        raise UsageError(
            f"库 {root} 不是 git 仓库的根目录（仓库在 {top}）", hint="报送、发布和接收要求库单独成一个仓库"
        )
    config = files.load_config(root)
    try:
        return parse_layer(str(config.get("region", ""))), config
    except ValueError as exc:
        raise TwokuError(
            f"twoku.yaml 的 region 无效：{exc}", hint="在 twoku.yaml 中写明本库层级，如 region: 510000"
        ) from None


def upstream_slug(own: Layer, config: dict[str, Any]) -> str:
    """How this fork's tags name its upstream: twoku.yaml ``upstream``, else the layer above."""
    name = config.get("upstream")
    if isinstance(name, str) and name.strip():
        return slug(name)
    return own.parent.code if own.parent else "upstream"


def _report_since(root: Path, since: str | None, tag_family: str) -> Rev:
    if since not in (None, "last-report"):
        return gitdiff.resolve(gitdiff.open_repo(root), root, str(since))
    found = archive.tags(root, tag_family + "/")
    if found:
        return Rev("last-report", archive.commit_of(root, found[0]), found[0])
    for ref in ("@{upstream}", "origin/HEAD"):  # never reported: start where the fork left its upstream
        upstream = archive.commit_of(root, ref)
        base = archive.merge_base(root, "HEAD", upstream) if upstream else None
        if base:
            return Rev("分叉点", base, ref)
    raise UsageError(
        f"找不到上次报送（没有 {tag_family}/* 标签），也找不到上游分支",
        hint="用 --since 指定起点：上次报送时的提交，或本库从上级复制时的提交",
    )


def _records(root: Path, head: str) -> dict[str, list[dict[str, Any]]]:
    """Argumentation records at ``head``, by the ID of each subject they bind."""
    out: dict[str, list[dict[str, Any]]] = {}
    paths = archive.paths_at(root, head, "argumentation")
    for path, raw in archive.files_at(root, head, paths).items():
        try:
            data = yamlio.load_json(raw or b"")[0]
        except yamlio.YamlProblem:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("subjects"), list):
            continue
        for subject in data["subjects"]:
            if isinstance(subject, dict) and isinstance(subject.get("id"), str):
                entry = {k: data.get(k) for k in ("id", "kind", "date", "organizer", "conclusion")}
                entry["illustrative"] = data.get("illustrative") is True
                out.setdefault(subject["id"], []).append({**entry, "digest": subject.get("digest"), "path": path})
    return out


def _item(change: ItemChange, records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    digest = content_digest(change.new) if change.new is not None else None
    argued = [{**r, "current": r["digest"] == digest} for r in records.get(change.id, [])]
    out: dict[str, Any] = {
        "id": change.id,
        "kind": change.kind,
        "change": change.change,
        "title": change.title,
        "path": change.new_path,
        "old_path": change.old_path,
        "digest": digest,
        "old_digest": content_digest(change.old) if change.old is not None else None,
        "status": change.current.get("status"),
        "argumentation": sorted(argued, key=lambda r: (str(r.get("date")), str(r.get("id")))),
    }
    if change.target:
        out["target"] = change.target
    return out


def _commits(root: Path, own: Layer, since: str, head: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The commits carried (with what was cut from each) and those left out entirely."""
    ours = dict(archive.commits(root, since, head, pathspecs(own)))
    carried, left_out = [], []
    for sha, subject in archive.commits(root, since, head):
        paths = archive.commit_paths(root, sha)
        other = [p for p in paths if not owns(own, p)]
        if sha in ours:
            carried.append({"commit": sha, "subject": subject, "cut": other})
        else:
            left_out.append({"commit": sha, "subject": subject, "paths": other})
    return carried, left_out


_ID_STEM = re.compile(r"^(?:CN|[0-9]{6})-[A-Za-z]+-[0-9]{4}")


def _patch_name(name: str, commit: dict[str, Any], own: Layer, paths: Sequence[str]) -> str:
    """git names a patch after its subject's ASCII letters: a Chinese subject leaves ``0001-12.patch``.
    Such a patch is named after the items it changes (``0001-510000-R-0001.patch``), else its commit."""
    number, _, slug = name.removesuffix(".patch").partition("-")
    if re.search(r"[A-Za-z]{3}", slug):
        return name
    ids = [m[0] for p in paths if owns(own, p) and (m := _ID_STEM.match(p.rsplit("/", 1)[-1]))]
    label = "-".join(dict.fromkeys(ids))
    if len(label) > 60:
        label = label[:60].rsplit("-", 3)[0] + "-etc"
    return f"{number}-{label or str(commit['commit'])[:10]}.patch"


def _proposed(root: Path, own: Layer, head: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Items of this layer proposed for adoption above (第十四条(三)); each must exist at HEAD."""
    if not ids:
        return []
    by_id = {
        p.rsplit("/", 1)[-1].removesuffix(".yaml"): p
        for p in gitdiff.paths_at(gitdiff.open_repo(root), root, Rev("HEAD", head))
        if owns(own, p) and "/overrides/" not in p
    }
    out = []
    for item_id in dict.fromkeys(ids):
        path = by_id.get(item_id)
        if path is None:
            raise UsageError(f"--propose {item_id}：本层（{own}）没有这条知识或规则", hint="只能建议采纳本层自己的条目")
        data = yamlio.load_json(archive.files_at(root, head, [path])[path] or b"")[0]
        title = data.get("name") or data.get("title") or item_id if isinstance(data, dict) else item_id
        digest = content_digest(data) if isinstance(data, dict) else None
        out.append({"id": item_id, "title": title, "path": path, "digest": digest})
    return out


@writes
def build(
    root: Path,
    kind: str,
    since: str | None = None,
    propose: Sequence[str] = (),
    out: Path | None = None,
    today: dt.date | None = None,
) -> Built:
    """Build the archive of this layer's own changes since ``since``; nothing when there are none."""
    from twoku.ops.diff import diff as item_diff
    from twoku.render.report import cover

    root = root.resolve()
    if out is not None:
        writable_file(out)  # before the tag and the archive: nothing written for a path that cannot be
    own, config = store_layer(root)
    if kind == REPORT and own.parent is None:
        raise UsageError("国家库没有上级，无需报送", hint="向省级库发布国家库的调整用 twoku release")
    if kind == RELEASE and own.kind == "municipal":
        raise UsageError("市级库没有下级，无需发布", hint="向省级库报送本市增补用 twoku report-upstream")
    head = archive.commit_of(root, "HEAD")
    if head is None:
        raise UsageError("仓库还没有任何提交", hint="先提交本层的文件")
    upstream = upstream_slug(own, config)
    if kind == REPORT:
        start = _report_since(root, since, f"report/{upstream}")
    else:
        start = gitdiff.resolve(gitdiff.open_repo(root), root, since or "last-annual")
    assert start.commit is not None
    names = {str(k): str(v) for k, v in (config.get("regions") or {}).items()}
    nothing = Built(kind, own.code, start, head, names=names)
    pending = archive.dirty(root, pathspecs(own))
    if pending:
        listed = "、".join(pending[:5]) + (f" 等 {len(pending)} 个" if len(pending) > 5 else "")
        raise TwokuError(
            f"本层有未提交的修改：{listed}", hint="先提交（git commit）或暂存（git stash），归档只携带已提交的内容"
        )
    odd = [p for p in gitio.not_regular(root, head) if owns(own, p)]
    if odd:  # the receiver refuses them (intake): say so here, before anything is made
        raise TwokuError(
            f"本层提交了不是普通文件的条目（符号链接或子模块）：{'、'.join(odd[:5])}",
            hint="两库只由普通文件组成：把链接换成文件本身（或删除它）并提交后再生成归档",
        )
    carried, left_out = _commits(root, own, start.commit, head)
    if not carried:
        return nothing
    patches = [
        (_patch_name(name, commit, own, archive.commit_paths(root, commit["commit"])), data)
        for (name, data), commit in zip(
            archive.format_patches(root, start.commit, head, pathspecs(own)), carried, strict=True
        )
    ]
    bundle = archive.bundle(root, start.commit, head)
    changed = archive.text(root, "diff", "--name-only", "--no-renames", "-z", start.commit, head, "--", *pathspecs(own))
    paths = sorted(p for p in changed.split("\0") if p)
    diff: Diff = item_diff(root, start.commit, head, layer=own.code)
    records = _records(root, head)
    date = (today or dt.date.today()).isoformat()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "kind": kind,
        "region": own.code,
        "region_name": layer_name(own, names),
        "upstream": upstream if kind == REPORT else None,
        "date": date,
        "base": {"rev": start.name, "via": start.via or None, "commit": start.commit},
        "head": head,
        "patches": [
            {"name": f"patches/{name}", "sha256": sha256(data), **commit}
            for (name, data), commit in zip(patches, carried, strict=True)
        ],
        "left_out": left_out,
        "files": {p: (sha256(d) if d is not None else None) for p, d in archive.files_at(root, head, paths).items()},
        "items": [_item(c, records) for c in diff.items],
        "proposed": _proposed(root, own, head, propose),
        "bundle": {"sha256": sha256(bundle)},
    }
    letter = cover(manifest, diff)
    members = {f"patches/{name}": data for name, data in patches}
    members |= {BUNDLE: bundle, MANIFEST: json_bytes(manifest), COVER: letter.encode("utf-8")}
    target = out or Path.cwd() / f"twoku-{kind}-{own.code}-{date}.tar.gz"
    atomic_write(target, archive.pack(members))
    tag = None
    if kind == REPORT:
        tag = _free_tag(root, f"report/{upstream}/{date}")
        try:
            archive.tag(root, tag, head, f"twoku report-upstream：{len(patches)} 个补丁，{target.name}")
            faults.checkpoint("tagged")
        except TwokuError:
            target.unlink(missing_ok=True)
            raise
    return Built(kind, own.code, start, head, manifest, letter, target, tag, names)


def json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _free_tag(root: Path, name: str) -> str:
    candidate, n = name, 1
    while archive.ref_exists(root, f"refs/tags/{candidate}"):
        n += 1
        candidate = f"{name}-{n}"
    return candidate
