"""``twoku intake``: take in a report from below or a release from above, verified before anything is written.

The archive is checked whole before the repository is touched: safe members, a manifest
that names every patch by its hash, patches that touch only the sender's own paths (a
province cannot change ``national/`` or another province's files through a report; a
release from above never touches this fork's own layer, and none makes a link or a
submodule), a bundle that ``git bundle verify`` accepts, and patches that — applied in a
scratch index on this store's HEAD — produce exactly the files and content digests the
manifest states.  Only then is the
series applied with ``git am`` in a temporary worktree and kept as a review branch; the
user's branch and working tree are left as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.errors import UsageError
from twoku.model.digest import content_digest
from twoku.model.exchange import ACT_ON, BUNDLE, FORMAT, MANIFEST, PATCH_NAME, RELEASE, direction, owns
from twoku.model.findings import Finding
from twoku.model.regions import Layer, parse_layer
from twoku.ops.report import sha256, store_layer
from twoku.store import archive
from twoku.store.archive import Refused
from twoku.store.documents import yamlio
from twoku.store.writes import faults
from twoku.store.writes.faults import writes

_TAMPERED = "归档可能在传递中被改动：向发送方索取原始文件，不要自行修改"


@dataclass(frozen=True)
class Intake:
    """What arrived: the manifest, and either the review branch or "already applied"."""

    manifest: dict[str, Any]
    already: bool
    branch: str | None = None
    commit: str | None = None
    findings: list[Finding] = field(default_factory=list)  # validate on the review branch
    act_on: list[Finding] = field(default_factory=list)  # what this fork must do after a release


def _need(manifest: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = manifest.get(key)
    if not isinstance(value, kind):
        raise Refused(f"manifest.json 不完整：{key} 缺失或类型不对", hint=_TAMPERED)
    return value


def _manifest(members: dict[str, bytes]) -> tuple[dict[str, Any], Layer]:
    try:
        manifest = json.loads(members[MANIFEST].decode("utf-8"))
    except KeyError:
        raise Refused("归档中没有 manifest.json", hint=_TAMPERED) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"manifest.json 无法读取：{exc}", hint=_TAMPERED) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Refused(f"不是 {FORMAT} 格式的归档", hint="用 twoku report-upstream 或 twoku release 生成归档")
    shape: dict[str, type] = {"kind": str, "region": str, "date": str, "head": str, "patches": list, "files": dict}
    shape |= {"items": list, "proposed": list, "bundle": dict, "base": dict}
    for key, kind in shape.items():
        _need(manifest, key, kind)
    try:
        dt.date.fromisoformat(manifest["date"])
        sender = parse_layer(manifest["region"])
    except ValueError as exc:
        raise Refused(f"manifest.json 的日期或地区无效：{exc}", hint=_TAMPERED) from None
    if not re.fullmatch(r"[0-9a-f]{40}", manifest["head"]):
        raise Refused("manifest.json 的 head 不是提交编号", hint=_TAMPERED)
    return manifest, sender


def _patches(members: dict[str, bytes], manifest: dict[str, Any]) -> list[bytes]:
    """The patches in the manifest's order, each matching its hash; no patch the manifest omits."""
    listed = manifest["patches"]
    names = [p.get("name") if isinstance(p, dict) else None for p in listed]
    present = sorted(n for n in members if n.startswith("patches/"))
    if sorted(str(n) for n in names) != present or len(set(present)) != len(names):
        raise Refused("归档中的补丁与 manifest.json 所列不一致", hint=_TAMPERED)
    if not listed:
        raise Refused("归档中没有补丁", hint=_TAMPERED)
    out = []
    for entry in listed:
        data = members[entry["name"]]
        if not PATCH_NAME.match(entry["name"]) or sha256(data) != entry.get("sha256"):
            raise Refused(f"{entry['name']} 与 manifest.json 记录的摘要不符", hint=_TAMPERED)
        out.append(data)
    return out


def _check_paths(each: list[list[str]], sender: Layer) -> list[str]:
    """Every path the patches touch (``each``: per patch); refused when one is not the sender's own."""
    touched: list[str] = []
    for n, paths in enumerate(each, 1):
        for path in paths:
            if not owns(sender, path):
                raise Refused(
                    f"第 {n} 个补丁改动了 {_shown(path)}，不属于发送方 {sender} 自己的层级",
                    hint=f"{sender} 只能携带 {sender.root}/ 和本层的论证、调整记录；请对方重新生成归档",
                )
            touched.append(path)
    return sorted(set(touched))


def _shown(path: str) -> str:
    """A path from a patch as it may be printed: undecodable bytes and control characters escaped."""
    return (
        path.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace") if not path.isprintable() else path
    )


def _check_results(manifest: dict[str, Any], base: dict[str, bytes | None], result: dict[str, bytes | None]) -> None:
    """The files and content digests the patches produce must be those the manifest states."""
    files = manifest["files"]
    for path, made in result.items():
        want = files.get(path, _hash(base.get(path)))
        if want != _hash(made):
            raise Refused(f"{path}：补丁产生的内容与 manifest.json 记录的摘要不符", hint=_TAMPERED)
    extra = set(files) - set(result)
    if extra:
        raise Refused(f"manifest.json 列出了补丁未涉及的文件：{'、'.join(sorted(extra))}", hint=_TAMPERED)
    for item in manifest["items"]:
        path, digest = item.get("path"), item.get("digest")
        if path is None:
            continue
        try:
            data = yamlio.load_json(result.get(path) or b"")[0]
        except yamlio.YamlProblem:
            data = None
        if not isinstance(data, dict) or content_digest(data) != digest:
            raise Refused(f"{item.get('id')} 的内容摘要与补丁产生的内容不符", hint=_TAMPERED)


def _branch(root: Path, wanted: str | None, sender: Layer, date: str) -> str:
    if wanted is not None:
        if not archive.valid_branch(root, wanted):
            raise UsageError(f"--branch {wanted} 不是有效的分支名")
        if archive.ref_exists(root, f"refs/heads/{wanted}"):
            raise UsageError(f"分支 {wanted} 已存在", hint="换一个 --branch 名称，或删除旧分支")
        return wanted
    name, n = f"intake/{sender.code}/{date}", 1
    while archive.ref_exists(root, f"refs/heads/{name}"):
        n += 1
        name = f"intake/{sender.code}/{date}-{n}"
    return name


@writes
def intake(root: Path, file: Path, branch: str | None = None) -> Intake:
    """Verify an archive whole, then apply it onto a review branch and validate it there."""
    from twoku.ops.validate import validate

    root = root.resolve()
    own, _ = store_layer(root)
    members = archive.unpack(file)
    manifest, sender = _manifest(members)
    problem = direction(manifest["kind"], sender, own).problem
    if problem:
        raise Refused(problem, hint=f"本库是 {own}；报送交给上级，发布交给下级")
    patches = _patches(members, manifest)
    # What git am will apply, as git splits and decodes it; the paths as git's own parser reads them.
    diffs = [archive.mail_patch(patch, n) for n, patch in enumerate(patches, 1)]
    paths = _check_paths([archive.touched(diff) for diff in diffs], sender)
    bundle = members.get(BUNDLE)
    if bundle is None or sha256(bundle) != manifest["bundle"].get("sha256"):
        raise Refused("repo.bundle 缺失或与 manifest.json 记录的摘要不符", hint=_TAMPERED)
    head = manifest["head"]
    if head not in archive.bundle_heads(root, bundle):
        raise Refused("repo.bundle 的终点不是 manifest.json 所记录的提交", hint=_TAMPERED)
    received = f"refs/twoku/intake/{sender.code}"
    if archive.ref_exists(root, received) and archive.is_ancestor(root, head, received):
        return Intake(manifest, already=True)
    base = archive.files_at(root, "HEAD", paths)
    if _present(manifest, base):
        return Intake(manifest, already=True)
    # Applied in a scratch index: every path and mode each patch really changes (a rename's old path too).
    applied = archive.apply_checked(root, "HEAD", diffs)
    _check_paths(applied.paths, sender)
    base = archive.files_at(root, "HEAD", list(applied.result))
    _check_results(manifest, base, applied.result)
    name = _branch(root, branch, sender, manifest["date"])
    with archive.worktree(root, "HEAD") as tree:
        commit = archive.am(tree, patches)
        faults.checkpoint("applied")
        report = validate(tree, use_cache=False)
    faults.note_ref(f"refs/heads/{name}")
    archive.git(root, "branch", name, commit)
    faults.checkpoint("branched")
    archive.fetch_bundle(root, bundle, head, received)
    findings = [f for f in report.findings if f.counts]
    act_on = [f for f in findings if f.code in ACT_ON and owns(own, f.path)] if manifest["kind"] == RELEASE else []
    return Intake(manifest, False, name, commit, findings, act_on)


def _present(manifest: dict[str, Any], base: dict[str, bytes | None]) -> bool:
    """Whether this store already holds every file exactly as the archive would leave it."""
    files = manifest["files"]
    return bool(files) and all(_hash(base.get(p)) == want for p, want in files.items())


def _hash(data: bytes | None) -> str | None:
    return sha256(data) if data is not None else None
