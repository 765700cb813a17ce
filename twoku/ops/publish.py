"""``twoku publish --public-summary``: the monitoring points and standards of a region's
effective library, disclosed to designated institutions or to society (第十二条).

Built from a committed revision only (the record is a tag on it), reduced to what the
audience may see by the schemas' disclosure annotations, refused when a value looks like
personal data (第二十二条), written atomically, then recorded as ``publish/<region>/<date>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twoku.errors import TwokuError, UsageError
from twoku.model import tables
from twoku.model.changes import ORDER
from twoku.model.disclosure import AUDIENCE_LABELS, AUDIENCES, values_public
from twoku.model.findings import ERROR
from twoku.model.library import Library, table_overrides, tables_used
from twoku.model.publication import (
    Publication,
    PublicTable,
    Rule,
    personal_values,
    public_change,
    public_library,
    public_rules,
    public_table,
)
from twoku.model.regions import Layer, layer_name
from twoku.ops.diff import diff
from twoku.ops.library import region_layer
from twoku.ops.validate import load_store
from twoku.render.publish import FORMATS, renderer
from twoku.render.publish.json import to_data
from twoku.store import files
from twoku.store.documents.edit import atomic_write, writable_file
from twoku.store.repo import gitio, publishtags
from twoku.store.writes.faults import checkpoint, writes


@dataclass(frozen=True)
class Output:
    format: str
    path: Path
    size: int  # bytes
    sha256: str  # so a reader can check that the copy they received is the one published


@dataclass(frozen=True)
class Published:
    publication: Publication
    outputs: list[Output]
    tag: str
    tagged_now: bool  # False when this revision was already published for the date
    warnings: int = 0  # validate's warnings in the region's layers: reported, never blocking


def parse_formats(value: str | None) -> list[str]:
    wanted = [f.strip() for f in (value or ",".join(FORMATS)).split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise UsageError(f"--format {value}：不认识 {'、'.join(unknown) or '空值'}", hint="可选：" + ",".join(FORMATS))
    return [f for f in FORMATS if f in wanted]


def _check_committed(root: Path) -> None:
    dirty = gitio.uncommitted(root, files.store_paths(root))
    if dirty:
        shown = "、".join(dirty[:5]) + ("……" if len(dirty) > 5 else "")
        raise TwokuError(
            f"库中有未提交的修改：{shown}",
            hint="发布记录的是一个提交（标签 publish/<地区>/<日期>）：先提交这些修改，再发布",
        )


def refuse_invalid(root: Path, region: str) -> int:
    """Refuse to publish a region whose layers (national, province, city) hold errors; the
    number of warnings otherwise.  A published standard must be one the store stands behind."""
    from twoku.ops.validate import validate

    report = validate(root, region=region)
    if report.errors:
        first = "；".join(f"{f.path} {f.code}" for f in report.of(ERROR)[:3])
        raise TwokuError(
            f"拒绝发布：{region} 适用的各层级中有 {report.errors} 个错误（{first}{'……' if report.errors > 3 else ''}）",
            hint=f"运行 twoku validate --region {region} 查看并修正，提交后再发布（警告不阻止发布）",
        )
    return report.warnings


def build(root: Path, region: str | None, audience: str, as_of: dt.date) -> Publication:
    """The publication of a region's library as of a date, at the committed HEAD."""
    if audience not in AUDIENCES:
        raise UsageError(
            f"--audience {audience} 无效", hint="可选：" + "、".join(f"{k}（{v}）" for k, v in AUDIENCE_LABELS.items())
        )
    _check_committed(root)
    odd = gitio.not_regular(root)
    if odd:  # git's own mode, whatever the working tree shows (validate's TK109 reads the files themselves)
        raise TwokuError(
            f"拒绝发布：库中提交了不是普通文件的条目（符号链接或子模块）：{'、'.join(odd[:5])}",
            hint="两库只由普通文件组成：把链接换成文件本身（或删除它）并提交后再发布",
        )
    lib = load_store(root).library
    layer = region_layer(region, lib)
    names = lib.region_names()
    head = publishtags.head(root)
    values = values_public(lib.config, audience)
    rules = public_rules(public_library(lib, audience, as_of, layer), layer, names, values)
    last = publishtags.previous(root, layer.code, head)
    changes = []
    if last is not None:
        found = diff(root, since=last[0], until=head, region=layer.code)
        changes = [
            c
            for c in (public_change(item, audience, as_of, found.words.get(item.id), values) for item in found.items)
            if c is not None
        ]
    published_tables = _tables(root, lib, rules, layer, audience)
    return Publication(
        region=layer.code,
        region_name=layer_name(layer, names),
        audience=audience,
        as_of=as_of.isoformat(),
        revision=head,
        since_tag=last[0] if last else None,
        since_revision=last[1] if last else None,
        rules=rules,
        changes=tuple(sorted(changes, key=lambda c: (ORDER.index(c.change), c.id))),
        names=dict(sorted(names.items())),
        tables=published_tables,
    )


def _tables(root: Path, lib: Library, rules: Sequence[Rule], region: Layer, audience: str) -> tuple[PublicTable, ...]:
    """The knowledge tables the published rules are judged against, as the region has them (第十二条: the
    standards are disclosed with the monitoring points)."""
    users: dict[str, list[str]] = {}
    for rule in rules:
        item = lib.get(rule.id, "rule")
        for knowledge_id in tables_used(lib, item) if item is not None else ():
            users.setdefault(knowledge_id, []).append(rule.id)
    out = []
    for knowledge_id, rule_ids in sorted(users.items()):
        item = lib.get(knowledge_id, "knowledge")
        spec = tables.spec_of(item.data) if item is not None else None
        table = lib.tables.get(tables.table_path(item.path, spec)) if item is not None and spec is not None else None
        if item is None or table is None or not table.readable:
            continue  # validate refuses such a store before anything is published
        own = item.layer.code if item.layer else ""
        effective = tables.layered(table, own, table_overrides(lib, knowledge_id, region))
        shown = public_table(item, table, effective, audience, rule_ids)
        if shown is not None:
            out.append(shown)
    return tuple(out)


@writes
def publish(
    root: Path, region: str | None, audience: str, as_of: dt.date, out: Path | None, formats: list[str]
) -> Published:
    pub = build(root, region, audience, as_of)
    leaks = personal_values(to_data(pub))
    if leaks:
        raise TwokuError(
            "拒绝发布：以下取值疑似个人信息（第二十二条）：" + "；".join(leaks[:5]),
            hint="从库中删除这些个人信息并提交后再发布（twoku validate 的 TK801 指出所在文件和行）",
        )
    warnings = refuse_invalid(root, pub.region)
    folder = out or Path(f"public-summary-{pub.region}-{pub.as_of}")
    paths = [folder / f"{pub.region}-{pub.as_of}.{fmt}" for fmt in formats]
    for path in paths:  # before the tag: a folder that cannot take the files is refused with nothing written
        writable_file(path)
    tag = publishtags.tag_name(pub.region, pub.as_of)
    tagged = publishtags.tagged(root, tag)
    if tagged is not None and tagged != pub.revision:
        raise TwokuError(
            f"{pub.as_of} 已在另一版本（{tagged[:12]}）发布过 {pub.region_name}：标签 {tag} 已存在",
            hint="用 --as-of 指定另一日期，或确认后删除该标签：git tag -d " + tag,
        )
    rendered = {fmt: renderer(fmt)(pub) for fmt in formats}
    if tagged is None:
        message = f"公开摘要：{pub.region_name}（{pub.region}），{pub.as_of} 生效，公开对象 {AUDIENCE_LABELS[audience]}"
        publishtags.create(root, tag, pub.revision, message)
        checkpoint("tagged")
    try:
        for path, fmt in zip(paths, formats, strict=True):
            atomic_write(path, rendered[fmt])
            path.chmod(0o644)  # a publication is for others to read (the temporary file was 0600)
    except OSError as exc:
        if tagged is None:
            publishtags.delete(root, tag)  # no record of a publication that was not written
        raise TwokuError(f"无法写入 {folder}：{exc.strerror or exc}", hint="检查 --out 目录是否可写") from None
    outputs = [
        Output(fmt, path, len(rendered[fmt]), hashlib.sha256(rendered[fmt]).hexdigest())
        for path, fmt in zip(paths, formats, strict=True)
    ]
    return Published(pub, outputs, tag, tagged is None, warnings or 0)
