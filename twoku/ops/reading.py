"""Reading a store's files into cache entries (ops/validate.py): what each file holds, and what the checks
of its item alone find.  A cold store is read across the machine's cores; git, or the cache's index of
sizes and mtimes, names the files and the blob ids known without reading them.
"""

from __future__ import annotations

import gc
import marshal
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from twoku.model.findings import Finding
from twoku.model.layout import Place, classify
from twoku.model.regions import Layer
from twoku.model.scope import facade, references
from twoku.model.versions import is_v1, upgraded
from twoku.store import files
from twoku.store.caching.cache import Cache

if TYPE_CHECKING:  # the library is imported where files are read, not when the cache answers
    from twoku.model.library import Item
    from twoku.model.tables import Table


ITEM_KINDS = ("knowledge", "rule", "override", "argumentation", "adjustment")
PARALLEL_FROM = 2000  # files to parse before worker processes pay for their start-up

Packed = tuple[Any, ...]  # a Finding as a plain tuple (marshal-able, for the cache and the workers)


def pack(found: Iterable[Finding]) -> list[Packed]:
    return [
        (f.code, f.severity, f.message, f.path, f.pointer, f.item, f.hint, f.line, f.column, f.waived, f.extra)
        for f in found
    ]


def unpack(packed: Iterable[Packed]) -> list[Finding]:
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


def _odd_entry(raw: files.RawFile) -> Entry:
    """The entry of a path that is not a regular file: no data, one TK109 finding."""
    finding = (_readers or import_readers())[1]
    found = finding(
        "TK109",
        f"{raw.path} 是{raw.odd}，不是普通文件；twoku 不读取它",
        raw.path,
        (),
        None,
        "两库只由普通文件组成：把链接换成文件本身（或删除它），再提交",
    )
    return None, pack([found]), [], [], None, None, "", "", ""


def read_one(raw: files.RawFile, index: bool = True) -> Entry:
    """One file's cache entry: its data, the findings of reading it, and those of the item checks on it
    (of the checks that hold for the item the library keeps by its ID, then of those for every item),
    a rule's content digest (the argumentation and override checks compare every rule's), the code
    of the layer its item belongs to (as make_item finds it, which costs a few regular expressions),
    and for a re-check after an edit (model/scope.py): the IDs its item mentions, a fingerprint of its data
    and one of what other items' checks see of it.  Without ``index`` (no cache to keep them in) those three
    are left empty."""
    if raw.odd is not None:
        return _odd_entry(raw)
    data, found, own, every, item = _read_file(raw)
    layer, digest = _layer_and_digest(item)
    # Nearly every file has no findings: no list comprehension for them.
    packed = (pack(found) if found else [], pack(own) if own else [], pack(every) if every else [])
    if not index:
        return data, *packed, digest, layer, "", "", ""
    refs, seen = "", ""
    if item is not None:
        from twoku.checks.registry import text_of

        refs = references(text_of(data))  # the item checks just joined its text: kept for this call
        seen = _fingerprint(facade(item.kind, data, layer, item.title, digest))
    return data, *packed, digest, layer, refs, _fingerprint(data), seen


def read_data(raw: files.RawFile, memo: dict[str, Place]) -> Entry:
    """A file's entry with its data alone (what a check of other items reads of it), no findings."""
    from twoku.model.library import make_item
    from twoku.store.documents import yamlio

    if raw.odd is not None:
        return _odd_entry(raw)
    try:
        data = yamlio.load_json(raw.raw)[0]
    except yamlio.YamlProblem:
        data = None
    kind = dir_place(raw.path, memo).kind
    if isinstance(data, dict) and "scenarios" in data and "uses" not in data:
        data = dict(upgraded(data))  # a v1-shaped file read as what it means (model/versions.py)
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


def import_readers() -> tuple[Any, ...]:
    """What reading a file needs, imported on the first file read, not when the cache answers (and kept:
    an import statement per file costs a microsecond or more, a cold validate reads 55,000)."""
    global _readers
    import twoku.checks as checks
    import twoku.checks.registry as registry
    from twoku.model.library import make_item
    from twoku.store.documents import yamlio
    from twoku.store.schema import fastschema
    from twoku.store.schema.schemas import validator

    _readers = (checks, registry.finding, make_item, fastschema, yamlio, validator)
    return _readers


def _read_file(raw: files.RawFile) -> tuple[Any, list[Finding], list[Finding], list[Finding], Item | None]:
    checks, finding, make_item, fastschema, yamlio, validator = _readers or import_readers()
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
    out.extend(checks.syntax.control_characters(raw.path, raw.raw, data))
    old = isinstance(data, dict) and "scenarios" in data and "uses" not in data and is_v1(data)
    if old:  # written for schema 1: read as what it means, checked as such, and said (TK203)
        from twoku.checks.schema import old_shape

        out.append(old_shape(raw.path, data))
        data = dict(upgraded(data))
    if not (isinstance(data, dict) and fastschema.valid(place.kind, data)):
        from twoku.checks.schema import schema_findings

        found = schema_findings(place.kind, raw.path, data, validator(place.kind))
        out.extend(_as_written(f) if old else f for f in found)
    if not (isinstance(data, dict) and place.kind in ITEM_KINDS):
        return data, out, [], [], None
    item = make_item(place.kind, raw.path, data)
    return data, out, checks.run_item_checks(item), checks.run_item_checks(item, every=True), item


def _as_written(found: Finding) -> Finding:
    """A finding on a v1-shaped file's ``uses`` pointed at its ``scenarios``, where the file says it."""
    if found.pointer[:1] != ("uses",):
        return found
    from dataclasses import replace

    return replace(found, pointer=("scenarios", *found.pointer[1:]))


def dir_place(path: str, memo: dict[str, Place]) -> Place:
    """classify() of a path; a file's kind and layer follow from its folder alone, so once per folder."""
    folder, _, _ = path.rpartition("/")
    if not folder:
        return classify(path)
    place = memo.get(folder)
    if place is None:
        place = memo[folder] = classify(path)
    return place


@contextmanager
def no_gc(freeze: bool = False) -> Iterator[None]:
    """Without the cycle collector: parsed files are trees of dicts, lists and strings, which
    reference counting frees; scanning a growing heap of them again and again cost a fifth of
    a cold run.  ``freeze``: what was made meanwhile is then kept out of the collector's passes
    for good (gc.freeze), lest its first pass once it is on again walk all of it (60 ms after
    checking a national store, 30 ms after a re-check); for big stores, whose data hold no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if was:
            gc.enable()


def _parse_chunk(root: str, paths: list[str], index: bool = True) -> bytes:
    """marshal of [(path, blob, entry)] for each path: run in a worker process for a cold store.

    Plain tuples through marshal: the parent loads them several times faster than pickled objects.
    """
    return marshal.dumps(parse_list(root, paths, index))


def parse_list(root: str, paths: list[str], index: bool = True) -> list[tuple[str, str, Entry]]:
    """[(path, blob, entry)] for each path (the parent keeps the chunks it parses itself as they are)."""
    base = f"{root}{os.sep}"
    out = []
    with no_gc():
        for path in paths:
            # The file's bytes through its descriptor alone (half the cost of open() and read() on a small file).
            try:
                raw = files.read_regular(base + path)
            except files.NotRegular as odd:
                out.append((path, odd.blob, _odd_entry(files.RawFile(path, b"", odd.blob, odd.what))))
                continue
            blob = files.blob_id(raw)
            out.append((path, blob, read_one(files.RawFile(path, raw, blob), index)))
    return out


Each = Callable[[int, list[tuple[str, str, Entry]]], None]  # told each chunk's [(path, blob, entry)], by number


def parse_parallel(
    root: Path, paths: list[str], index: bool = True, each: Each | None = None
) -> list[tuple[str, str, Any]]:
    """Parse many files across the machine's cores; one process when that would not pay.  ``each`` is told each
    chunk (of consecutive paths, numbered in path order) as this process has it, once: what this process does
    with it meanwhile leaves it fewer chunks to parse."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_FROM:
        alone = parse_list(str(root), paths, index)
        if each is not None:
            each(0, alone)
        return alone
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, min(1000, len(paths) // (workers * 6)))  # small chunks: a worker holds one at a time
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    if method == "fork":  # what every process needs, made once before the fork rather than in each process
        from twoku.store.documents import quickyaml  # noqa: F401  quickyaml: its regular expressions, 7 ms
        from twoku.store.schema import fastschema

        import_readers()
        fastschema.prepare(("knowledge", "rule", "override", "argumentation", "adjustment", "config"))
        forked = parse_forked(str(root), chunks, index, workers - 1, each)
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
                    parts[n] = parse_list(str(root), chunks[n], index)
                while front < n and futures[front].done():  # the workers' results, loaded as they come
                    parts[front] = marshal.loads(futures[front].result())
                    front += 1
            for n, future in enumerate(futures):
                if parts[n] is None:
                    parts[n] = marshal.loads(future.result())
    except OSError:  # no processes to be had (a sandbox): do it here
        parts = [parse_list(str(root), paths, index)]
    if each is not None:
        for n, part in enumerate(parts):
            each(n, part)
    return [found for part in parts for found in part]


def parse_forked(
    root: str, chunks: list[list[str]], index: bool, children: int, each: Each | None = None
) -> list[Any] | None:
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
                            out.write(marshal.dumps(parse_list(root, chunks[n], index)))
                        os.replace(part + ".tmp", part)
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
        parts: list[Any] = [None] * len(chunks)

        def have(n: int, part: list[tuple[str, str, Entry]]) -> None:
            parts[n] = part
            if each is not None:
                each(n, part)

        done = 0  # the chunks before this one are in parts
        while (n := claim(False)) is not None:
            have(n, parse_list(root, chunks[n], index))
            # Load what the children finished meanwhile: loading is a sixth of the cost of parsing, and done
            # here between chunks it leaves this process fewer chunks to parse, rather than all to load after.
            while done < n and (parts[done] is not None or os.path.exists(f"{folder}{os.sep}{done}")):
                if parts[done] is None:
                    with open(f"{folder}{os.sep}{done}", "rb") as fh:
                        have(done, marshal.loads(fh.read()))
                done += 1
        for pid in pids:
            os.waitpid(pid, 0)
        for n, part in enumerate(parts):
            if part is None:
                try:
                    with open(f"{folder}{os.sep}{n}", "rb") as fh:
                        have(n, marshal.loads(fh.read()))
                except OSError:  # a child that did not finish it
                    have(n, parse_list(root, chunks[n], index))
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


def scan(root: Path, cache: Cache) -> Scanned:
    """Every store path, the blob ids known without reading, and whether the cache's index of sizes and
    mtimes is kept: git's index vouches for the files where the store is a git repository (only its
    modified and untracked files are read), else each file's size and mtime are compared with the cache's.
    Without a cache, the folders are walked: a walk names the same files as git (tests/store/test_gitscan.py)."""
    from twoku.store.repo import gitscan

    if not cache.enabled:  # every file is read and hashed anyway: the folders name them sooner than git
        gitscan.forget(root)
        return Scanned(files.store_paths(root), {}, False)
    found = gitscan.scan(root, cache.file("staged"))
    if found is not None and not found.unknown:
        return Scanned(found.paths, found.known, False, found.index_digest, found.changed)
    paths = found.paths if found is not None else files.store_paths(root)
    known: dict[str, str] = found.known if found is not None else {}
    base = f"{root}{os.sep}"  # plain strings: a Path per file costs more than the stat
    stat = os.lstat  # a link's own: it is read as a link (TK109), never followed
    for path in found.unknown if found is not None else paths:
        blob = cache.blob(path, stat(base + path))
        if blob is not None:
            known[path] = blob
    if found is not None:
        return Scanned(paths, known, True, found.index_digest, found.changed)
    return Scanned(paths, known, True)


def _telling(each: Each | None, total: int) -> Each:
    """``each``, telling ops/progress how many of the ``total`` files are read as each chunk comes in."""
    from twoku.ops import progress

    seen = 0

    def told(n: int, part: list[tuple[str, str, Entry]]) -> None:
        nonlocal seen
        seen += len(part)
        progress.tell("读取并检查文件", seen, total)
        if each is not None:
            each(n, part)

    return told


def read_entries(
    root: Path, cache: Cache, paths: list[str], known: dict[str, str], track: bool = True, each: Each | None = None
) -> tuple[dict[str, Any], int]:
    """path → (data, findings) for every path, parsing only what the cache does not hold (``track``: keep the
    cache's index of sizes and mtimes, for a store git cannot vouch for; ``each``: told each chunk parsed in
    parallel, see parse_parallel)."""
    entries: dict[str, Any] = {}
    keys: set[str] = set()
    hits = 0
    # Files to parse: those whose blob is unknown, and those git vouches for that the cache does not hold
    # (a cold run on a git store knows every blob from git's index and holds no entry).
    if cache.enabled:
        todo = [p for p in paths if p not in known or cache.get(f"{p}\0{known[p]}") is None]
        todo = [p for p in todo if not known.get(p, "").startswith("L")]  # links by git's mode: not read
    else:
        todo = list(paths)
    if len(todo) >= PARALLEL_FROM:  # a cold run: read, hash and parse in parallel
        base = f"{root}{os.sep}"
        stats = {}  # taken before the reading, so that a later edit is seen; before the workers fork, kept small
        for path in todo if track else ():
            if path not in known:
                stat = os.lstat(base + path)
                stats[path] = (stat.st_mtime_ns, stat.st_size)
        put = cache.enabled
        for path, blob, entry in parse_parallel(root, todo, cache.enabled, _telling(each, len(todo))):
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
        raw: files.RawFile | None = None
        if path in known:
            blob = known[path]
        else:
            stat = os.lstat(root / path)
            raw = files.raw_file(root, path)
            blob = raw.blob
            if track:
                cache.remember(path, stat, blob)
            known[path] = blob
        key = f"{path}\0{blob}"
        keys.add(key)
        entry = cache.get(key)
        if entry is None:
            entry = read_one(raw or files.raw_file(root, path, blob), cache.enabled)
            cache.put(key, entry)
        else:
            hits += 1
        entries[path] = entry
    cache.keep_only(keys)
    if track:
        cache.forget_except(set(paths))
    return entries, hits


def item_of(path: str, entry: Entry, memo: dict[str, Place]) -> Item | None:
    """The library's item of a file's entry, when it holds one."""
    from twoku.model.library import Item

    data, code = entry[DATA], entry[LAYER]
    kind = dir_place(path, memo).kind
    if not (isinstance(data, dict) and kind in ITEM_KINDS):
        return None
    return Item(kind, path, data, Layer(code) if code is not None else None, entry[DIGEST])


def tables_of(root: Path, entries: Mapping[str, Entry], memo: dict[str, Place]) -> dict[str, Table | None]:
    """The tables of the knowledge items among the entries (CSV path → table; None: no such file)."""
    knowledge = ((p, e[DATA]) for p, e in entries.items() if dir_place(p, memo).kind == "knowledge")
    return files.tables_in(root, knowledge)
