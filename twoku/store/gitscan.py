"""The store's files and their blob ids as git's own index knows them, without a stat per file in Python.

An unchanged store is what git's index already describes: ``git ls-files --stage`` names every
tracked file with its blob id, ``git diff-files`` the few whose content may differ from it (git
stats them in C, in parallel, and handles racily clean entries itself), and ``git ls-files
--others`` the untracked ones.  Only those last two need reading and hashing.  Anything unusual
(no git, a submodule, a nested repository) answers None and validate walks the folders instead.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from twoku.model.layout import CONFIG_FILE, TOP_DIRS, is_yaml

_PLAIN_MODES = ("100644", "100755")
_YAML = (".yaml", ".yml")  # layout.is_yaml, inlined for 55,000 paths
_STAGE = re.compile(r"(\S) (\d+) ([0-9a-f]+) (\d)\t(.*)", re.DOTALL)


@dataclass(frozen=True)
class Scan:
    paths: list[str]  # every YAML file of the store, sorted, as store_paths() finds them
    known: dict[str, str]  # path → blob id, where the worktree file is the index's blob
    unknown: list[str]  # paths to read and hash: modified, untracked, or odd in the index


def _hidden(path: str) -> bool:
    """Whether a folder of the path starts with "." (the folder walk skips those)."""
    return any(part.startswith(".") for part in path.split("/")[:-1])


def _plain(record: str) -> bool:
    """A YAML file outside hidden folders (record: a line of ls-files --stage with a sha-1 blob id)."""
    return record.endswith(_YAML) and "/." not in record and record[52:53] != "."


def _finish(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        proc.communicate()


_started: dict[str, dict[str, subprocess.Popen[bytes]] | None] = {}


def _start(root: Path) -> dict[str, subprocess.Popen[bytes]] | None:
    if any(os.path.islink(root / top) for top in TOP_DIRS):
        return None  # git keeps a linked folder as one link; the walk goes into it
    specs = ["--", CONFIG_FILE, *TOP_DIRS]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    commands = {
        "stage": ["git", "ls-files", "--stage", "-v", "-z", *specs],
        "dirty": ["git", "diff-files", "--name-only", "--relative", "-z", *specs],
        "others": ["git", "ls-files", "--others", "-z", *specs],
    }
    try:
        return {
            name: subprocess.Popen(
                args, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            for name, args in commands.items()
        }
    except OSError:  # no git at all
        return None


def prestart() -> None:
    """Ask git about the store of the working directory now, so that it stats the files while Python
    imports and parses the command line (``twoku validate`` calls this first thing)."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            _started[str(folder.resolve())] = _start(folder)
            return


# The common record: a regular YAML file at stage 0, "H 100644 <sha-1> 0\t<path>\0" (-v: "H" unless flagged).
_COMMON = re.compile(r"(?:^|(?<=\0))H 100644 ([0-9a-f]{40}) 0\t([^\0]*\.ya?ml)\0")


def _common(staged: str) -> tuple[dict[str, str], list[str]]:
    """path → blob of the common records, and the other records (to be looked at one by one).

    One regular expression over the whole output, in C, where nearly every record is common: a store's
    YAML records are then all of them, and a submodule's mode appears nowhere (55,000 records: 35 ms
    instead of 65).  Else each record is taken apart by position."""
    found = _COMMON.findall(staged)
    if len(found) == staged.count(".yaml\0") + staged.count(".yml\0") and " 160000 " not in staged:
        known = {path: blob for blob, path in found}
        if "/." in staged:  # a hidden folder's files are not the store's (the walk skips them)
            known = {path: blob for path, blob in known.items() if not _hidden(path)}
        return known, []  # the records left hold no YAML file (a code table's CSV…), nor a submodule
    return _by_position(staged)


def _by_position(staged: str) -> tuple[dict[str, str], list[str]]:
    records = staged.split("\0")
    # _plain inlined: a call per record was a sixth of an unchanged store's validate.
    known = {
        r[52:]: r[9:49]
        for r in records
        if r[:9] == "H 100644 " and r[49:52] == " 0\t" and r.endswith(_YAML) and "/." not in r and r[52:53] != "."
    }
    # git's index holds one entry per path at stage 0, so the other records are those whose path is not known.
    return known, [r for r in records if r and (r[52:] not in known or r[:9] != "H 100644 " or r[49:52] != " 0\t")]


def _index(staged: str, careful: bool = False) -> tuple[dict[str, str], set[str]] | None:
    """path → blob of the YAML files git's index vouches for, and the paths it holds oddly (to be read);
    None for a submodule or a record not understood (``careful``: take every record apart by position)."""
    known, rest = _by_position(staged) if careful else _common(staged)
    odd: set[str] = set()
    for record in rest:
        if record[:9] == "H 100644 " and record[49:52] == " 0\t" and _plain(record):
            continue
        match = _STAGE.fullmatch(record)
        if match is None:
            return None
        tag, mode, blob, stage, path = match.groups()
        if mode == "160000":
            return None  # a submodule: its files are not in this index
        if not path.endswith(_YAML) or _hidden(path):
            continue
        if tag == "H" and stage == "0" and mode in _PLAIN_MODES:
            known[path] = blob
        else:  # assume-unchanged, skip-worktree, unmerged or a symbolic link: read the file itself
            odd.add(path)
    return known, odd


def scan(root: Path) -> Scan | None:
    """The store's files from git's index, or None when git cannot say (then walk the folders)."""
    key = str(root.resolve())
    procs = _started.pop(key) if key in _started else _start(root)
    if procs is None:
        return None
    staged = procs["stage"].communicate()[0].decode("utf-8", "surrogateescape")  # the others run meanwhile
    indexed = _index(staged)
    if indexed is None:
        _finish(procs)
        return None
    known, odd = indexed
    outs = {name: proc.communicate()[0] for name, proc in procs.items() if name != "stage"}
    if any(proc.returncode != 0 for proc in procs.values()):
        return None  # not a git repository (or git refused): walk instead
    others = [p.decode("utf-8", "surrogateescape") for p in outs["others"].split(b"\0") if p]
    if any(p.endswith("/") for p in others):
        return None  # a nested repository: the walk would go into it, git does not
    dirty = {p.decode("utf-8", "surrogateescape") for p in outs["dirty"].split(b"\0") if p}
    unknown = odd | {p for p in (*dirty, *others) if is_yaml(p) and not _hidden(p)}
    for path in unknown:
        known.pop(path, None)
    base = f"{root}{os.sep}"
    present = [p for p in unknown if os.path.isfile(base + p)]  # a deleted file is no longer the store's
    return Scan(sorted([*known, *present]), known, sorted(present))
