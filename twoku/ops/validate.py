"""``twoku validate``: check every file of a store and report every finding."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.checks import CHECKS, run_store_checks
from twoku.checks.registry import finding
from twoku.checks.schema import schema_findings
from twoku.checks.waivers import apply_waivers
from twoku.errors import UsageError
from twoku.model.findings import Finding
from twoku.model.layout import classify
from twoku.model.library import Item, Library, make_item
from twoku.model.regions import Layer, parse_layer
from twoku.model.report import Report
from twoku.store import files, yamlio
from twoku.store.cache import Cache
from twoku.store.schemas import validator

ITEM_KINDS = ("knowledge", "rule", "override", "argumentation", "adjustment")


@dataclass
class Loaded:
    """A store read from disk: its library and the findings of reading each file."""

    root: Path
    library: Library
    file_findings: list[Finding]
    paths: list[str]
    cached: int

    @property
    def checked(self) -> int:
        return len(self.paths)


def _read_one(raw: files.RawFile) -> tuple[Any, list[Finding]]:
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
        return None, [found]
    out: list[Finding] = []
    try:
        data, bom = yamlio.load(raw.raw)
    except yamlio.YamlProblem as problem:
        found = finding(problem.code, problem.message, raw.path, (), None, problem.hint)
        return None, [found.located(problem.line, problem.column)]
    if bom:
        out.append(
            finding("TK105", "文件以 UTF-8 BOM 开头", raw.path, (), None, "用不带 BOM 的 UTF-8 保存").located(1, 1)
        )
    data = yamlio.to_json(data)
    out.extend(schema_findings(place.kind, raw.path, data, validator(place.kind)))
    return data, out


def load_store(root: Path, use_cache: bool = True) -> Loaded:
    """Read and parse every file of the store, from the cache where the blob is unchanged."""
    cache = Cache(root, use_cache)
    paths = files.store_paths(root)
    items: list[Item] = []
    found: list[Finding] = []
    config: dict[str, Any] = {}
    keys: set[str] = set()
    hits = 0
    for raw in files.read(root, paths):
        key = f"{raw.path}\0{raw.blob}"
        keys.add(key)
        entry = cache.get(key)
        if entry is None:
            entry = _read_one(raw)
            cache.put(key, entry)
        else:
            hits += 1
        data, file_findings = entry
        found.extend(file_findings)
        kind = classify(raw.path).kind
        if not isinstance(data, dict):
            continue
        if kind == "config":
            config = data
        elif kind in ITEM_KINDS:
            items.append(make_item(kind, raw.path, data))
    cache.keep_only(keys)
    cache.save()
    tables = {}
    for item in items:
        table = item.data.get("table")
        if item.kind == "knowledge" and isinstance(table, str):
            path = item.path.rsplit("/", 1)[0] + "/" + table
            tables[path] = files.read_codes(root, path)
    library = Library.build(items, config, tables)
    return Loaded(root, library, found, paths, hits)


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


def _explain_drift(root: Path, lib: Library, findings: list[Finding]) -> list[Finding]:
    """Say what changed in the upper item since an override or a record was bound to it."""
    from dataclasses import replace

    from twoku.model.digest import content_digest
    from twoku.model.fielddiff import field_changes
    from twoku.store.history import version_with_digest

    out = []
    for item in findings:
        extra = item.extra
        if item.code in ("TK506", "TK604") and extra.get("target_path"):
            old = version_with_digest(root, extra["target_path"], extra["base_digest"], content_digest)
            current = lib.get(extra["target"])
            if old is not None and current is not None:
                changes = field_changes(old, current.data, normative_only=True)
                if changes:
                    listed = "；".join(c.describe() for c in changes[:5])
                    more = f" 等 {len(changes)} 处" if len(changes) > 5 else ""
                    item = replace(item, message=f"{item.message}：{listed}{more}")
            else:
                item = replace(item, message=f"{item.message}（历史中找不到原版本，请用 twoku diff 查看）")
        out.append(item)
    return out


def _owner(item_path: str, by_path: dict[str, Item]) -> Layer | None:
    item = by_path.get(item_path)
    if item is not None:
        return item.layer
    return classify(item_path).layer


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
    loaded = load_store(root, use_cache)
    lib = loaded.library
    targets = list(targets)
    selected = files.select(root, targets, loaded.paths) if targets else None
    day = (today or dt.date.today()).isoformat()
    lib.today = day
    findings = loaded.file_findings + run_store_checks(lib)
    findings = apply_waivers(findings, lib.config, day)
    by_path = {i.path: i for i in lib.items.values()}
    for group in lib.duplicates.values():
        by_path.update({i.path: i for i in group})
    kept = []
    for item in findings:
        if selected is not None and item.path not in selected:
            continue
        if chain is not None:
            owner = _owner(item.path, by_path)
            if owner is not None and owner not in chain:
                continue
        kept.append(item)
    kept = sorted(_locate(root, _explain_drift(root, lib, kept)), key=Finding.sort_key)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in lib.items.values():
        if entry.layer is None or entry.kind not in ("knowledge", "rule", "override"):
            continue
        if chain is not None and entry.layer not in chain:
            continue
        if selected is not None and entry.path not in selected:
            continue
        counts[entry.layer.code][entry.kind] += 1
    checked = len(selected) if selected is not None else loaded.checked
    return Report(root, kept, checked, dict(counts), region, loaded.cached, dict(CHECKS))
