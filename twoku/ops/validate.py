"""``twoku validate``: check every file of a store and report every finding.

Files are read by ops/reading.py; a store checked before is answered from its kept summary, or that
summary patched after a few files changed (ops/recheck.py); otherwise every file is read and the whole
library checked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twoku.errors import UsageError
from twoku.model.findings import Finding, Pointer
from twoku.model.layout import Place, classify
from twoku.model.regions import Layer, parse_layer
from twoku.model.report import Report
from twoku.model.scope import Index, odd
from twoku.ops import lifetime, reading
from twoku.ops.reading import ITEM_KINDS, Entry, dir_place, no_gc, read_entries, scan, unpack
from twoku.ops.recheck import (
    Counted,
    Summary,
    by_layer,
    counted_rows,
    index_of,
    load_state,
    patch,
    save_state,
    summary_key,
    table_blobs,
)
from twoku.ops.storeversion import require_current, version_finding
from twoku.store import files
from twoku.store.caching.cache import Cache

if TYPE_CHECKING:  # the library is imported where files are read, not when the cache answers
    from twoku.model.library import Item, Library
    from twoku.model.tables import Table


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


def load_store(root: Path, use_cache: bool = True, tables: bool = True) -> Loaded:
    """Read and parse every file of the store, from the cache where the blob is unchanged; refused for a store
    of another schema version (ops/storeversion.py).

    With ``tables`` false the knowledge tables are not read into the library (``lib.tables`` is empty): a
    command that reads a few of them reads those itself, one at a time, and does not hold a million rows."""
    require_current(root)
    cache = Cache(root, use_cache)
    scanned = scan(root, cache)
    with no_gc(freeze=_big(scanned.paths)):
        loaded = _load(root, cache, scanned.paths, scanned.known, scanned.track, tables)
    cache.save()
    return loaded


@dataclass
class _Assembled:
    """What a library is built from, as the files' entries give it: made chunk by chunk while the cores parse
    a cold store (the parent's share of that work then shrinks), else at once."""

    items: list[Item] = field(default_factory=list)
    found: list[Finding] = field(default_factory=list)  # of reading the files
    own: dict[str, list[Finding]] = field(default_factory=dict)
    every: dict[str, list[Finding]] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    tables: dict[str, Table | None] = field(default_factory=dict)
    files: int = 0

    def add(self, other: _Assembled) -> None:
        self.items += other.items
        self.found += other.found
        self.own.update(other.own)
        self.every.update(other.every)
        self.config = other.config if other.config is not None else self.config
        self.tables.update(other.tables)
        self.files += other.files


def _assemble(
    root: Path,
    entries: Iterable[tuple[str, Entry]],
    memo: dict[str, Place],
    layers: dict[str, Layer],
    read_tables: bool = True,
    checking: bool = False,
) -> _Assembled:
    from twoku.model.library import Item
    from twoku.model.tables import prepare

    out = _Assembled()
    items, found, own, every, tables = out.items, out.found, out.own, out.every, out.tables
    for path, entry in entries:
        out.files += 1
        data, file_findings, own_findings, every_findings, digest, code, _, _, _ = entry
        if file_findings:
            found.extend(unpack(file_findings))
        if own_findings:
            own[path] = unpack(own_findings)
        if every_findings:
            every[path] = unpack(every_findings)
        if not isinstance(data, dict):
            continue
        place = memo.get(path.rpartition("/")[0])  # dir_place inlined: a call per file cost more than this
        kind = (place or dir_place(path, memo)).kind
        if kind == "config":
            out.config = data
        elif kind in ITEM_KINDS:
            layer = layers.get(code) if code is not None else None
            if layer is None and code is not None:
                layer = layers[code] = Layer(code)
            items.append(Item(kind, path, data, layer, digest))
            if read_tables and kind == "knowledge" and "table" in data:
                read = files.tables_in(root, [(path, data)])
                for table in read.values() if checking else ():
                    if table is not None:
                        prepare(table)  # while the other processes still parse files (see parse_forked)
                tables.update(read)
    return out


def _load(
    root: Path,
    cache: Cache,
    paths: list[str],
    known: dict[str, str],
    track: bool = True,
    tables: bool = True,
    checking: bool = False,
) -> Loaded:
    """The library of the store's files (``checking``: for validate, whose checks of each table begin as it is
    read)."""
    from twoku.model.library import Library

    memo: dict[str, Place] = {}
    layers: dict[str, Layer] = {}
    chunks: dict[int, _Assembled] = {}

    def each(n: int, part: list[tuple[str, str, Entry]]) -> None:
        chunks[n] = _assemble(root, ((path, entry) for path, _, entry in part), memo, layers, tables, checking)

    entries, hits = read_entries(root, cache, paths, known, track, each)
    whole = _Assembled()
    if sum(chunk.files for chunk in chunks.values()) == len(paths):  # every file parsed in chunks: assembled
        for n in sorted(chunks):
            whole.add(chunks[n])
    else:
        whole = _assemble(root, ((path, entries[path]) for path in paths), memo, layers, tables, checking)
    config = whole.config if whole.config is not None else {}
    library = Library.build(whole.items, config, whole.tables)
    loaded = Loaded(root, library, whole.found, paths, hits, whole.own, whole.every)
    if _big(paths):
        lifetime.keep((loaded, entries))  # freed with the process, where it ends with the command (0.2 s)
    return loaded


def _big(paths: list[str]) -> bool:
    """A store read in parallel: its parsed files are millions of objects, made while the cycle collector was
    off.  Once it is on again, its first pass would walk all of them (0.3 s), and so would the one at exit
    (0.4 s).  They hold no cycles (trees of dicts, lists and strings, freed by reference counting), so they
    are frozen as the work ends (no_gc(freeze=…)): kept out of every later pass of the collector."""
    return len(paths) >= reading.PARALLEL_FROM


def _locate(root: Path, findings: Iterable[Finding]) -> list[Finding]:
    """Fill in line and column from each finding's pointer, parsing each file once."""
    findings = list(findings)
    if all(f.line is not None for f in findings):
        return findings
    from twoku.store.documents import yamlio

    locators: dict[str, Callable[[Pointer], tuple[int, int]] | None] = {}
    out = []
    for item in findings:
        if item.line is None:
            if item.path not in locators:
                try:
                    locators[item.path] = yamlio.locator(yamlio.decode(files.read_regular(root / item.path))[0])
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
    from twoku.store.repo.history import versions_with_digests

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
                    listed = "；".join(c.describe() for c in changes[:5])  # (describe() masks an ID number)
                    more = f" 等 {len(changes)} 处" if len(changes) > 5 else ""
                    item = replace(item, message=f"{item.message}：{listed}{more}")
            else:
                item = replace(item, message=f"{item.message}（历史中找不到原版本，请用 twoku diff 查看）")
        out.append(item)
    return out


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
    tables = table_blobs(root, lib.tables)
    summary = Summary(findings, dict(lib.config), owners, by_layer(counted), tables, loaded.cached)
    return summary, counted


def _current_from_file(root: Path) -> Callable[[str, str], Any]:
    def current(_target: str, path: str) -> Any:
        from twoku.store.documents import yamlio

        try:
            return yamlio.load_json(files.read_regular(root / path))[0]
        except (OSError, yamlio.YamlProblem):
            return None

    return current


def _summary(
    root: Path, use_cache: bool, day: str
) -> tuple[Summary, Callable[[str, str], Any], list[str], Callable[[], Counted]]:
    """The store's summary: from the cache when no blob (and no code table) changed, else computed."""
    cache = Cache(root, use_cache)
    scanned = scan(root, cache)
    lifetime.keep(scanned)  # every path and blob id: freed with the process where it ends with the command
    paths, known, track = scanned.paths, scanned.known, scanned.track
    key = summary_key(scanned, day) if len(known) == len(paths) else ""

    def counted_of(at: str) -> Callable[[], Counted]:
        def counted() -> Counted:
            found = cache.summary(at, "counted")
            if found is not None:
                return found  # type: ignore[no-any-return]
            state = load_state(cache)  # a re-check after an edit keeps only its index
            if state is not None and state["key"] == at:
                return counted_rows(Index(state["paths"], state["ids"], state["kinds"], state["refs"]), state["layers"])
            return _summary(root, False, day)[3]()  # gone (another run in between): compute it

        return counted

    if cache.enabled and key:
        found = cache.summary(key)
        if isinstance(found, Summary) and table_blobs(root, found.tables, cache) == found.tables:
            cache.save()
            return replace(found, hits=len(paths)), _current_from_file(root), paths, counted_of(found.counted_key)
    if cache.enabled:
        with no_gc(freeze=_big(paths)):
            patched = patch(root, cache, scanned, day)
        if patched is not None:
            cache.save()
            return patched[0], _current_from_file(root), paths, patched[1]
    with no_gc(freeze=_big(paths)):  # what the checks make, too
        loaded = _load(root, cache, paths, known, track, checking=True)
        summary, counted = _summarise(root, loaded, day)
    if cache.enabled:
        key = summary_key(scanned, day)
        summary = replace(summary, counted_key=key)
        cache.set_summary(key, summary)
        cache.set_summary(key, counted, "counted")
        entries = cache.entries
        index, extra = index_of(paths, {p: entries[f"{p}\0{known[p]}"] for p in paths}, {})
        odd_ids = sum(odd(i) for i in index.ids)
        save_state(cache, day, key, index, {**extra, "blobs": [known[p] for p in paths]}, odd_ids)
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
    stale = version_finding(root)
    if stale is not None:  # not read as what it is not: one finding, and nothing else checked
        return Report(root, [stale], 1, {}, region, 0, _checks_of([stale]))
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
    from twoku.checks.schema import problems
    from twoku.store.schema.schemas import validator

    out = []
    for pointer, message, _ in problems(sorted(validator(kind).iter_errors(data), key=lambda e: list(e.absolute_path))):
        where = "/".join(str(p) for p in pointer)
        out.append(f"{where}：{message}" if where else message)
    return out
