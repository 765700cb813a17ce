"""What validate keeps of a checked store, and how it brings that up to date after a few files changed.

The summary is the store's findings and counts, kept for one set of blob ids and one day; the state is a
compact index of every file (model/scope.py), kept beside it.  After an edit, patch() checks again only
what the changed files can touch and patches the last summary, instead of checking the whole store.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twoku.model import scope
from twoku.model.findings import Finding
from twoku.model.layout import CONFIG_FILE, Place
from twoku.model.scope import CYCLE_CODE, Affected, Index, affected, odd, references
from twoku.ops import lifetime
from twoku.ops.reading import (
    DATA,
    EVERY,
    FP,
    ITEM_KINDS,
    LAYER,
    OWN,
    READ,
    REFS,
    SEEN,
    Entry,
    Scanned,
    dir_place,
    item_of,
    read_data,
    read_one,
    tables_of,
    unpack,
)
from twoku.store import files
from twoku.store.caching.cache import Cache
from twoku.store.caching.columns import Fixed

if TYPE_CHECKING:  # the library is imported where files are read, not when the cache answers
    from twoku.model.library import Library

PATCH_UP_TO = 500  # changed files up to which the last summary is patched rather than the store checked again


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


def table_blobs(root: Path, tables: Iterable[str], cache: Cache | None = None) -> dict[str, str | None]:
    """The blob id of each table's file (None: unreadable).  With a ``cache``, a file whose size and mtime are
    those of its last hashing (and not racily new then) is not read again: hashing the benchmark's 46 tables
    (60 MB) took a third of an unchanged store's validate."""
    out: dict[str, str | None] = {}
    marks = cache is not None and cache.enabled
    for path in tables:
        full = root / path
        try:
            status = os.lstat(full) if marks else None
            blob = cache.blob(path, status) if cache is not None and status is not None else None
            if blob is None:
                blob = files.blob_id(files.read_regular(full))
                if cache is not None and status is not None:
                    cache.remember(path, status, blob)
            out[path] = blob
        except OSError:
            out[path] = None
    return out


def summary_key(scanned: Scanned, day: str) -> str:
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


def index_of(
    paths: list[str], entries: Mapping[str, Entry], memo: dict[str, Place]
) -> tuple[Index, dict[str, list[str]]]:
    """The compact index of every file (model/scope.py), and beside it each file's layer code ("" when none)
    and the fingerprints of its data and of what other items see of it."""
    ids, kinds, refs = [], [], []
    extra: dict[str, list[str]] = {"layers": [], "fps": [], "seen": []}
    for path in paths:
        entry = entries[path]
        data = entry[DATA]
        kind = dir_place(path, memo).kind
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
    (store/caching/columns.py), as wide as its widest value."""
    if name not in _FIXED:
        return list(values)
    if isinstance(values, Fixed):
        return values.copy()
    return Fixed.of(values, max(map(len, values), default=1) or 1)


def save_state(cache: Cache, day: str, key: str, index: Index, columns: Mapping[str, Column], odd_ids: int) -> None:
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


def load_state(cache: Cache) -> dict[str, Any] | None:
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


def counted_rows(index: Index, layers: list[str]) -> Counted:
    """(layer, kind, path) of each knowledge item, rule and override the library keeps by its ID."""
    out: Counted = []
    seen: set[str] = set()
    for n, item_id in enumerate(index.ids):
        if item_id and item_id not in seen:
            seen.add(item_id)
            if layers[n] and index.kinds[n] in ("knowledge", "rule", "override"):
                out.append((layers[n], index.kinds[n], index.paths[n]))
    return out


def by_layer(counted: Counted) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for code, kind, _ in counted:
        counts[code][kind] += 1
    return {code: dict(n) for code, n in counts.items()}


def patch(root: Path, cache: Cache, scanned: Scanned, day: str) -> tuple[Summary, Callable[[], Counted]] | None:
    """The last summary brought up to date by checking again only what the changed files can touch
    (model/scope.py); None when that cannot be done (the whole store is checked then): no earlier
    state, another day (deadlines), the store's configuration or a code table changed, or many files."""
    paths, known = scanned.paths, scanned.known
    state = load_state(cache)
    lifetime.keep(state)  # 400,000 strings: freeing them took 10 ms of a re-check, where the process ends anyway
    if state is None or state["day"] != day:
        return None
    last = cache.summary(state.get("key", ""))
    if not isinstance(last, Summary):
        return None
    now_tables = table_blobs(root, last.tables, cache)
    edited_tables = [p for p, blob in now_tables.items() if blob != last.tables[p]]
    old_paths: list[str] = state["paths"]
    old_at = dict(zip(old_paths, range(len(old_paths)), strict=True)) if old_paths != paths else None
    found = _changed(root, cache, scanned, state["blobs"], old_at)
    if found is None:
        return None
    changed, read = found
    position = dict(zip(paths, range(len(paths)), strict=True))
    table_items = _table_owners(cache, scanned, edited_tables, position)
    if table_items is None:
        return None
    edited_items = dict(changed)  # the files whose own blob changed (not a table's item read again for its table)
    for path, entry in table_items.items():
        changed.setdefault(path, entry)
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
    for path in table_items:  # its table changed: its own table's checks again (its digest is in its data)
        how.setdefault(path, scope.DATA)
    for path in [*changed, *removed]:
        at = old_at.get(path) if old_at is not None else position[path]
        if at is not None:
            before[path] = (state["ids"][at], state["refs"][at])
    if _tabled(edited_items, [i for p, (i, _) in before.items() if p in edited_items or p in removed], last.tables):
        return None  # an item with a table: its rows, the records argued on them and their subjects, checked whole
    fresh, extra = index_of(list(changed), changed, memo)
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
    needed, more = _needed(root, scanned, index, reach, changed, own_again, memo)
    read += more
    from twoku.model.library import Library

    tables = tables_of(root, needed, memo)
    lib = Library.build(
        [item for path, entry in needed.items() if path in reach.needed and (item := item_of(path, entry, memo))],
        last.config,
        tables,
    )
    lib.today = day
    gone = set(removed)
    findings = _found_again(last.findings, lib, reach, needed, own_again, gone)
    for path in own_again:
        entry = needed[path]
        n = position[path]
        item_id = index.ids[n]
        findings.extend(unpack(entry[READ]))
        if item_id:
            findings.extend((unpack(entry[OWN]) if holders[item_id][0] == n else []) + unpack(entry[EVERY]))
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
    key = summary_key(scanned, day)
    # Tables declared since the last summary are watched from now on (a table added after the cache was built
    # and then edited was missed: validate said ✓ where --no-cache found the bad code).
    watched = {**now_tables, **table_blobs(root, tables.keys() - last.tables.keys())}
    summary = Summary(findings, last.config, owners, counts, watched, len(paths) - read, key)
    cache.set_summary(key, summary)
    if old_at is None and len(state.get("rows", ())) + len(changed) <= DELTA_UP_TO:
        _save_rows(cache, state, key, day, odd_ids, columns, [position[p] for p in changed])
    else:
        save_state(cache, day, key, index, columns, odd_ids)
    return summary, lambda: counted_rows(index, columns["layers"])


def _tabled(changed: Mapping[str, Entry], old_ids: list[str], tables: Mapping[str, object]) -> bool:
    """Whether a changed or removed file is, or was, a knowledge item with a table, or now holds the ID of one
    (a table's file is named after its item: CN-K-0030.csv beside CN-K-0030.yaml)."""
    if any(isinstance(entry[DATA], dict) and "table" in entry[DATA] for entry in changed.values()):
        return True
    ids = {t.rsplit("/", 1)[-1].rsplit(".", 1)[0] for t in tables}
    new_ids = [e[DATA].get("id") for e in changed.values() if isinstance(e[DATA], dict)]
    return not ids.isdisjoint([*old_ids, *new_ids])


def _table_owners(
    cache: Cache, scanned: Scanned, edited: list[str], position: Mapping[str, int]
) -> dict[str, Entry] | None:
    """The knowledge items of the edited tables with their (cached) entries: the item beside the table of the
    same name, as ``twoku table seal`` and the shorthand name them.  None where one is not so, or not in the
    cache: then the whole store is checked."""
    out: dict[str, Entry] = {}
    for table in edited:
        item = table.rpartition(".")[0] + ".yaml"
        blob = scanned.known.get(item)
        entry = cache.get(f"{item}\0{blob}") if item in position and blob is not None else None
        data = entry[0] if entry is not None else None
        declared = data.get("table") if isinstance(data, dict) else None
        name = declared.get("file") if isinstance(declared, dict) else declared
        if entry is None or name != table.rpartition("/")[2]:
            return None
        out[item] = entry
    return out


def _changed(
    root: Path, cache: Cache, scanned: Scanned, old_blobs: Fixed, old_at: dict[str, int] | None
) -> tuple[dict[str, Entry], int] | None:
    """Each file whose blob is not the state's, read again; and how many files were read.  ``old_at``: each
    path's row in the state, where the paths differ from the state's (None where they are the same).  None
    when more files changed than a re-check is worth."""
    paths, known = scanned.paths, scanned.known
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
            stat = os.lstat(root / path)
            raw = files.raw_file(root, path)
            blob = known[path] = raw.blob
            if scanned.track:
                cache.remember(path, stat, blob)
            if at is not None and blob == old_blobs[at]:
                continue  # touched, not changed
        else:
            raw = files.raw_file(root, path, blob)
        if len(changed) >= PATCH_UP_TO:
            return None
        changed[path] = read_one(raw)
    return changed, read


def _needed(
    root: Path,
    scanned: Scanned,
    index: Index,
    reach: Affected,
    changed: Mapping[str, Entry],
    own_again: set[str],
    memo: dict[str, Place],
) -> tuple[dict[str, Entry], int]:
    """The entries a library for the re-check needs (the changed files as just read, the others read again),
    and how many files were read.  A record that names a changed item only among its subjects is checked
    again for those subjects; one that names it elsewhere too (a field of its own) is moved from
    ``reach.partial`` to ``reach.recheck``, with all it names needed."""
    from twoku.checks.registry import text_of

    paths, known, holders = scanned.paths, scanned.known, index.holders()
    position = index.positions()
    needed: dict[str, Entry] = {}
    read = 0
    for path, named in list(reach.partial.items()):
        read += 1
        needed[path] = entry = read_data(files.raw_file(root, path, known[path]), memo)
        data = entry[DATA]
        rest = {k: v for k, v in data.items() if k != "subjects"} if isinstance(data, dict) else None
        if rest is None or not named.isdisjoint(references(text_of(rest)).split()):
            del reach.partial[path]
            reach.recheck.add(path)
            named_all = index.refs[position[path]].split()
            for item_id in named_all:
                reach.needed.update(paths[m] for m in holders.get(item_id, ()))
            # TK604: each subject beside every record naming it (a newer record of a kind supersedes this one)
            reach.needed.update(
                paths[m]
                for m, kind in enumerate(index.kinds)
                if kind == "argumentation" and not set(named_all).isdisjoint(index.refs[m].split())
            )
    for path in sorted(reach.needed | own_again):
        if path in needed and path not in own_again:
            continue
        if path in changed:
            needed[path] = changed[path]
        else:
            read += 1
            file = files.raw_file(root, path, known[path])
            needed[path] = read_one(file) if path in own_again else read_data(file, memo)
    return needed, read


def _found_again(
    last: list[Finding], lib: Library, reach: Affected, needed: Mapping[str, Entry], own_again: set[str], gone: set[str]
) -> list[Finding]:
    """The last summary's findings, with those of the checks between items that may differ now found again
    on ``lib`` (the findings of a file's own are not among them: the caller reads them from its entry)."""
    from twoku.checks import run_cross_checks
    from twoku.checks.registry import STORE_CODES

    def about(found: Finding) -> set[object]:
        """The ID of the record's subject a finding is about (its pointer is subjects/<n>/…), if any."""
        pointer = found.pointer
        if len(pointer) < 2 or pointer[0] != "subjects" or not isinstance(pointer[1], int):
            return set()
        subjects = needed[found.path][DATA].get("subjects") if isinstance(needed[found.path][DATA], dict) else None
        if isinstance(subjects, list) and pointer[1] < len(subjects) and isinstance(subjects[pointer[1]], dict):
            return {subjects[pointer[1]].get("id")}
        return set()

    def again(found: Finding) -> bool:  # whether a finding of the last summary is found anew here
        path = found.extra.get("item_path", found.path)  # a table's findings are in its file, about its item
        if found.code not in STORE_CODES:
            return path in own_again
        if path in reach.partial:
            return not about(found).isdisjoint(reach.partial[path])  # (a table's change is checked whole: _tabled)
        return path in reach.recheck and (found.code != CYCLE_CODE or path in reach.cycles)

    kept = [f for f in last if f.path not in gone and not again(f)]
    return kept + [f for f in run_cross_checks(lib) if again(f)]


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
