"""Archives that carry a layer's changes between segregated networks, and the git behind them.

One deterministic ``.tar.gz`` (sorted members, fixed mtime, uid, gid and owner names,
gzip with mtime 0): ``patches/NNNN-*.patch`` (``git format-patch``), ``repo.bundle``
(``git bundle``), ``manifest.json`` and ``cover.md``.  Reading one never extracts to
disk: the tar headers are walked first, every name, pax header, size and count bounded
before anything is read; then members are checked (regular files with known names, no
links, devices or paths that climb out) and read into memory.  Patches are read with
git's own machinery, never by matching lines: ``git mailsplit`` and ``git mailinfo`` give
what ``git am`` will apply, ``git apply --numstat -z`` its paths, and ``git apply --cached``
in an empty repository borrowing this one's objects every path and mode each patch
really changes, so a refused archive leaves no file, branch, ref or object behind.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError
from twoku.model.exchange import BUNDLE, COVER, MANIFEST, PATCH_NAME

MAX_ARCHIVE = 256 << 20  # the file as it travels
MAX_MEMBER = 128 << 20
MAX_TOTAL = 512 << 20  # unpacked, all members together
MAX_MEMBERS = 10_000
MAX_NAME = 4096  # bytes of a GNU long name or link name (a twoku archive's names are under 100)
MAX_PAX = 64 << 10  # bytes of a pax extended header
FIXED_MTIME = 0
_BLOCK = tarfile.BLOCKSIZE
_LONG_NAMES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_PAX = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_PAX_RECORD = re.compile(rb"([0-9]{1,9}) ")
# Settings that would otherwise make patches and bundles differ from one machine to another.
_STABLE = (
    "-c", "core.quotepath=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
    "-c", "format.signature=", "-c", "format.coverLetter=false", "-c", "pack.threads=1",
)  # fmt: skip


class Refused(TwokuError):
    """An archive that must not be taken in; nothing has been written."""


class GitFailed(TwokuError):
    """A git command that did not succeed."""


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    env.pop("GIT_DIR", None)
    done = subprocess.run(["git", *_STABLE, *args], cwd=cwd, input=input, capture_output=True, env=env)
    if check and done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise GitFailed(f"git {args[0]} 失败：{err}", hint="检查仓库状态和 git 的用户名、邮箱设置")
    return done.stdout


def text(cwd: Path, *args: str) -> str:
    return git(cwd, *args).decode("utf-8", "replace").strip()


# --- the tar ------------------------------------------------------------------------------


def pack(members: Mapping[str, bytes]) -> bytes:
    """The archive's bytes: the same members always give the same bytes."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), FIXED_MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _member_problem(member: tarfile.TarInfo, seen: Mapping[str, bytes]) -> str | None:
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"成员 {name!r} 是绝对路径"
    if "\\" in name or any(part in ("..", ".") for part in name.split("/")):
        return f"成员 {name!r} 的路径含 .. 或反斜杠"
    if member.issym() or member.islnk():
        return f"成员 {name!r} 是链接"
    if not member.isreg():
        return f"成员 {name!r} 不是普通文件（目录、设备或管道）"
    if name in seen:
        return f"成员 {name!r} 重复出现"
    if name not in (MANIFEST, COVER, BUNDLE) and not PATCH_NAME.match(name):
        return f"成员 {name!r} 不是 twoku 归档应有的文件"
    if member.size > MAX_MEMBER:
        return f"成员 {name!r} 超过 {MAX_MEMBER >> 20} MiB"
    return None


def _read_exactly(stream: io.BufferedIOBase | gzip.GzipFile, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _skip(stream: gzip.GzipFile, size: int) -> None:
    left = size
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            return
        left -= len(chunk)


def _pax_size(data: bytes, name: str) -> int | None:
    """The ``size`` a pax header sets for the next member (None: it sets none); Refused when malformed."""
    size, at = None, 0
    while at < len(data) and data[at : at + 1] != b"\0":
        match = _PAX_RECORD.match(data, at)
        length = int(match.group(1)) if match else 0
        record = data[at : at + length]
        if match is None or length <= len(match.group(0)) or not record.endswith(b"\n") or b"=" not in record:
            raise Refused(f"{name} 不是有效的 twoku 归档（pax 扩展头损坏）")
        key, _, value = record[len(match.group(0)) : -1].partition(b"=")
        if key == b"size":
            if not value.isdigit():
                raise Refused(f"{name} 不是有效的 twoku 归档（pax 扩展头的 size 无效）")
            size = int(value)
        at += length
    return size


def _prescan(path: Path, hint: str) -> None:
    """Walk the tar's headers, reading nothing but them and bounded extension headers: every size, name and
    count within its limit before ``tarfile`` reads anything (it reads a GNU long name or a pax header whole,
    whatever its size: a 6 MB archive can hold a name of 1.5 GiB)."""
    name = path.name
    headers = members = total = 0
    pending: int | None = None  # the size a pax header set for the next member
    with gzip.open(path, "rb") as stream:
        while True:
            block = _read_exactly(stream, _BLOCK)
            if len(block) < _BLOCK or block.count(0) == _BLOCK:
                return  # the end (a truncated archive is tarfile's to report)
            headers += 1
            if headers > 3 * MAX_MEMBERS:
                raise Refused(f"{name} 的成员超过 {MAX_MEMBERS} 个", hint=hint)
            try:
                info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
            except tarfile.HeaderError as exc:
                raise Refused(f"{name} 不是有效的 twoku 归档（{exc}）", hint=hint) from None
            size = info.size
            if info.type in _LONG_NAMES:
                if size > MAX_NAME:
                    raise Refused(f"{name} 不安全：成员名长达 {size} 字节，超过 {MAX_NAME} 字节", hint=hint)
            elif info.type in _PAX:
                if size > MAX_PAX:
                    raise Refused(f"{name} 不安全：pax 扩展头长达 {size} 字节，超过 {MAX_PAX >> 10} KiB", hint=hint)
                data = _read_exactly(stream, size)
                found = _pax_size(data, name)
                if info.type != tarfile.XGLTYPE and found is not None:
                    pending = found
                _skip(stream, -size % _BLOCK)
                continue
            else:
                members += 1
                size = pending if pending is not None else size
                pending = None
                if members > MAX_MEMBERS:
                    raise Refused(f"{name} 的成员超过 {MAX_MEMBERS} 个", hint=hint)
                if size > MAX_MEMBER:
                    raise Refused(f"{name} 不安全：成员 {info.name!r} 超过 {MAX_MEMBER >> 20} MiB", hint=hint)
            total += size
            if total > MAX_TOTAL:
                raise Refused(f"{name} 解开后超过 {MAX_TOTAL >> 20} MiB", hint=hint)
            _skip(stream, size + (-size % _BLOCK))


def unpack(path: Path) -> dict[str, bytes]:
    """The members of an archive, checked before a byte of them is used."""
    hint = "向发送方索取原始归档文件，不要自行修改"
    try:
        if path.stat().st_size > MAX_ARCHIVE:
            raise Refused(f"{path.name} 超过 {MAX_ARCHIVE >> 20} MiB", hint=hint)
        _prescan(path, hint)
        out: dict[str, bytes] = {}
        total = 0
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                if len(out) >= MAX_MEMBERS:
                    raise Refused(f"{path.name} 的成员超过 {MAX_MEMBERS} 个", hint=hint)
                problem = _member_problem(member, out)
                if problem:
                    raise Refused(f"{path.name} 不安全：{problem}", hint=hint)
                total += member.size
                if total > MAX_TOTAL:
                    raise Refused(f"{path.name} 解开后超过 {MAX_TOTAL >> 20} MiB", hint=hint)
                handle = tar.extractfile(member)
                out[member.name] = handle.read() if handle else b""
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise Refused(f"{path.name} 不是有效的 twoku 归档（{exc}）", hint=hint) from None
    except FileNotFoundError:
        raise Refused(f"找不到归档文件 {path}") from None
    return out


# --- history ------------------------------------------------------------------------------


def commit_of(root: Path, rev: str) -> str | None:
    out = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
    return out.decode().strip() or None


def merge_base(root: Path, a: str, b: str) -> str | None:
    return git(root, "merge-base", a, b, check=False).decode().strip() or None


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    done = subprocess.run(["git", "merge-base", "--is-ancestor", older, newer], cwd=root, capture_output=True)
    return done.returncode == 0


def commits(root: Path, since: str, until: str, specs: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(sha, subject) of the non-merge commits in since..until, oldest first, touching ``specs``."""
    args = ["log", "--reverse", "--no-merges", "--format=%H%x00%s", f"{since}..{until}"]
    out = text(root, *args, *(["--", *specs] if specs else []))
    return [(line.split("\0", 1)[0], line.split("\0", 1)[1]) for line in out.splitlines() if "\0" in line]


def commit_paths(root: Path, sha: str) -> list[str]:
    out = git(root, "diff-tree", "--no-commit-id", "-r", "--name-only", "-z", "--no-renames", "--root", sha)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def dirty(root: Path, specs: Sequence[str]) -> list[str]:
    out = git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *specs)
    return [entry[3:] for entry in out.decode("utf-8", "replace").split("\0") if len(entry) > 3]


def files_at(root: Path, rev: str, paths: Sequence[str]) -> dict[str, bytes | None]:
    """The bytes of each path at a revision (None where absent)."""
    out: dict[str, bytes | None] = {}
    for path in paths:
        done = subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"], cwd=root, capture_output=True)
        out[path] = done.stdout if done.returncode == 0 else None
    return out


def paths_at(root: Path, rev: str, folder: str) -> list[str]:
    out = git(root, "ls-tree", "-r", "-z", "--name-only", rev, "--", folder)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def tags(root: Path, prefix: str) -> list[str]:
    """Tag names under ``prefix``, newest first."""
    args = ["for-each-ref", "--sort=-refname", "--sort=-creatordate", "--format=%(refname:short)"]
    out = text(root, *args, f"refs/tags/{prefix}")
    return [line for line in out.splitlines() if line]


def tag(root: Path, name: str, commit: str, message: str) -> None:
    git(root, "tag", "-a", "-m", message, name, commit)


def ref_exists(root: Path, ref: str) -> bool:
    return bool(git(root, "rev-parse", "--verify", "--quiet", ref, check=False).strip())


def valid_branch(root: Path, name: str) -> bool:
    return subprocess.run(["git", "check-ref-format", "--branch", name], cwd=root, capture_output=True).returncode == 0


# --- patches and bundles ------------------------------------------------------------------


def format_patches(root: Path, since: str, until: str, specs: Sequence[str]) -> list[tuple[str, bytes]]:
    """``git format-patch`` of since..until limited to ``specs``: (file name, bytes), in order."""
    with tempfile.TemporaryDirectory(prefix="twoku-patches-") as tmp:
        args = ["format-patch", "-q", "--no-signature", "--no-thread", "--no-color", "--no-renames", "--full-index"]
        git(root, *args, "--encoding=UTF-8", "-o", tmp, f"{since}..{until}", "--", *specs)
        return [(p.name, p.read_bytes()) for p in sorted(Path(tmp).iterdir())]


def bundle(root: Path, since: str, head: str) -> bytes:
    """A ``git bundle`` of since..head: the commits themselves, for ``git bundle verify`` upstream.

    Made in an empty repository borrowing this one's objects: pack-objects writes tagged
    commits first, so the same range must not depend on which tags happen to exist.
    """
    objects = (root / text(root, "rev-parse", "--git-path", "objects")).resolve()
    with _scratch() as tmp:
        bare = tmp / "bundle.git"
        git(tmp, "init", "-q", "--bare", str(bare))
        (bare / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
        git(bare, "update-ref", "--no-deref", "HEAD", head)
        git(bare, "bundle", "create", "-q", str(tmp / BUNDLE), f"{since}..HEAD")
        return (tmp / BUNDLE).read_bytes()


@contextlib.contextmanager
def _scratch(files: Mapping[str, bytes] | None = None) -> Iterator[Path]:
    """A temporary directory outside any repository, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="twoku-scratch-"))
    try:
        for name, data in (files or {}).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bundle_heads(root: Path, data: bytes) -> list[str]:
    """``git bundle verify`` against this repository; the commits the bundle ends at."""
    with _scratch({BUNDLE: data}) as tmp:
        done = subprocess.run(["git", "bundle", "verify", str(tmp / BUNDLE)], cwd=root, capture_output=True)
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Refused(
                f"repo.bundle 校验失败：{why[-1] if why else '未知原因'}",
                hint="本库缺少该归档所依据的提交：先接收此前的报送或发布，或请对方用 --since 从双方共有的提交开始",
            )
        heads = text(root, "bundle", "list-heads", str(tmp / BUNDLE))
    return [line.split()[0] for line in heads.splitlines() if line.strip()]


def fetch_bundle(root: Path, data: bytes, head: str, ref: str) -> None:
    """Keep the bundle's commits under ``ref``, so the next archive's bundle verifies here."""
    with _scratch({BUNDLE: data}) as tmp:
        git(root, "fetch", "-q", "--no-tags", str(tmp / BUNDLE), f"+{head}:{ref}")


def mail_patch(patch: bytes, n: int) -> bytes:
    """The diff ``git am`` would apply from one patch file, as git itself splits it: exactly one message
    (``git mailsplit``), its patch part decoded (``git mailinfo``: a base64 or quoted-printable body is
    what am applies, not what the raw bytes show)."""
    hint = "补丁应由 twoku report-upstream 或 twoku release 生成（git format-patch，每个文件一封邮件）"
    with _scratch({"mail": patch}) as tmp:
        (tmp / "split").mkdir()
        done = subprocess.run(
            ["git", "mailsplit", f"-o{tmp / 'split'}", str(tmp / "mail")], cwd=tmp, capture_output=True
        )
        count = done.stdout.decode("ascii", "replace").strip()
        if done.returncode != 0 or count != "1":
            raise Refused(f"第 {n} 个补丁不是恰好一封邮件（git mailsplit：{count or '无法拆分'}）", hint=hint)
        mail = (tmp / "split" / "0001").read_bytes()
        done = subprocess.run(
            ["git", "mailinfo", str(tmp / "msg"), str(tmp / "patch")], cwd=tmp, input=mail, capture_output=True
        )
        if done.returncode != 0:
            raise Refused(f"第 {n} 个补丁无法解析（git mailinfo 失败）", hint=hint)
        return (tmp / "patch").read_bytes()


def touched(patch: bytes) -> list[str]:
    """Every path a diff changes as git's own parser reads it (``git apply --numstat -z``: paths unquoted, file
    content never taken for a header).  A pure rename shows its new path only: apply_checked names both."""
    with _scratch() as tmp:
        done = subprocess.run(["git", "apply", "--numstat", "-z", "-"], cwd=tmp, input=patch, capture_output=True)
    if done.returncode != 0:
        raise Refused("补丁无法解析：" + done.stderr.decode("utf-8", "replace").strip())
    tokens = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    paths: list[str] = []
    i = 0
    while i < len(tokens):
        entry = tokens[i]
        if not entry:
            i += 1
            continue
        fields = entry.split("\t", 2)
        if len(fields) == 3 and fields[2]:
            paths.append(fields[2])
            i += 1
        else:  # a rename or copy with changes: "added\tdeleted\t" then the old and the new path
            paths += [p for p in tokens[i + 1 : i + 3] if p]
            i += 3
    return list(dict.fromkeys(paths))


REGULAR_MODES = ("100644", "100755")


@dataclass(frozen=True)
class Applied:
    """What a patch series does to a commit's tree, as git applied it in a scratch index."""

    paths: list[list[str]]  # each patch's changed paths (a rename: both), in order
    result: dict[str, bytes | None]  # every changed path as the series leaves it (None: gone)


def apply_checked(root: Path, base: str, patches: Sequence[bytes]) -> Applied:
    """Apply ``patches`` one by one to ``base``'s tree in a scratch index (``git apply --cached`` in an empty
    repository borrowing this one's objects: nothing is written here), and take each patch's changes from git
    (``git diff-tree``): every path, and every mode, so a symbolic link or submodule is refused however its
    header was spelled."""
    objects = (root / text(root, "rev-parse", "--git-path", "objects")).resolve()
    commit = commit_of(root, base)
    if commit is None:
        raise GitFailed(f"{base} 不是提交", hint="先提交本库的文件")
    with _scratch() as tmp:
        bare = tmp / "check.git"
        git(tmp, "init", "-q", "--bare", str(bare))
        (bare / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
        env = {**os.environ, "GIT_INDEX_FILE": str(tmp / "index"), "LC_ALL": "C"}
        env.pop("GIT_DIR", None)

        def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(["git", *_STABLE, *args], cwd=bare, input=input, capture_output=True, env=env)

        if run("read-tree", commit).returncode != 0:
            raise GitFailed(f"git read-tree {base} 失败", hint="检查仓库状态")
        before = run("write-tree").stdout.decode().strip()
        paths: list[list[str]] = []
        for n, patch in enumerate(patches, 1):
            done = run("apply", "--cached", "--whitespace=nowarn", "-", input=patch)
            if done.returncode != 0:
                why = done.stderr.decode("utf-8", "replace").strip().splitlines()
                raise Refused(
                    f"第 {n} 个补丁不能应用在本库当前版本上：{why[0] if why else ''}",
                    hint="本库的这些文件与对方所依据的版本不同：先合并此前接收的分支，再接收本归档",
                )
            after = run("write-tree").stdout.decode().strip()
            changes = run("diff-tree", "-r", "-z", "--no-renames", before, after).stdout
            paths.append(_changed(changes, n))
            before = after
        changed = list(dict.fromkeys(p for each in paths for p in each))
        return Applied(paths, _blobs(run, before, changed))


def _blobs(run: Any, tree: str, paths: list[str]) -> dict[str, bytes | None]:
    """Each path's bytes in ``tree`` (None where gone): one ``git cat-file --batch`` for them all (a release
    may change thousands of files), a process of its own for a path with a line break in it."""
    out: dict[str, bytes | None] = {}
    plain = [p for p in paths if "\n" not in p]
    asked = "".join(f"{tree}:{p}\n" for p in plain).encode("utf-8", "surrogateescape")
    data = run("cat-file", "--batch", input=asked).stdout if plain else b""
    at = 0
    for path in plain:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            out[path] = data[at : at + size]
            at += size + 1
        else:
            out[path] = None  # missing: the series removed it
    for path in paths:
        if path not in out:
            done = run("cat-file", "blob", f"{tree}:{path}")
            out[path] = done.stdout if done.returncode == 0 else None
    return {p: out[p] for p in paths}


def _changed(raw: bytes, n: int) -> list[str]:
    """The paths of ``git diff-tree -r -z`` output; Refused where one becomes anything but a regular file."""
    tokens = raw.decode("utf-8", "surrogateescape").split("\0")
    out = []
    for status, path in zip(tokens[0::2], tokens[1::2], strict=False):
        if not status.startswith(":"):
            continue
        new_mode = status[1:].split(" ")[1]
        if new_mode not in (*REGULAR_MODES, "000000"):
            kind = (
                "符号链接" if new_mode == "120000" else "子模块" if new_mode == "160000" else f"模式 {new_mode} 的条目"
            )
            raise Refused(f"第 {n} 个补丁把 {path} 变成{kind}，不予接收", hint="两库只由普通文件组成")
        out.append(path)
    return out


@contextlib.contextmanager
def worktree(root: Path, base: str) -> Iterator[Path]:
    """A temporary detached worktree at ``base``; the user's checkout is never touched."""
    from twoku.store.writes import faults

    with _scratch() as tmp:
        tree = tmp / "store"
        faults.note_worktree(tree)  # a killed command's worktree is removed by the next writer's play-back
        try:
            git(root, "worktree", "add", "-q", "--detach", str(tree), base)
            yield tree
        finally:
            git(root, "worktree", "remove", "--force", str(tree), check=False)
            shutil.rmtree(tree, ignore_errors=True)  # so that prune forgets it even where remove failed
            git(root, "worktree", "prune", check=False)


def am(tree: Path, patches: Sequence[bytes]) -> str:
    """Apply a patch series with ``git am`` in ``tree``; the resulting commit.  Its options pin what a user's
    configuration could change (am.keepcr, am.threeWay, apply.whitespace, format detection), so that it
    applies what mail_patch and apply_checked checked."""
    with _scratch({f"{n:04d}.patch": p for n, p in enumerate(patches, 1)}) as tmp:
        done = subprocess.run(
            [
                "git",
                "am",
                "-q",
                "--no-3way",
                "--patch-format=mbox",
                "--no-keep-cr",
                "--whitespace=nowarn",
                *sorted(str(p) for p in tmp.iterdir()),
            ],
            cwd=tree,
            capture_output=True,
        )
        if done.returncode != 0:
            git(tree, "am", "--abort", check=False)
            why = done.stderr.decode("utf-8", "replace").strip()
            raise GitFailed(f"git am 失败：{why}", hint="检查 git 的用户名、邮箱设置，以及本库是否有未合并的接收分支")
    return text(tree, "rev-parse", "HEAD")
