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
from typing import Any

from twoku.errors import UsageError
from twoku.model.findings import Finding
from twoku.model.layout import Place, classify
from twoku.model.library import Item, Library, make_item
from twoku.model.regions import Layer, parse_layer
from twoku.model.report import Report
from twoku.store import fastschema, files, yamlio
from twoku.store.cache import Cache
from twoku.store.schemas import validator

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


Entry = tuple[Any, list[Packed], list[Packed], list[Packed], str | None, str | None, str]


def _read_one(raw: files.RawFile) -> Entry:
    """One file's cache entry: its data, the findings of reading it, and those of the item checks on it
    (of the checks that hold for the item the library keeps by its ID, then of those for every item),
    a rule's content digest (the argumentation and override checks compare every rule's) and the code
    of the layer its item belongs to (as make_item finds it, which costs a few regular expressions)."""
    data, found, own, every, item = _read_file(raw)
    digest = None
    if item is not None and item.kind == "rule":
        from twoku.model.digest import content_digest

        digest = content_digest(data)
    layer = item.layer.code if item is not None and item.layer is not None else None
    # Nearly every file has no findings: no list comprehension for them.
    packed = (_pack(found) if found else [], _pack(own) if own else [], _pack(every) if every else [])
    return data, *packed, digest, layer, _fingerprint(data, layer)


def _fingerprint(data: Any, layer: str | None) -> str:
    """What the checks between items can see of a file (its data and layer; a rule's digest follows from its
    data): an edit that leaves it alone (a comment, the layout) changes no finding of those checks."""
    import hashlib

    return hashlib.sha1(repr((data, layer)).encode("utf-8", "surrogatepass")).hexdigest()


def _read_file(raw: files.RawFile) -> tuple[Any, list[Finding], list[Finding], list[Finding], Item | None]:
    # The checks are imported where a file is read or the store checked, not when the cache answers
    # (as modules: "from a package import a name" costs a microsecond per file more).
    import twoku.checks as checks
    import twoku.checks.registry as registry

    finding = registry.finding
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


def _parse_chunk(root: str, paths: list[str]) -> bytes:
    """marshal of [(path, blob, entry)] for each path: run in a worker process for a cold store.

    Plain tuples through marshal: the parent loads them several times faster than pickled objects.
    """
    return marshal.dumps(_parse_list(root, paths))


def _parse_list(root: str, paths: list[str]) -> list[tuple[str, str, Entry]]:
    """[(path, blob, entry)] for each path (the parent keeps the chunks it parses itself as they are)."""
    base = f"{root}{os.sep}"
    out = []
    with _no_gc():
        for path in paths:
            raw = _read_bytes(base + path)
            blob = files.blob_id(raw)
            out.append((path, blob, _read_one(files.RawFile(path, raw, blob))))
    return out


def _parse_parallel(root: Path, paths: list[str]) -> list[tuple[str, str, Any]]:
    """Parse many files across the machine's cores; one process when that would not pay."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_FROM:
        return _parse_list(str(root), paths)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, min(1000, len(paths) // (workers * 6)))  # small chunks: a worker holds one at a time
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    if method == "fork":  # what every process needs, made once before the fork rather than in each process
        import twoku.checks  # noqa: F401

        fastschema.prepare(("knowledge", "rule", "override", "argumentation", "adjustment", "config"))
    parts: list[Any] = [None] * len(chunks)  # each chunk's [(path, blob, entry)]
    try:
        # One core is the parent's: it parses chunks from the end while the workers take them from the
        # start (a process fewer: each holds its own imports, and all of them count in the peak memory).
        with ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
            futures = [pool.submit(_parse_chunk, str(root), chunk) for chunk in chunks]
            front = 0
            for n in range(len(chunks) - 1, -1, -1):
                if futures[n].cancel():  # not started by a worker yet
                    parts[n] = _parse_list(str(root), chunks[n])
                while front < n and futures[front].done():  # the workers' results, loaded as they come
                    parts[front] = marshal.loads(futures[front].result())
                    front += 1
            for n, future in enumerate(futures):
                if parts[n] is None:
                    parts[n] = marshal.loads(future.result())
    except OSError:  # no processes to be had (a sandbox): do it here
        return _parse_list(str(root), paths)
    return [found for part in parts for found in part]


def _scan(root: Path, cache: Cache) -> tuple[list[str], dict[str, str], bool]:
    """Every store path, the blob ids known without reading, and whether the cache's index of sizes and
    mtimes is kept: git's index vouches for the files where the store is a git repository (only its
    modified and untracked files are read), else each file's size and mtime are compared with the cache's."""
    from twoku.store import gitscan

    found = gitscan.scan(root)
    if found is not None and not found.unknown:
        return found.paths, found.known, False
    paths = found.paths if found is not None else files.store_paths(root)
    known: dict[str, str] = found.known if found is not None else {}
    base = f"{root}{os.sep}"  # plain strings: a Path per file costs more than the stat
    stat = os.stat
    for path in found.unknown if found is not None else paths:
        blob = cache.blob(path, stat(base + path))
        if blob is not None:
            known[path] = blob
    return paths, known, True


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
        for path, blob, entry in _parse_parallel(root, todo):
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
            entry = _read_one(files.RawFile(path, raw, blob))
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
    paths, known, track = _scan(root, cache)
    loaded = _load(root, cache, paths, known, track)
    cache.save()
    return loaded


def _load(root: Path, cache: Cache, paths: list[str], known: dict[str, str], track: bool = True) -> Loaded:
    entries, hits = _entries(root, cache, paths, known, track)
    items: list[Item] = []
    found: list[Finding] = []
    config: dict[str, Any] = {}
    memo: dict[str, Place] = {}
    own: dict[str, list[Finding]] = {}
    every: dict[str, list[Finding]] = {}
    layers: dict[str, Layer] = {}
    tables = {}
    for path in paths:
        data, file_findings, own_findings, every_findings, digest, code, _ = entries[path]
        if file_findings:
            found.extend(_unpack(file_findings))
        if own_findings:
            own[path] = _unpack(own_findings)
        if every_findings:
            every[path] = _unpack(every_findings)
        if not isinstance(data, dict):
            continue
        kind = _dir_place(path, memo).kind
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
    return Loaded(root, library, found, paths, hits, own, every)


def _locate(root: Path, findings: Iterable[Finding]) -> list[Finding]:
    """Fill in line and column from each finding's pointer, parsing each file once."""
    texts: dict[str, str] = {}
    out = []
    for item in findings:
        if item.line is None:
            if item.path not in texts:
                try:
                    texts[item.path] = yamlio.decode((root / item.path).read_bytes())[0]
                except (OSError, yamlio.YamlProblem):
                    texts[item.path] = ""
            line, column = yamlio.locate(texts[item.path], item.pointer) if texts[item.path] else (1, 1)
            item = item.located(line, column)
        out.append(item)
    return out


def _explain_drift(root: Path, current_of: Callable[[str, str], Any], findings: list[Finding]) -> list[Finding]:
    """Say what changed in the upper item since an override or a record was bound to it."""
    from twoku.model.digest import content_digest
    from twoku.model.fielddiff import field_changes
    from twoku.store.history import version_with_digest

    out = []
    for item in findings:
        extra = item.extra
        if item.code in ("TK506", "TK604") and extra.get("target_path"):
            old = version_with_digest(root, extra["target_path"], extra["base_digest"], content_digest)
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
State = dict[str, tuple[str, str, int]]  # path → (blob, fingerprint, 2 holds its ID / 1 a duplicate / 0 no item)


def _table_blobs(root: Path, tables: Iterable[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for path in tables:
        try:
            out[path] = files.blob_id((root / path).read_bytes())
        except OSError:
            out[path] = None
    return out


def _summary_key(paths: list[str], known: dict[str, str], day: str) -> str:
    import hashlib

    digest = hashlib.sha1(day.encode())
    digest.update("\0".join(paths).encode("utf-8", "surrogatepass"))
    digest.update("".join([known[p] for p in paths]).encode("ascii"))
    return digest.hexdigest()


def _summarise(root: Path, loaded: Loaded, day: str) -> tuple[Summary, Counted, dict[str, int]]:
    from twoku.checks import run_cross_checks

    lib = loaded.library
    lib.today = day
    # Item checks ran with the parse (and are cached with it); they count for the item the library holds by its ID.
    own = [f for i in lib.items.values() for f in loaded.item_findings.get(i.path, ())]
    held = [*lib.items.values(), *(i for group in lib.duplicates.values() for i in group[1:])]
    every = [f for i in held for f in loaded.every_findings.get(i.path, ())]
    findings = loaded.file_findings + run_cross_checks(lib) + own + every
    places = {i.path: 1 for i in held}
    places.update((i.path, 2) for i in lib.items.values())
    with_findings = {f.path for f in findings}
    owners = {i.path: (i.layer.code if i.layer else None) for i in held if i.path in with_findings}
    counted = [
        (i.layer.code, i.kind, i.path)
        for i in lib.items.values()
        if i.layer is not None and i.kind in ("knowledge", "rule", "override")
    ]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for code, kind, _ in counted:
        counts[code][kind] += 1
    tables = _table_blobs(root, lib.tables)
    by_layer = {code: dict(n) for code, n in counts.items()}
    summary = Summary(findings, dict(lib.config), owners, by_layer, tables, loaded.cached)
    return summary, counted, places


def _current_from_file(root: Path) -> Callable[[str, str], Any]:
    def current(_target: str, path: str) -> Any:
        try:
            return yamlio.load_json((root / path).read_bytes())[0]
        except (OSError, yamlio.YamlProblem):
            return None

    return current


def _patch(root: Path, cache: Cache, paths: list[str], known: dict[str, str], day: str, track: bool) -> Summary | None:
    """The last summary with the files that changed since read again, when none of them changed what the
    checks between items see (a comment, the layout, a message of one item's own check): only those files'
    own findings can differ then.  None when something else changed (the whole store is checked again)."""
    state = cache.state()
    if not (isinstance(state, dict) and state.get("day") == day and isinstance(state.get("files"), dict)):
        return None
    before: State = state["files"]
    if len(before) != len(paths) or any(p not in before for p in paths):
        return None  # a file added or removed: an ID may have come or gone
    last = cache.summary(state.get("key", ""))
    if not isinstance(last, Summary) or _table_blobs(root, last.tables) != last.tables:
        return None
    changed: dict[str, Entry] = {}
    read = 0
    for path in paths:
        blob = known.get(path)
        if blob == before[path][0]:
            continue
        read += 1
        stat = os.stat(root / path)
        raw = (root / path).read_bytes()
        blob = known[path] = files.blob_id(raw)
        if track:
            cache.remember(path, stat, blob)
        if blob == before[path][0]:
            continue  # touched, not changed
        entry = _read_one(files.RawFile(path, raw, blob))
        if entry[6] != before[path][1]:
            return None
        changed[path] = entry
        if len(changed) > PATCH_UP_TO:
            return None
    from twoku.checks.registry import STORE_CODES

    findings = [f for f in last.findings if f.path not in changed or f.code in STORE_CODES]
    owners = dict(last.owners)
    for path, entry in changed.items():
        place = before[path][2]
        found = _unpack(entry[1]) + (_unpack(entry[2]) if place == 2 else []) + (_unpack(entry[3]) if place else [])
        findings.extend(found)
        if found and place:
            owners[path] = entry[5]
    files_state = {p: (known[p], *before[p][1:]) for p in changed}
    cache.set_state({"day": day, "key": _summary_key(paths, known, day), "files": {**before, **files_state}})
    return replace(last, findings=findings, owners=owners, hits=len(paths) - read)


def _summary(
    root: Path, use_cache: bool, day: str
) -> tuple[Summary, Callable[[str, str], Any], list[str], Callable[[], Counted]]:
    """The store's summary: from the cache when no blob (and no code table) changed, else computed."""
    cache = Cache(root, use_cache)
    paths, known, track = _scan(root, cache)
    key = _summary_key(paths, known, day) if len(known) == len(paths) else ""

    def counted_of(at: str) -> Callable[[], Counted]:
        def counted() -> Counted:
            found = cache.summary(at, "counted")
            if found is None:  # gone (another run in between): compute it
                return _summary(root, False, day)[3]()
            return found  # type: ignore[no-any-return]

        return counted

    if cache.enabled and key:
        found = cache.summary(key)
        if isinstance(found, Summary) and _table_blobs(root, found.tables) == found.tables:
            cache.save()
            return replace(found, hits=len(paths)), _current_from_file(root), paths, counted_of(found.counted_key)
    if cache.enabled:
        patched = _patch(root, cache, paths, known, day, track)
        if patched is not None:
            cache.set_summary(_summary_key(paths, known, day), patched)
            cache.save()
            return patched, _current_from_file(root), paths, counted_of(patched.counted_key)
    with _no_gc():
        loaded = _load(root, cache, paths, known, track)
        summary, counted, places = _summarise(root, loaded, day)
    if cache.enabled:
        key = _summary_key(paths, known, day)
        summary = replace(summary, counted_key=key)
        cache.set_summary(key, summary)
        cache.set_summary(key, counted, "counted")
        entries = cache.entries
        state = {p: (known[p], entries[f"{p}\0{known[p]}"][6], places.get(p, 0)) for p in paths}
        cache.set_state({"day": day, "key": key, "files": state})
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
    return Report(root, kept, checked, dict(counts), region, summary.hits, _checks_of(kept))


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

    out = []
    for error in sorted(validator(kind).iter_errors(data), key=lambda e: list(e.absolute_path)):
        pointer, message, _ = describe(error)
        where = "/".join(str(p) for p in pointer)
        out.append(f"{where}：{message}" if where else message)
    return out
