"""Reading earlier versions of store files from git history."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from twoku.store.documents import yamlio

MAX_COMMITS = 500


def version_with_digest(
    root: Path, path: str, digest: str, digest_of: Callable[[Mapping[str, Any]], str]
) -> dict[str, Any] | None:
    """The data of ``path`` as it was in the newest commit where its digest was ``digest``."""
    return versions_with_digests(root, [(path, digest)], digest_of)[(path, digest)]


def versions_with_digests(
    root: Path, wanted: Iterable[tuple[str, str]], digest_of: Callable[[Mapping[str, Any]], str]
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """version_with_digest for each (path, digest): one ``git log --raw`` of all the paths gives each path's
    blobs, newest first, and ``git cat-file --batch`` reads them, a round of one blob per path at a time
    (nearly always the first is the one: what was committed before the edit being explained)."""
    wanted = list(dict.fromkeys(wanted))
    out: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(wanted)
    if not wanted:
        return out
    paths = sorted({path for path, _ in wanted})
    log = _git(
        root,
        "log",
        f"--max-count={MAX_COMMITS * len(paths)}",
        "--format=",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-z",
        "--",
        *paths,
    )
    if log is None:
        return out
    blobs: dict[str, list[str]] = {}
    tokens = log.split(b"\0")
    n = 0
    while n < len(tokens) - 1:
        meta = tokens[n].strip()
        if not meta.startswith(b":"):
            n += 1
            continue
        fields = meta.split()  # :<mode> <mode> <old blob> <new blob> <status>, then the path
        name = tokens[n + 1].decode("utf-8", "surrogateescape")
        n += 2
        if len(fields) >= 5 and not fields[4].startswith(b"D"):
            versions = blobs.setdefault(name, [])
            if len(versions) < MAX_COMMITS:
                versions.append(fields[3].decode("ascii"))
    seen: dict[str, dict[str, Any] | None] = {}  # blob → data
    step = 0
    todo = [pair for pair in wanted if blobs.get(pair[0])]
    while todo:
        round_ = {blobs[path][step] for path, _ in todo if step < len(blobs[path])} - seen.keys()
        seen.update(_read_blobs(root, sorted(round_)))
        left = []
        for path, digest in todo:
            if step >= len(blobs[path]):
                continue
            data = seen.get(blobs[path][step])
            if data is not None and digest_of(data) == digest:
                out[(path, digest)] = data
            else:
                left.append((path, digest))
        todo, step = left, step + 1
    return out


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    """What a git command printed; None when it could not run (no git, no repository, no commits)."""
    from twoku.store.archive import GitFailed, git

    try:
        return git(root, "--literal-pathspecs", *args, input=stdin)
    except (GitFailed, OSError):
        return None


def _read_blobs(root: Path, blobs: list[str]) -> dict[str, dict[str, Any] | None]:
    """Each blob's data as a store file (None where it is not one)."""
    if not blobs:
        return {}
    raw = _git(root, "cat-file", "--batch", stdin="".join(f"{blob}\n" for blob in blobs).encode("ascii"))
    out: dict[str, dict[str, Any] | None] = dict.fromkeys(blobs)
    at = 0
    while raw is not None and at < len(raw):
        end = raw.index(b"\n", at)
        header = raw[at:end].split()
        if len(header) != 3:  # "<blob> missing"
            at = end + 1
            continue
        size = int(header[2])
        content = raw[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
        try:
            data, _ = yamlio.load_json(content)
        except yamlio.YamlProblem:
            data = None
        out[header[0].decode("ascii")] = data if isinstance(data, dict) else None
    return out
