"""The store's files and their blob ids as git's own index knows them, without a stat per file in Python.

An unchanged store is what git's index already describes: ``git ls-files --stage`` names every
tracked file with its blob id, ``git diff-files`` the few whose content may differ from it (git
stats them in C, in parallel, and handles racily clean entries itself), and ``git ls-files
--others`` the untracked ones.  Only those last two need reading and hashing.  Anything unusual
(no git, a submodule, a nested repository) answers None and validate walks the folders instead.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from twoku.model.layout import CONFIG_FILE, TOP_DIRS, is_yaml
from twoku.store.caching.cache import git_dir, read_quietly, staged_file, write_quietly

_PLAIN_MODES = ("100644", "100755")
_YAML = (".yaml", ".yml")  # layout.is_yaml, inlined for 55,000 paths
_STAGE = re.compile(r"(\S) (\d+) ([0-9a-f]+) (\d)\t(.*)", re.DOTALL)


@dataclass(frozen=True)
class Scan:
    paths: list[str]  # every YAML file of the store, sorted, as store_paths() finds them
    known: dict[str, str]  # path → blob id, where the worktree file is the index's blob
    unknown: list[str]  # paths to read and hash: modified, untracked, or odd in the index
    # A fingerprint of git's index as read (every path and blob id in it), where the reading was kept, and the
    # paths that may differ from it (unknown ones, and those gone): together they fix every path and blob id.
    index_digest: str | None = field(default=None, compare=False)  # kept readings only
    changed: tuple[str, ...] = ()


Reading = tuple[dict[str, str], set[str], str]  # path → blob of plain files, odd paths, digest of the two


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
_read_ahead: dict[str, tuple[tuple[int, ...], Reading]] = {}  # prestart's kept readings
stage_reads = 0  # how many times git's index was read through ls-files --stage (the tests watch it)
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _commands() -> dict[str, list[str]]:
    specs = ["--", CONFIG_FILE, *TOP_DIRS]
    return {
        "dirty": ["git", "diff-files", "--name-only", "--relative", "-z", *specs],
        "others": ["git", "ls-files", "--others", "-z", *specs],
        "stage": ["git", "ls-files", "--stage", "-v", "-z", *specs],
    }


def _spawn(root: Path, args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=root,
        env={**os.environ, **_ENV},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _start(root: Path, stage: bool = True) -> dict[str, subprocess.Popen[bytes]] | None:
    if any(os.path.islink(root / top) for top in TOP_DIRS):
        return None  # git keeps a linked folder as one link; the walk goes into it
    try:
        return {name: _spawn(root, args) for name, args in _commands().items() if stage or name != "stage"}
    except OSError:  # no git at all
        return None


def prestart() -> None:
    """Ask git about the store of the working directory now, so that it stats the files while Python
    imports and parses the command line (``twoku validate`` calls this first thing)."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            key = str(folder.resolve())
            procs = _started[key] = _start(folder, stage=False)
            if procs is None:
                return
            signature, keep = _index_signature(folder), staged_file(folder)
            kept = _read_kept(keep, key, signature) if keep is not None and signature is not None else None
            if kept is not None and signature is not None:
                _read_ahead[key] = (signature, kept)
            else:
                try:
                    procs["stage"] = _spawn(folder, _commands()["stage"])
                except OSError:
                    _started[key] = None
            return


def forget(root: Path) -> None:
    """Stop what prestart asked git about this store: the caller does without it."""
    procs = _started.pop(str(root.resolve()), None)
    _read_ahead.pop(str(root.resolve()), None)
    for proc in (procs or {}).values():
        proc.kill()
        proc.wait()


def _index_signature(root: Path) -> tuple[int, ...] | None:
    """What changes whenever git writes its index (a new file each time: written aside, then renamed over the
    old one): None where the index is not the plain .git/index of this folder."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_COMMON_DIR")):
        return None
    git = git_dir(root)
    if git is None:
        return None  # the store is a folder inside a repository: its index is not looked for
    index = git / "index"
    try:
        stat = os.stat(index)
    except OSError:
        return None
    return (stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _read_kept(keep: Path, root: str, signature: tuple[int, ...]) -> Reading | None:
    """What the last reading of git's index found, if it was of this very index file."""
    kept = read_quietly(keep, marshal.loads)
    if not (isinstance(kept, tuple) and len(kept) == 5 and kept[0] == [root, *signature]):
        return None
    known, odd, digest = kept[2], kept[3], kept[4]
    if not (isinstance(known, dict) and isinstance(odd, list) and isinstance(digest, str)):
        return None
    return known, set(odd), digest


def _digest(known: dict[str, str], odd: set[str]) -> str:
    digest = hashlib.sha1("\0".join(known).encode("utf-8", "surrogateescape"))
    digest.update("".join(known.values()).encode("ascii", "surrogateescape"))
    digest.update("\0".join(sorted(odd)).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _keep(keep: Path, root: str, signature: tuple[int, ...], reading: Reading) -> None:
    known, odd, digest = reading
    write_quietly(keep, marshal.dumps(([root, *signature], 1, known, sorted(odd), digest)))  # or read again next time


# The common record: a regular YAML file at stage 0, "H 100644 <sha-1> 0\t<path>\0" (-v: "H" unless flagged).
_COMMON = re.compile(r"(?:^|(?<=\0))H 100644 ([0-9a-f]{40}) 0\t([^\0]*\.ya?ml)\0")


def _common(staged: str) -> tuple[dict[str, str], list[str]]:
    """path → blob of the common records, and the other records (to be looked at one by one).

    One regular expression over the whole output, in C, where nearly every record is common: a store's
    YAML records are then all of them, and a submodule's mode appears nowhere (55,000 records: 35 ms
    instead of 65).  Else each record is taken apart by position."""
    found = _COMMON.findall(staged)
    common = " 160000 " not in staged and " 120000 " not in staged  # a link of any name is read (TK109)
    if common and len(found) == staged.count(".yaml\0") + staged.count(".yml\0"):
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
        if (not path.endswith(_YAML) and mode != "120000") or _hidden(path):
            continue  # a link is the store's whatever its name: it is read as a link (TK109)
        if tag == "H" and stage == "0" and mode in _PLAIN_MODES:
            known[path] = blob
        elif tag == "H" and stage == "0" and mode == "120000":
            # A link by git's mode, whatever the checkout made of it: files.link_blob's mark, read as TK109.
            known[path] = "L" + blob[1:]
        else:  # assume-unchanged, skip-worktree, unmerged or a symbolic link: read the file itself
            odd.add(path)
    return known, odd


def scan(root: Path, keep: Path | None = None) -> Scan | None:
    """The store's files from git's index, or None when git cannot say (then walk the folders).

    ``keep``: a file to keep the reading of git's index in.  While git has not written its index again
    (an edit, even of many files, does not), that reading is taken from there: git's list of 55,000 files
    took a third of an unchanged store's validate to pass through a pipe and take apart."""
    global stage_reads
    key = str(root.resolve())
    procs = _started.pop(key) if key in _started else _start(root, stage=False)
    if procs is None:
        return None
    signature = _index_signature(root) if keep is not None else None
    ahead = _read_ahead.pop(key, None)
    indexed = None
    if signature is not None and keep is not None:
        indexed = ahead[1] if ahead is not None and ahead[0] == signature else _read_kept(keep, key, signature)
    if indexed is None:
        try:
            stage = procs.get("stage") or _spawn(root, _commands()["stage"])
        except OSError:
            _finish(procs)
            return None
        procs["stage"] = stage
        staged = stage.communicate()[0].decode("utf-8", "surrogateescape")  # the others run meanwhile
        stage_reads += 1
        plain = _index(staged)
        if plain is None:
            _finish(procs)
            return None
        fingerprint = _digest(*plain) if keep is not None else ""
        indexed = (*plain, fingerprint)
        if keep is not None and signature is not None and stage.returncode == 0 and _index_signature(root) == signature:
            _keep(keep, key, signature, indexed)  # the index git read is the one signed
    if "stage" in procs and procs["stage"].returncode is None:  # started, but its answer was kept already
        stage = procs.pop("stage")
        stage.kill()
        stage.wait()
    known, odd, fingerprint = indexed
    outs = {name: proc.communicate()[0] for name, proc in procs.items() if name != "stage"}
    if any(proc.returncode != 0 for proc in procs.values()):
        return None  # not a git repository (or git refused): walk instead
    others = [p.decode("utf-8", "surrogateescape") for p in outs["others"].split(b"\0") if p]
    if any(p.endswith("/") for p in others):
        return None  # a nested repository: the walk would go into it, git does not
    dirty = {p.decode("utf-8", "surrogateescape") for p in outs["dirty"].split(b"\0") if p}
    base = f"{root}{os.sep}"
    # YAML files, and links of any name (few: the untracked and changed files that are not YAML are few)
    unknown = odd | {p for p in (*dirty, *others) if (is_yaml(p) or os.path.islink(base + p)) and not _hidden(p)}
    for path in unknown:
        known.pop(path, None)
    # A deleted file is no longer the store's; a link (even one to nothing) is, as the walk finds it (TK109).
    present = [p for p in unknown if os.path.islink(base + p) or os.path.isfile(base + p)]
    return Scan(sorted([*known, *present]), known, sorted(present), fingerprint or None, tuple(sorted(unknown)))
