"""Reading earlier versions of store files from git history."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from twoku.store import yamlio

MAX_COMMITS = 500


def version_with_digest(
    root: Path, path: str, digest: str, digest_of: Callable[[Mapping[str, Any]], str]
) -> dict[str, Any] | None:
    """The data of ``path`` as it was in the newest commit where its digest was ``digest``."""
    try:
        import git

        repo = git.Repo(root, search_parent_directories=False)
        commits = repo.iter_commits(paths=path, max_count=MAX_COMMITS)
        for commit in commits:
            try:
                raw = (commit.tree / path).data_stream.read()
                data, _ = yamlio.load_json(raw)
            except (KeyError, yamlio.YamlProblem):
                continue
            if isinstance(data, dict) and digest_of(data) == digest:
                return data
    except Exception:  # no repository, no commits, shallow clone: no history to offer
        return None
    return None
