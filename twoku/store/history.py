"""Reading earlier versions of store files from git history."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from twoku.store import yamlio

MAX_COMMITS = 500


def version_with_digest(
    root: Path, path: str, digest: str, digest_of: Callable[[Mapping[str, Any]], str]
) -> dict[str, Any] | None:
    """The data of ``path`` as it was in the newest commit where its digest was ``digest``."""
    return versions_with_digests(root, [(path, digest)], digest_of)[(path, digest)]


def versions_with_digests(
    root: Path, wanted: Iterable[tuple[str, str]], digest_of: Callable[[Mapping[str, Any]], str]
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """version_with_digest for each (path, digest), with one repository (and one git reader for all)."""
    wanted = list(dict.fromkeys(wanted))
    out: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(wanted)
    try:
        import git

        repo = git.Repo(root, search_parent_directories=False)
    except Exception:  # no repository: no history to offer
        return out
    try:
        # One log of every path asked about, each commit with the blobs it wrote ("--raw"): the versions of a
        # path, newest first, without a git process per path or a tree walk per commit.
        paths = sorted({path for path, _ in wanted})
        log = repo.git.log(
            f"--max-count={MAX_COMMITS * len(paths)}", "--format=", "--raw", "--no-abbrev", "--no-renames", "--", *paths
        )
        blobs: dict[str, list[str]] = {}
        for line in log.splitlines():
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if line.startswith(":") and len(fields) >= 5 and fields[4] != "D":
                versions = blobs.setdefault(path, [])
                if len(versions) < MAX_COMMITS:
                    versions.append(fields[3])
        seen: dict[str, dict[str, Any] | None] = {}  # blob → data
        for path, digest in wanted:
            for blob in blobs.get(path, []):
                if blob not in seen:
                    try:
                        data, _ = yamlio.load_json(repo.odb.stream(bytes.fromhex(blob)).read())
                    except (ValueError, yamlio.YamlProblem):
                        data = None
                    seen[blob] = data if isinstance(data, dict) else None
                data = seen[blob]
                if data is not None and digest_of(data) == digest:
                    out[(path, digest)] = data
                    break
    except Exception:  # no commits, a shallow clone: no (further) history to offer
        pass
    finally:
        repo.close()
    return out
