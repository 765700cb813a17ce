"""``twoku validate``: check every file of a store and report every finding."""

from __future__ import annotations

import datetime as dt
import gc
import marshal
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from twoku.errors import UsageError
from twoku.model import scope
from twoku.model.findings import Finding, Pointer
from twoku.model.layout import CONFIG_FILE, Place, classify
from twoku.model.regions import Layer, parse_layer
from twoku.model.report import Report
from twoku.model.scope import CYCLE_CODE, Index, affected, facade, odd, references
from twoku.ops import lifetime
from twoku.store import files
from twoku.store.cache import Cache
from twoku.store.columns import Fixed

if TYPE_CHECKING:  # the library is imported where files are read, not when the cache answers
    from twoku.model.library import Item, Library

ITEM_KINDS = ("knowledge", "rule", "override", "argumentation", "adjustment")
PARALLEL_FROM = 2000  # files to parse before worker processes pay for their start-up
PATCH_UP_TO = 500  # changed files up to which the last summary is patched rather than the store checked again


@dataclass
class Loaded:
    """A store read from disk: its library and the findings of reading each file."""

    root: Path
    library: Library
    file_findings: list[Finding]
    paths: list[str]
    cached: int
    item_findings: dict[str, list[Finding]] = field(default_factory=dict)  # path → findings of its item alone
    every_findings: dict[str, list[Finding]] = field(default_factory=dict)  # … of checks on duplicates too

    @property
    def checked(self) -> int:
        return len(self.paths)


Packed = tuple[Any, ...]  # a Finding as a plain tuple (marshal-able, for the cache and the workers)


def _pack(found: Iterable[Finding]) -> list[Packed]:
    return [
        (f.code, f.severity, f.message, f.path, f.pointer, f.item, f.hint, f.line, f.column, f.waived, f.extra)
        for f in found
    ]


def _unpack(packed: Iterable[Packed]) -> list[Finding]:
    return [Finding(*f) for f in packed]


Entry = tuple[Any, list[Packed], list[Packed], list[Packed], str | None, str | None, str, str, str]
# The parts of an Entry.
DATA: Final = 0
READ: Final = 1
OWN: Final = 2
EVERY: Final = 3
DIGEST: Final = 4
LAYER: Final = 5
REFS: Final = 6
FP: Final = 7  # a fingerprint of its data
SEEN: Final = 8  # … of what other items' checks see of it (model/scope.facade)


def _read_one(raw: files.RawFile, index: bool = True) -> Entry:
    """One file's cache entry: its data, the findings of reading it, and those of the item checks on it
    (of the checks that hold for the item the library keeps by its ID, then of those for every item),
    a rule's content digest (the argumentation and override checks compare every rule's), the code
    of the layer its item belongs to (as make_item finds it, which costs a few regular expressions),
    and for a re-check after an edit (model/scope.py): the IDs its item mentions, a fingerprint of its data
    and one of what other items' checks see of it.  Without ``index`` (no cache to keep them in) those three
    are left empty."""
    data, found, own, every, item = _read_file(raw)
    layer, digest = _layer_and_digest(item)
    # Nearly every file has no findings: no list comprehension for them.
    packed = (_pack(found) if found else [], _pack(own) if own else [], _pack(every) if every else [])
    if not index:
        return data, *packed, digest, layer, "", "", ""
    refs, seen = "", ""
    if item is not None:
        from twoku.checks.registry import text_of

        refs = references(text_of(data))  # the item checks just joined its text: kept for this call
        seen = _fingerprint(facade(item.kind, data, layer, item.title, digest))
    return data, *packed, digest, layer, refs, _fingerprint(data), seen


def _read_data(raw: files.RawFile, memo: dict[str, Place]) -> Entry:
    """A file's entry with its data alone (what a check of other items reads of it), no findings."""
    from twoku.model.library import make_item
    from twoku.store import yamlio

    try:
        data = yamlio.load_json(raw.raw)[0]
    except yamlio.YamlProblem:
        data = None
    kind = _dir_place(raw.path, memo).kind
    item = make_item(kind, raw.path, data) if isinstance(data, dict) and kind in ITEM_KINDS else None
    layer, digest = _layer_and_digest(item)
    return data, [], [], [], digest, layer, "", "", ""


def _layer_and_digest(item: Item | None) -> tuple[str | None, str | None]:
    """The code of the layer an item belongs to, and a rule's content digest (made where files are read, in
    parallel on a cold run, rather than by the checks after)."""
    if item is None:
        return None, None
    layer = item.layer.code if item.layer is not None else None
    if item.kind != "rule":
        return layer, None
    from twoku.model.digest import content_digest

    return layer, content_digest(item.data)


def _fingerprint(value: Any) -> str:
    """A short fingerprint of plain data (marshal format 0 writes a string alike however it was made)."""
    import hashlib

    return hashlib.blake2b(marshal.dumps(value, 0), digest_size=8).hexdigest()


_readers: tuple[Any, ...] = ()


def _import_readers() -> tuple[Any, ...]:
    """What reading a file needs, imported on the first file read, not when the cache answers (and kept:
    an import statement per file costs a microsecond or more, a cold validate reads 55,000)."""
    global _readers
    import twoku.checks as checks
    import twoku.checks.registry as registry
    from twoku.model.library import make_item
    from twoku.store import fastschema, yamlio
    from twoku.store.schemas import validator

    _readers = (checks, registry.finding, make_item, fastschema, yamlio, validator)
    return _readers


def _read_file(raw: files.RawFile) -> tuple[Any, list[Finding], list[Finding], list[Finding], Item | None]:
    checks, finding, make_item, fastschema, yamlio, validator = _readers or _import_readers()
    place = classify(raw.path)
    if place.kind is None or place.problem:
        found = finding(
            "TK202",
            f"文件位置不对：{place.problem}",
            raw.path,
            (),
            None,
            "按编号放到对应层级的 knowledge/、rules/ 或 overrides/ 目录下",
        )
        return None, [found], [], [], None
    out: list[Finding] = []
    try:
        data, bom = yamlio.load_json(raw.raw)
    except yamlio.YamlProblem as problem:
        found = finding(problem.code, problem.message, raw.path, (), None, problem.hint)
        return None, [found.located(problem.line, problem.column)], [], [], None
    if bom:
        out.append(
            finding("TK105", "文件以 UTF-8 BOM 开头", raw.path, (), None, "用不带 BOM 的 UTF-8 保存").located(1, 1)
        )
    if not (isinstance(data, dict) and fastschema.valid(place.kind, data)):
        from twoku.checks.schema import schema_findings

        out.extend(schema_findings(place.kind, raw.path, data, validator(place.kind)))
    if not (isinstance(data, dict) and place.kind in ITEM_KINDS):
        return data, out, [], [], None
    item = make_item(place.kind, raw.path, data)
    return data, out, checks.run_item_checks(item), checks.run_item_checks(item, every=True), item


def _dir_place(path: str, memo: dict[str, Place]) -> Place:
    """classify() of a path; a file's kind and layer follow from its folder alone, so once per folder."""
    folder, _, _ = path.rpartition("/")
    if not folder:
        return classify(path)
    place = memo.get(folder)
    if place is None:
        place = memo[folder] = classify(path)
    return place


@contextmanager
def _no_gc() -> Iterator[None]:
    """Without the cycle collector: parsed files are trees of dicts, lists and strings, which
    reference counting frees; scanning a growing heap of them again and again cost a fifth of
    a cold run."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_bytes(path: str) -> bytes:
    """A file's bytes through the file descriptor alone: half the cost of open() and read() on a small file."""
    fd = os.open(path, _FLAGS)
    try:
        parts = [os.read(fd, 65536)]
        while parts[-1]:  # until the end of the file (a read may return less than asked before it)
            parts.append(os.read(fd, 65536))
        return parts[0] if len(parts) == 2 else b"".join(parts)
    finally:
        os.close(fd)


def _parse_chunk(root: str, paths: list[str], index: bool = True) -> bytes:
    """marshal of [(path, blob, entry)] for each path: run in a worker process for a cold store.

    Plain tuples through marshal: the parent loads them several times faster than pickled objects.
    """
    return marshal.dumps(_parse_list(root, paths, index))


def _parse_list(root: str, paths: list[str], index: bool = True) -> list[tuple[str, str, Entry]]:
    """[(path, blob, entry)] for each path (the parent keeps the chunks it parses itself as they are)."""
    base = f"{root}{os.sep}"
    out = []
    with _no_gc():
        for path in paths:
            raw = _read_bytes(base + path)
            blob = files.blob_id(raw)
            out.append((path, blob, _read_one(files.RawFile(path, raw, blob), index)))
    return out


def _parse_parallel(root: Path, paths: list[str], index: bool = True) -> list[tuple[str, str, Any]]:
    """Parse many files across the machine's cores; one process when that would not pay."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_FROM:
        return _parse_list(str(root), paths, index)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, min(1000, len(paths) // (workers * 6)))  # small chunks: a worker holds one at a time
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    if method == "fork":  # what every process needs, made once before the fork rather than in each process
        from twoku.store import fastschema, quickyaml  # noqa: F401  (quickyaml: its regular expressions, 7 ms)

        _import_readers()
        fastschema.prepare(("knowledge", "rule", "override", "argumentation", "adjustment", "config"))
        forked = _parse_forked(str(root), chunks, index, workers - 1)
        if forked is not None:
            return forked
    parts: list[Any] = [None] * len(chunks)  # each chunk's [(path, blob, entry)]
    try:
        # One core is the parent's: it parses chunks from the end while the workers take them from the
        # start (a process fewer: each holds its own imports, and all of them count in the peak memory).
        with ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
            futures = [pool.submit(_parse_chunk, str(root), chunk, index) for chunk in chunks]
            front = 0
            for n in range(len(chunks) - 1, -1, -1):
                if futures[n].cancel():  # not started by a worker yet
                    parts[n] = _parse_list(str(root), chunks[n], index)
                while front < n and futures[front].done():  # the workers' results, loaded as they come
                    parts[front] = marshal.loads(futures[front].result())
                    front += 1
            for n, future in enumerate(futures):
                if parts[n] is None:
                    parts[n] = marshal.loads(future.result())
    except OSError:  # no processes to be had (a sandbox): do it here
        return _parse_list(str(root), paths, index)
    return [found for part in parts for found in part]


def _parse_forked(root: str, chunks: list[list[str]], index: bool, children: int) -> list[Any] | None:
    """Parse the chunks in this process and ``children`` forked ones, each taking the next chunk left: the
    children from the front, this process from the back.  A child writes each chunk's result to a file of
    its own, so it never waits for this process to read a pipe (with a process pool, a worker sat idle a
    third of the time: the pool's reading thread rarely gets the interpreter while this process parses).
    None when no process can be forked; a chunk a child did not finish is parsed here."""
    import multiprocessing
    import shutil
    import tempfile

    try:
        claims = multiprocessing.get_context("fork").Array("l", [0, len(chunks) - 1])  # next from front, back
        folder = tempfile.mkdtemp(prefix="twoku-parse-")
    except OSError:
        return None

    def claim(front: bool) -> int | None:
        with claims.get_lock():
            if claims[0] > claims[1]:
                return None
            n: int = claims[0] if front else claims[1]
            claims[0 if front else 1] += 1 if front else -1
            return n

    pids = []
    try:
        for _ in range(children):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:  # a child: parse chunks from the front until none is left, then leave at once
                code = 1
                try:
                    while (n := claim(True)) is not None:
                        part = f"{folder}{os.sep}{n}"
                        with open(part + ".tmp", "wb") as out:
                            out.write(marshal.dumps(_parse_list(root, chunks[n], index)))
                        os.replace(part + ".tmp", part)
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
        parts: list[Any] = [None] * len(chunks)
        done = 0  # the chunks before this one are in parts
        while (n := claim(False)) is not None:
            parts[n] = _parse_list(root, chunks[n], index)
            # Load what the children finished meanwhile: loading is a sixth of the cost of parsing, and done
            # here between chunks it leaves this process fewer chunks to parse, rather than all to load after.
            while done < n and (parts[done] is not None or os.path.exists(f"{folder}{os.sep}{done}")):
                if parts[done] is None:
                    with open(f"{folder}{os.sep}{done}", "rb") as fh:
                        parts[done] = marshal.loads(fh.read())
                done += 1
        for pid in pids:
            os.waitpid(pid, 0)
        for n, part in enumerate(parts):
            if part is None:
                try:
                    with open(f"{folder}{os.sep}{n}", "rb") as fh:
                        parts[n] = marshal.loads(fh.read())
                except OSError:  # a child that did not finish it
                    parts[n] = _parse_list(root, chunks[n], index)
        return [found for part in parts for found in part]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Scanned:
    paths: list[str]  # every store path
    known: dict[str, str]  # path → blob id, where known without reading the file
    track: bool  # whether the cache's index of sizes and mtimes is kept (git cannot vouch for the files)
    # git's reading of its index, fingerprinted, and the paths that may differ from it (store/gitscan.Scan)
    index_digest: str | None = None
    changed: tuple[str, ...] = ()


def _scan(root: Path, cache: Cache) -> Scanned:
    """Every store path, the blob ids known without reading, and whether the cache's index of sizes and
    mtimes is kept: git's index vouches for the files where the store is a git repository (only its
    modified and untracked files are read), else each file's size and mtime are compared with the cache's.
    Without a cache, the folders are walked: a walk names the same files as git (tests/store/test_gitscan.py)."""
    from twoku.store import gitscan

    if not cache.enabled:  # every file is read and hashed anyway: the folders name them sooner than git
        gitscan.forget(root)
        return Scanned(files.store_paths(root), {}, False)
    found = gitscan.scan(root, cache.file("staged"))
    if found is not None and not found.unknown:
        return Scanned(found.paths, found.known, False, found.index_digest, found.changed)
    paths = found.paths if found is not None else files.store_paths(root)
    known: dict[str, str] = found.known if found is not None else {}
    base = f"{root}{os.sep}"  # plain strings: a Path per file costs more than the stat
    stat = os.stat
    for path in found.unknown if found is not None else paths:
        blob = cache.blob(path, stat(base + path))
        if blob is not None:
            known[path] = blob
    if found is not None:
        return Scanned(paths, known, True, found.index_digest, found.changed)
    return Scanned(paths, known, True)


def _entries(
    root: Path, cache: Cache, paths: list[str], known: dict[str, str], track: bool = True
) -> tuple[dict[str, Any], int]:
    """path → (data, findings) for every path, parsing only what the cache does not hold (``track``: keep the
    cache's index of sizes and mtimes, for a store git cannot vouch for)."""
    entries: dict[str, Any] = {}
    keys: set[str] = set()
    hits = 0
    # Files to parse: those whose blob is unknown, and those git vouches for that the cache does not hold
    # (a cold run on a git store knows every blob from git's index and holds no entry).
    if cache.enabled:
        todo = [p for p in paths if p not in known or cache.get(f"{p}\0{known[p]}") is None]
    else:
        todo = list(paths)
    if len(todo) >= PARALLEL_FROM:  # a cold run: read, hash and parse in parallel
        base = f"{root}{os.sep}"
        stats = {}  # taken before the reading, so that a later edit is seen; before the workers fork, kept small
        for path in todo if track else ():
            if path not in known:
                stat = os.stat(base + path)
                stats[path] = (stat.st_mtime_ns, stat.st_size)
        put = cache.enabled
        for path, blob, entry in _parse_parallel(root, todo, cache.enabled):
            known[path] = blob
            entries[path] = entry
            if put:
                cache.put(f"{path}\0{blob}", entry)
            if path in stats:
                cache.remember_mark(path, *stats[path], blob)
        if len(entries) == len(paths) and not cache.enabled:  # every file parsed, nothing to keep
            if track:
                cache.forget_except(set(paths))
            return entries, hits
    for path in paths:
        if path in entries:
            keys.add(f"{path}\0{known[path]}")
            continue
        if path in known:
            blob, raw = known[path], None
        else:
            stat = os.stat(root / path)
            raw = (root / path).read_bytes()
            blob = files.blob_id(raw)
            if track:
                cache.remember(path, stat, blob)
            known[path] = blob
        key = f"{path}\0{blob}"
        keys.add(key)
        entry = cache.get(key)
        if entry is None:
            if raw is None:
                raw = (root / path).read_bytes()
            entry = _read_one(files.RawFile(path, raw, blob), cache.enabled)
            cache.put(key, entry)
        else:
            hits += 1
        entries[path] = entry
    cache.keep_only(keys)
    if track:
        cache.forget_except(set(paths))
    return entries, hits


def load_store(root: Path, use_cache: bool = True) -> Loaded:
    """Read and parse every file of the store, from the cache where the blob is unchanged."""
    cache = Cache(root, use_cache)
    scanned = _scan(root, cache)
    loaded = _load(root, cache, scanned.paths, scanned.known, scanned.track)
    cache.save()
    return loaded


def _load(root: Path, cache: Cache, paths: list[str], known: dict[str, str], track: bool = True) -> Loaded:
    entries, hits = _entries(root, cache, paths, known, track)
    from twoku.model.library import Item, Library

    items: list[Item] = []
    found: list[Finding] = []
    config: dict[str, Any] = {}
    memo: dict[str, Place] = {}
    own: dict[str, list[Finding]] = {}
    every: dict[str, list[Finding]] = {}
    layers: dict[str, Layer] = {}
    tables = {}
    for path in paths:
        data, file_findings, own_findings, every_findings, digest, code, _, _, _ = entries[path]
        if file_findings:
            found.extend(_unpack(file_findings))
        if own_findings:
            own[path] = _unpack(own_findings)
        if every_findings:
            every[path] = _unpack(every_findings)
        if not isinstance(data, dict):
            continue
        place = memo.get(path.rpartition("/")[0])  # _dir_place inlined: a call per file cost more than this
        kind = (place or _dir_place(path, memo)).kind
        if kind == "config":
            config = data
        elif kind in ITEM_KINDS:
            layer = layers.get(code) if code is not None else None
            if layer is None and code is not None:
                layer = layers[code] = Layer(code)
            items.append(Item(kind, path, data, layer, digest))
            table = data.get("table") if kind == "knowledge" else None
            if isinstance(table, str):
                where = path.rsplit("/", 1)[0] + "/" + table
                tables[where] = files.read_codes(root, where)
    library = Library.build(items, config, tables)
    if len(paths) >= PARALLEL_FROM:
        # A big store's parsed files are millions of objects made while the cycle collector was off: once it is
        # on again, its first pass would walk all of them (0.3 s), and so would the one at exit (0.4 s).  They
        # hold no cycles (trees of dicts, lists and strings, freed by reference counting), so they are frozen:
        # kept out of every later pass of the collector.
        gc.freeze()
    loaded = Loaded(root, library, found, paths, hits, own, every)
    if len(paths) >= PARALLEL_FROM:
        lifetime.keep((loaded, entries))  # freed with the process, where it ends with the command (0.2 s)
    return loaded


def _locate(root: Path, findings: Iterable[Finding]) -> list[Finding]:
    """Fill in line and column from each finding's pointer, parsing each file once."""
    findings = list(findings)
    if all(f.line is not None for f in findings):
        return findings
    from twoku.store import yamlio

    locators: dict[str, Callable[[Pointer], tuple[int, int]] | None] = {}
    out = []
    for item in findings:
        if item.line is None:
            if item.path not in locators:
                try:
                    locators[item.path] = yamlio.locator(yamlio.decode((root / item.path).read_bytes())[0])
                except (OSError, yamlio.YamlProblem):
                    locators[item.path] = None
            where = locators[item.path]
            line, column = where(item.pointer) if where is not None else (1, 1)
            item = item.located(line, column)
        out.append(item)
    return out


def _explain_drift(root: Path, current_of: Callable[[str, str], Any], findings: list[Finding]) -> list[Finding]:
    """Say what changed in the upper item since an override or a record was bound to it."""
    if not any(f.code in ("TK506", "TK604") for f in findings):
        return findings  # (and git's history is not even imported)
    from twoku.model.digest import content_digest
    from twoku.model.fielddiff import field_changes
    from twoku.store.history import versions_with_digests

    drifted = [f for f in findings if f.code in ("TK506", "TK604") and f.extra.get("target_path")]
    wanted = [(f.extra["target_path"], f.extra["base_digest"]) for f in drifted]
    olds = versions_with_digests(root, wanted, content_digest)  # one repository, each version read once
    out = []
    for item in findings:
        extra = item.extra
        if item.code in ("TK506", "TK604") and extra.get("target_path"):
            old = olds[(extra["target_path"], extra["base_digest"])]
            current = current_of(extra["target"], extra["target_path"])
            if old is not None and current is not None:
                changes = field_changes(old, current, normative_only=True)
                if changes:
                    listed = "；".join(c.describe() for c in changes[:5])
                    more = f" 等 {len(changes)} 处" if len(changes) > 5 else ""
                    item = replace(item, message=f"{item.message}：{listed}{more}")
            else:
                item = replace(item, message=f"{item.message}（历史中找不到原版本，请用 twoku diff 查看）")
        out.append(item)
    return out


@dataclass(frozen=True)
class Summary:
    """What a report needs of the whole store, cached for one set of blobs and one day."""

    findings: list[Finding]  # of every file and every store check, before waivers
    config: dict[str, Any]
    owners: dict[str, str | None]  # path of an item with findings → the layer its ID names
    counts: dict[str, dict[str, int]]  # layer → kind → number of knowledge items, rules and overrides
    tables: dict[str, str | None]  # CSV path → blob id (None: unreadable)
    hits: int
    counted_key: str = ""  # the cache key of the per-path counts (unchanged while the items' data is)


Counted = list[tuple[str, str, str]]  # (layer, kind, path) of knowledge, rules and overrides: for chosen paths


def _table_blobs(root: Path, tables: Iterable[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for path in tables:
        try:
            out[path] = files.blob_id((root / path).read_bytes())
        except OSError:
            out[path] = None
    return out


def _summary_key(scanned: Scanned, day: str) -> str:
    """The key of the store's summary: the day, and every path with its blob id.  Where git's reading of its
    index is kept, its fingerprint and the blob ids of the paths that may differ from it fix those (joining
    55,000 paths and ids took 15 ms of each validate); else all are hashed."""
    import hashlib

    paths, known = scanned.paths, scanned.known
    digest = hashlib.sha1(day.encode())
    if scanned.index_digest is not None:
        digest.update(f"\0git\0{scanned.index_digest}".encode())
        for path in scanned.changed:
            digest.update(f"\0{path}\0{known.get(path, '-')}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
    digest.update("\0".join(paths).encode("utf-8", "surrogatepass"))
    digest.update("".join([known[p] for p in paths]).encode("ascii"))
    return digest.hexdigest()


def _summarise(root: Path, loaded: Loaded, day: str) -> tuple[Summary, Counted]:
    from twoku.checks import run_cross_checks

    lib = loaded.library
    lib.today = day
    # Item checks ran with the parse (and are cached with it); they count for the item the library holds by its ID.
    own = [f for i in lib.items.values() for f in loaded.item_findings.get(i.path, ())]
    held = [*lib.items.values(), *(i for group in lib.duplicates.values() for i in group[1:])]
    every = [f for i in held for f in loaded.every_findings.get(i.path, ())]
    findings = loaded.file_findings + run_cross_checks(lib) + own + every
    with_findings = {f.path for f in findings}
    owners = {i.path: (i.layer.code if i.layer else None) for i in held if i.path in with_findings}
    counted = [
        (i.layer.code, i.kind, i.path)
        for i in lib.items.values()
        if i.layer is not None and i.kind in ("knowledge", "rule", "override")
    ]
    tables = _table_blobs(root, lib.tables)
    summary = Summary(findings, dict(lib.config), owners, _by_layer(counted), tables, loaded.cached)
    return summary, counted


def _current_from_file(root: Path) -> Callable[[str, str], Any]:
    def current(_target: str, path: str) -> Any:
        from twoku.store import yamlio

        try:
            return yamlio.load_json((root / path).read_bytes())[0]
        except (OSError, yamlio.YamlProblem):
            return None

    return current


def _index(
    paths: list[str], entries: Mapping[str, Entry], memo: dict[str, Place]
) -> tuple[Index, dict[str, list[str]]]:
    """The compact index of every file (model/scope.py), and beside it each file's layer code ("" when none)
    and the fingerprints of its data and of what other items see of it."""
    ids, kinds, refs = [], [], []
    extra: dict[str, list[str]] = {"layers": [], "fps": [], "seen": []}
    for path in paths:
        entry = entries[path]
        data = entry[DATA]
        kind = _dir_place(path, memo).kind
        if kind in ITEM_KINDS and isinstance(data, dict):
            item_id = data.get("id")
            ids.append(item_id if isinstance(item_id, str) else "")
            kinds.append(kind)
        else:
            ids.append("")
            kinds.append("")
        refs.append(entry[REFS])
        extra["layers"].append(entry[LAYER] or "")
        extra["fps"].append(entry[FP])
        extra["seen"].append(entry[SEEN])
    return Index(paths, ids, kinds, refs), extra


_STATE_COLUMNS = ("paths", "blobs", "ids", "kinds", "refs", "layers", "fps", "seen")
_ROW = _STATE_COLUMNS[1:]  # a file's row of the state, beside its path
_FIXED = ("blobs", "fps", "seen")  # columns of one width (ids of 40 or 64 hex digits…), kept as one string each
_STATE_FORMAT = 2
DELTA_UP_TO = 5000  # rows changed since the state was written whole, up to which only they are written

Column = list[str] | Fixed


def _column(name: str, values: Column) -> Column:
    """A copy of a column of the state as it is kept in memory: a list, or one of equal-width strings
    (store/columns.py), as wide as its widest value."""
    if name not in _FIXED:
        return list(values)
    if isinstance(values, Fixed):
        return values.copy()
    return Fixed.of(values, max(map(len, values), default=1) or 1)


def _save_state(cache: Cache, day: str, key: str, index: Index, columns: Mapping[str, Column], odd_ids: int) -> None:
    """Write the state whole.  Plain lists (columns) marshal and load several times faster than a mapping, and
    a column of one width, one string, faster still."""
    import secrets

    state: dict[str, Any] = {"day": day, "key": key, "odd": odd_ids, "base": secrets.token_hex(8)}
    state.update(format=_STATE_FORMAT, paths=index.paths, ids=index.ids, kinds=index.kinds, refs=index.refs)
    widths = state["widths"] = {}
    for c in _ROW:
        if c not in state:
            column = _column(c, columns[c])
            if isinstance(column, Fixed):
                state[c], widths[c] = column.dump(), column.width
            else:
                state[c] = column
    cache.set_state(state)


def _load_state(cache: Cache) -> dict[str, Any] | None:
    """The state as last left: written whole, then changed by the rows of its delta."""
    state = cache.state()
    if not (isinstance(state, dict) and all(c in state for c in (*_STATE_COLUMNS, "odd", "day", "key", "base"))):
        return None
    if state.get("format") != _STATE_FORMAT:
        return None
    try:
        for c in _FIXED:
            state[c] = Fixed(state[c], state["widths"][c])
    except (KeyError, TypeError, ValueError):  # not a column of that width: a damaged state is no state
        return None
    if any(len(state[c]) != len(state["paths"]) for c in _ROW):
        return None
    delta = cache.delta()
    if isinstance(delta, dict) and delta.get("base") == state["base"]:
        for n, row in delta["rows"].items():
            for column, value in zip(_ROW, row, strict=True):
                state[column][n] = value
        state.update(day=delta["day"], key=delta["key"], odd=delta["odd"], rows=delta["rows"])
    return state


def _save_rows(
    cache: Cache,
    state: dict[str, Any],
    key: str,
    day: str,
    odd_ids: int,
    columns: Mapping[str, Column],
    rows: list[int],
) -> None:
    """Write the rows changed since the state was written whole (with those of its last delta)."""
    changed = dict(state.get("rows", {}))
    changed.update((n, tuple(columns[c][n] for c in _ROW)) for n in rows)
    cache.set_state({"base": state["base"], "day": day, "key": key, "odd": odd_ids, "rows": changed}, "delta")


def _counted(index: Index, layers: list[str]) -> Counted:
    """(layer, kind, path) of each knowledge item, rule and override the library keeps by its ID."""
    out: Counted = []
    seen: set[str] = set()
    for n, item_id in enumerate(index.ids):
        if item_id and item_id not in seen:
            seen.add(item_id)
            if layers[n] and index.kinds[n] in ("knowledge", "rule", "override"):
                out.append((layers[n], index.kinds[n], index.paths[n]))
    return out


def _by_layer(counted: Counted) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for code, kind, _ in counted:
        counts[code][kind] += 1
    return {code: dict(n) for code, n in counts.items()}


def _patch(root: Path, cache: Cache, scanned: Scanned, day: str) -> tuple[Summary, Callable[[], Counted]] | None:
    """The last summary brought up to date by checking again only what the changed files can touch
    (model/scope.py); None when that cannot be done (the whole store is checked then): no earlier
    state, another day (deadlines), the store's configuration or a code table changed, or many files."""
    paths, known, track = scanned.paths, scanned.known, scanned.track
    state = _load_state(cache)
    lifetime.keep(state)  # 400,000 strings: freeing them took 10 ms of a re-check, where the process ends anyway
    if state is None or state["day"] != day:
        return None
    last = cache.summary(state.get("key", ""))
    if not isinstance(last, Summary) or _table_blobs(root, last.tables) != last.tables:
        return None
    old_paths: list[str] = state["paths"]
    old_blobs: Fixed = state["blobs"]
    same = old_paths == paths
    old_at = dict(zip(old_paths, range(len(old_paths)), strict=True)) if not same else None
    changed: dict[str, Entry] = {}
    read = 0
    # The files whose blob may differ from the state's: all where the paths differ, else those whose blob
    # (as git or the cache's index knows it, "" when not known) is not the state's.
    maybe = range(len(paths)) if old_at is not None else old_blobs.differing([known.get(p, "") for p in paths])
    for n in maybe:
        path = paths[n]
        at = n if old_at is None else old_at.get(path)
        blob = known.get(path)
        if at is not None and blob == old_blobs[at]:
            continue
        if blob is None:  # not vouched for by git or the cache's index: read and hash it
            read += 1
            stat = os.stat(root / path)
            raw = (root / path).read_bytes()
            blob = known[path] = files.blob_id(raw)
            if track:
                cache.remember(path, stat, blob)
            if at is not None and blob == old_blobs[at]:
                continue  # touched, not changed
        else:
            raw = (root / path).read_bytes()
        if len(changed) >= PATCH_UP_TO:
            return None
        changed[path] = _read_one(files.RawFile(path, raw, blob))
    position = dict(zip(paths, range(len(paths)), strict=True))
    removed = [p for p in old_paths if p not in position] if old_at is not None else []
    if CONFIG_FILE in changed or CONFIG_FILE in removed or len(changed) + len(removed) > PATCH_UP_TO:
        return None
    # The index now: the old columns, with the changed files' rows in place.
    memo: dict[str, Place] = {}
    columns: dict[str, Any]  # the lists, and the columns of one width (Fixed)
    if old_at is None:
        columns = {c: _column(c, state[c]) for c in _ROW}
    else:
        columns = {c: _column(c, [state[c][old_at[p]] if p in old_at else "" for p in paths]) for c in _ROW}
    before: dict[str, tuple[str, str]] = {}
    how: dict[str, int] = dict.fromkeys(removed, scope.FACADE)  # what changed of each changed file
    for path, entry in changed.items():
        at = old_at.get(path) if old_at is not None else position[path]
        if at is None:
            how[path] = scope.FACADE
        elif entry[FP] == state["fps"][at]:
            continue  # its layout or comments only: its own findings are read again, no more
        else:
            how[path] = scope.DATA if entry[SEEN] == state["seen"][at] else scope.FACADE
    for path in [*changed, *removed]:
        at = old_at.get(path) if old_at is not None else position[path]
        if at is not None:
            before[path] = (state["ids"][at], state["refs"][at])
    fresh, extra = _index(list(changed), changed, memo)
    for k, path in enumerate(fresh.paths):
        n = position[path]
        columns["blobs"][n] = known[path]
        columns["ids"][n], columns["kinds"][n], columns["refs"][n] = fresh.ids[k], fresh.kinds[k], fresh.refs[k]
        for c, values in extra.items():
            columns[c][n] = values[k]
    index = Index(paths, columns["ids"], columns["kinds"], columns["refs"], position)
    odd_ids = state["odd"] - sum(odd(i) for i, _ in before.values()) + sum(odd(i) for i in fresh.ids)
    if odd_ids:
        return None  # an ID of another shape may be named by any string: check the whole store
    reach = affected(index, before, how)
    # The findings of a file's own (of reading it, and of the checks on its item alone) change with its data,
    # or with whether the library keeps its item by its ID: for the changed files, and those sharing their IDs.
    moved = {i for i, _ in before.values()} | {index.ids[position[p]] for p in changed}
    moved.discard("")
    holders = index.holders()
    own_again = set(changed) | {paths[n] for i in moved for n in holders.get(i, ())}
    # A library of what the re-check needs: the changed files as just read, the others read again.
    needed: dict[str, Entry] = {}
    # A record that names a changed item only among its subjects is checked again for those subjects; one that
    # names it elsewhere too (a field of its own) is checked again whole, with all it names.
    from twoku.checks.registry import text_of

    for path, named in list(reach.partial.items()):
        read += 1
        needed[path] = entry = _read_data(files.RawFile(path, (root / path).read_bytes(), known[path]), memo)
        data = entry[DATA]
        rest = {k: v for k, v in data.items() if k != "subjects"} if isinstance(data, dict) else None
        if rest is None or not named.isdisjoint(references(text_of(rest)).split()):
            del reach.partial[path]
            reach.recheck.add(path)
            for item_id in index.refs[position[path]].split():
                reach.needed.update(paths[m] for m in holders.get(item_id, ()))
    for path in sorted(reach.needed | own_again):
        if path in needed and path not in own_again:
            continue
        if path in changed:
            needed[path] = changed[path]
        else:
            read += 1
            file = files.RawFile(path, (root / path).read_bytes(), known[path])
            needed[path] = _read_one(file) if path in own_again else _read_data(file, memo)
    from twoku.model.library import Library

    lib = Library.build(
        [item for path, entry in needed.items() if path in reach.needed and (item := _item(path, entry, memo))],
        last.config,
        _tables(root, needed, memo),
    )
    lib.today = day
    from twoku.checks import run_cross_checks
    from twoku.checks.registry import STORE_CODES

    def subject(found: Finding) -> object:
        """The ID of the record's subject a finding is about (its pointer is subjects/<n>/…), or None."""
        pointer = found.pointer
        if len(pointer) < 2 or pointer[0] != "subjects" or not isinstance(pointer[1], int):
            return None
        subjects = needed[found.path][DATA].get("subjects") if isinstance(needed[found.path][DATA], dict) else None
        if isinstance(subjects, list) and pointer[1] < len(subjects) and isinstance(subjects[pointer[1]], dict):
            return subjects[pointer[1]].get("id")
        return None

    def again(found: Finding) -> bool:  # whether a finding of the last summary is found anew here
        if found.code not in STORE_CODES:
            return found.path in own_again
        if found.path in reach.partial:
            return subject(found) in reach.partial[found.path]
        return found.path in reach.recheck and (found.code != CYCLE_CODE or found.path in reach.cycles)

    gone = set(removed)
    findings = [f for f in last.findings if f.path not in gone and not again(f)]
    findings += [f for f in run_cross_checks(lib) if again(f)]
    for path in own_again:
        entry = needed[path]
        n = position[path]
        item_id = index.ids[n]
        findings.extend(_unpack(entry[READ]))
        if item_id:
            findings.extend((_unpack(entry[OWN]) if holders[item_id][0] == n else []) + _unpack(entry[EVERY]))
    with_findings = {f.path for f in findings}
    owners = {p: code for p, code in last.owners.items() if p not in gone}
    for path in reach.recheck | own_again | reach.partial.keys():
        owners.pop(path, None)
        if index.ids[position[path]] and path in with_findings:
            owners[path] = needed[path][LAYER]
    old_rows = {}
    for path in before:
        at = old_at[path] if old_at is not None else position[path]
        old_rows[path] = (state["ids"][at], state["layers"][at], state["kinds"][at])
    counts = _recount(last.counts, index, columns["layers"], moved, old_rows, changed)
    key = _summary_key(scanned, day)
    summary = Summary(findings, last.config, owners, counts, last.tables, len(paths) - read, key)
    cache.set_summary(key, summary)
    if old_at is None and len(state.get("rows", ())) + len(changed) <= DELTA_UP_TO:
        _save_rows(cache, state, key, day, odd_ids, columns, [position[p] for p in changed])
    else:
        _save_state(cache, day, key, index, columns, odd_ids)
    return summary, lambda: _counted(index, columns["layers"])


def _recount(
    counts: dict[str, dict[str, int]],
    index: Index,
    layers: list[str],
    ids: set[str],
    old_rows: Mapping[str, tuple[str, str, str]],
    changed: Iterable[str],
) -> dict[str, dict[str, int]]:
    """The counts per layer and kind, from the last ones: only the ``ids`` of the changed files can be held
    otherwise now (old_rows: the former (ID, layer, kind) of each changed file that existed before)."""
    changed = set(changed)
    out = {code: dict(n) for code, n in counts.items()}
    holders = index.holders()

    def held(rows: list[tuple[str, str, str]]) -> tuple[str, str] | None:
        if not rows:
            return None
        _, layer, kind = min(rows)  # the library keeps the first path holding an ID
        return (layer, kind) if layer and kind in ("knowledge", "rule", "override") else None

    for item_id in ids - {""}:
        now = [(index.paths[n], layers[n], index.kinds[n]) for n in holders.get(item_id, ())]
        then = [row for row in now if row[0] not in changed]
        then += [(path, layer, kind) for path, (old_id, layer, kind) in old_rows.items() if old_id == item_id]
        for sign, which in ((-1, held(then)), (1, held(now))):
            if which is not None:
                by_kind = out.setdefault(which[0], {})
                by_kind[which[1]] = by_kind.get(which[1], 0) + sign
    return {code: {k: v for k, v in n.items() if v} for code, n in out.items() if any(n.values())}


def _item(path: str, entry: Entry, memo: dict[str, Place]) -> Item | None:
    """The library's item of a file's entry, when it holds one."""
    from twoku.model.library import Item

    data, code = entry[DATA], entry[LAYER]
    kind = _dir_place(path, memo).kind
    if not (isinstance(data, dict) and kind in ITEM_KINDS):
        return None
    return Item(kind, path, data, Layer(code) if code is not None else None, entry[DIGEST])


def _tables(root: Path, entries: Mapping[str, Entry], memo: dict[str, Place]) -> dict[str, list[str] | None]:
    """The code tables of the knowledge items among the entries (CSV path → codes)."""
    tables = {}
    for path, entry in entries.items():
        data = entry[DATA]
        if isinstance(data, dict) and _dir_place(path, memo).kind == "knowledge" and isinstance(data.get("table"), str):
            table = path.rsplit("/", 1)[0] + "/" + data["table"]
            tables[table] = files.read_codes(root, table)
    return tables


def _summary(
    root: Path, use_cache: bool, day: str
) -> tuple[Summary, Callable[[str, str], Any], list[str], Callable[[], Counted]]:
    """The store's summary: from the cache when no blob (and no code table) changed, else computed."""
    cache = Cache(root, use_cache)
    scanned = _scan(root, cache)
    lifetime.keep(scanned)  # every path and blob id: freed with the process where it ends with the command
    paths, known, track = scanned.paths, scanned.known, scanned.track
    key = _summary_key(scanned, day) if len(known) == len(paths) else ""

    def counted_of(at: str) -> Callable[[], Counted]:
        def counted() -> Counted:
            found = cache.summary(at, "counted")
            if found is not None:
                return found  # type: ignore[no-any-return]
            state = _load_state(cache)  # a re-check after an edit keeps only its index
            if state is not None and state["key"] == at:
                return _counted(Index(state["paths"], state["ids"], state["kinds"], state["refs"]), state["layers"])
            return _summary(root, False, day)[3]()  # gone (another run in between): compute it

        return counted

    if cache.enabled and key:
        found = cache.summary(key)
        if isinstance(found, Summary) and _table_blobs(root, found.tables) == found.tables:
            cache.save()
            return replace(found, hits=len(paths)), _current_from_file(root), paths, counted_of(found.counted_key)
    if cache.enabled:
        with _no_gc():
            patched = _patch(root, cache, scanned, day)
        if patched is not None:
            cache.save()
            return patched[0], _current_from_file(root), paths, patched[1]
    with _no_gc():
        loaded = _load(root, cache, paths, known, track)
        summary, counted = _summarise(root, loaded, day)
    if cache.enabled:
        key = _summary_key(scanned, day)
        summary = replace(summary, counted_key=key)
        cache.set_summary(key, summary)
        cache.set_summary(key, counted, "counted")
        entries = cache.entries
        index, extra = _index(paths, {p: entries[f"{p}\0{known[p]}"] for p in paths}, {})
        odd_ids = sum(odd(i) for i in index.ids)
        _save_state(cache, day, key, index, {**extra, "blobs": [known[p] for p in paths]}, odd_ids)
    cache.save()
    lib = loaded.library

    def current(target: str, _path: str) -> Any:
        item = lib.get(target)
        return item.data if item is not None else None

    return summary, current, paths, lambda: counted


def _owner(path: str, owners: dict[str, str | None]) -> Layer | None:
    if path in owners:
        code = owners[path]
        return Layer(code) if code is not None else None
    return classify(path).layer


def validate(
    root: Path,
    targets: Iterable[Path] = (),
    region: str | None = None,
    use_cache: bool = True,
    today: dt.date | None = None,
) -> Report:
    """Validate a store (or just ``targets`` in it), reporting every finding."""
    chain: tuple[Layer, ...] | None = None
    if region:
        try:
            chain = parse_layer(region).chain
        except ValueError as exc:
            raise UsageError(f"--region {region}：{exc}") from None
    day = (today or dt.date.today()).isoformat()
    summary, current_of, paths, counted = _summary(root, use_cache, day)
    targets = list(targets)
    selected = files.select(root, targets, paths) if targets else None
    findings = list(summary.findings)
    if isinstance(summary.config.get("waivers"), list):  # else apply_waivers has nothing to do
        from twoku.checks.waivers import apply_waivers

        findings = apply_waivers(findings, summary.config, day)
    kept = []
    for item in findings:
        if selected is not None and item.path not in selected:
            continue
        if chain is not None:
            owner = _owner(item.path, summary.owners)
            if owner is not None and owner not in chain:
                continue
        kept.append(item)
    kept = sorted(_locate(root, _explain_drift(root, current_of, kept)), key=Finding.sort_key)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    if selected is None:
        for code, by_kind in summary.counts.items():
            if chain is None or Layer(code) in chain:
                counts[code].update(by_kind)
    else:
        for code, kind, path in counted():
            if chain is not None and Layer(code) not in chain:
                continue
            if path in selected:
                counts[code][kind] += 1
    checked = len(selected) if selected is not None else len(paths)
    names = summary.config.get("regions")
    names = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
    return Report(root, kept, checked, dict(counts), region, summary.hits, _checks_of(kept), names)


def _checks_of(findings: list[Finding]) -> dict[str, Any]:
    """What each code among the findings means (the renderers name no other); the checks are not imported
    when there is nothing to explain."""
    if not findings:
        return {}
    from twoku.checks import CHECKS

    codes = {f.code for f in findings}
    return {code: check for code, check in CHECKS.items() if code in codes}


def schema_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    """Every schema problem of a record about to be written, as “pointer：message” lines, in file order."""
    from twoku.checks.schema import describe
    from twoku.store.schemas import validator

    out = []
    for error in sorted(validator(kind).iter_errors(data), key=lambda e: list(e.absolute_path)):
        pointer, message, _ = describe(error)
        where = "/".join(str(p) for p in pointer)
        out.append(f"{where}：{message}" if where else message)
    return out
