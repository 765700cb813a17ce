"""``twoku signoff``: record an argumentation (第九条 to 第十一条), and see where each rule stands.

A record binds each subject to its content digest as argued; it is checked against the
schema and 第十条 before anything is written, so a record that does not fit never lands.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model import enums
from twoku.model.argumentation import PASSING, participant_problem, required_kinds
from twoku.model.digest import content_digest
from twoku.model.fielddiff import field_changes
from twoku.model.ids import parse_id
from twoku.model.layout import expected_path, schema_ref
from twoku.model.library import Item, Library, tables_used
from twoku.model.regions import Layer, layer_name, parse_layer
from twoku.model.signoff import (
    CURRENT,
    MISSING,
    REJECTED,
    STALE,
    KindState,
    ParticipantProblem,
    Recorded,
    RecordView,
    RuleSignoff,
    SignoffStatus,
    SubjectView,
    parse_participant,
    stale_tables,
)
from twoku.ops.library import region_layer
from twoku.ops.validate import load_store
from twoku.store.writes.faults import writes

SUBJECT_KINDS = ("knowledge", "rule", "override")
MAX_CHANGES = 5
FIND_IDS = "用 twoku ls rules 或 twoku ls knowledge 查找编号"


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--date “{text}” 不是有效日期", hint="日期写作 YYYY-MM-DD，如 2025-11-20") from None


def _subjects(lib: Library, ids: Sequence[str]) -> list[Item]:
    items: list[Item] = []
    for item_id in dict.fromkeys(ids):  # keep order, drop repeats
        item = lib.get(item_id)
        if item is None:
            raise UsageError(
                f"库中没有编号为 {item_id} 的条目", hint="用 twoku ls rules 或 twoku ls knowledge 查找编号"
            )
        if item.kind not in SUBJECT_KINDS:
            raise UsageError(f"{item_id} 不是规则、知识或本地化，不能作为论证对象")
        items.append(item)
    if not items:
        raise UsageError("至少给出一个论证对象的编号")
    return items


def _record_layer(subjects: list[Item], layer: str | None) -> Layer:
    if layer is not None:
        try:
            chosen = parse_layer(layer)
        except ValueError as exc:
            raise UsageError(f"--layer {layer}：{exc}") from None
        outside = [s.id for s in subjects if s.layer is None or s.layer not in chosen.chain]
        if outside:
            raise UsageError(f"{'、'.join(outside)} 不在 {chosen} 的生效库中，{chosen} 不能论证它们")
        return chosen
    layers = sorted({s.layer.code for s in subjects if s.layer is not None})
    if len(layers) != 1:
        raise UsageError(
            f"论证对象分属不同层级（{'、'.join(layers)}），不知道记录归哪一层",
            hint="用 --layer 指定组织论证的层级，如 --layer 510000",
        )
    return Layer(layers[0])


def next_record_id(root: Path, lib: Library, layer: Layer) -> str:
    """The next free ``<LAYER>-A-NNNN``, counting files on disk as well as parsed records."""
    taken: set[int] = set()
    pattern = re.compile(rf"^{re.escape(layer.code)}-A-(\d{{4}})\.ya?ml$")
    folder = root / "argumentation"
    if folder.is_dir():
        for entry in folder.iterdir():
            match = pattern.match(entry.name)
            if match:
                taken.add(int(match[1]))
    for record in lib.of_kind("argumentation"):
        parsed = parse_id(record.id)
        if parsed and parsed.layer == layer:
            taken.add(parsed.number)
    number = max(taken, default=0) + 1
    if number > 9999:
        raise TwokuError(f"{layer} 的论证记录编号已用尽（9999）")
    return f"{layer.code}-A-{number:04d}"


def _opinions(root: Path, path: Path | None) -> list[str] | None:
    """One opinion per non-empty line of the file; leading list marks are dropped."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"无法读取意见文件 {path}：{exc}", hint="意见文件须为 UTF-8 文本，每行一条意见") from None
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.、）)])\s*", "", line).strip() for line in text.splitlines()]
    found = [line for line in lines if line]
    if not found:
        raise UsageError(f"意见文件 {path} 是空的")
    return found


def _minutes(root: Path, path: Path | None) -> str | None:
    if path is None:
        return None
    full = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if not full.is_file():
        raise UsageError(f"纪要文件不存在：{path}")
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"纪要文件 {path} 不在库中", hint="把纪要放进库里（如 argumentation/minutes/）再记录"
        ) from None


def _problems(data: Mapping[str, Any]) -> list[str]:
    """Every reason the record does not fit: schema, then 第十条, all of them."""
    from twoku.ops.validate import schema_problems

    out = schema_problems("argumentation", data)
    kind = str(data.get("kind"))
    for n, person in enumerate(data.get("participants") or []):
        problem = participant_problem(kind, person)
        if problem:
            out.append(f"第 {n + 1} 位参加人员 {person.get('name')}（{person.get('affiliation')}）：{problem}")
    return out


@writes
def record(
    root: Path,
    ids: Sequence[str],
    kind: str,
    date: str,
    organizer: str,
    participants: Sequence[str],
    conclusion: str,
    opinions: Path | None = None,
    minutes: Path | None = None,
    layer: str | None = None,
    commit: bool = True,
) -> Recorded:
    """Write (and commit) an argumentation record binding each subject to its current digest."""
    from twoku.store.documents import yamlio
    from twoku.store.documents.edit import atomic_write, dump
    from twoku.store.repo import gitio

    if kind not in enums.ARGUMENTATION_KINDS:
        raise UsageError(f"--kind {kind} 不是论证形式", hint="可选：" + "、".join(enums.ARGUMENTATION_KINDS))
    if conclusion not in enums.CONCLUSIONS:
        raise UsageError(f"--conclusion {conclusion} 不是论证结论", hint="可选：" + "、".join(enums.CONCLUSIONS))
    day = _parse_date(date)
    people = []
    for text in participants:
        try:
            people.append(parse_participant(text))
        except ParticipantProblem as exc:
            raise UsageError(exc.message, hint=exc.hint) from None
    if not people:
        raise UsageError("至少给出一位参加人员（--participant）", hint="写作 姓名|单位|领域[|单位类型]")
    lib = load_store(root).library
    subjects = _subjects(lib, ids)
    dirty = gitio.uncommitted(root, [s.path for s in subjects])
    if dirty:
        raise TwokuError(
            f"论证对象文件有未提交的修改：{'、'.join(dirty)}",
            hint="论证针对已提交的内容：先提交（或撤销）这些修改，再记录论证",
        )
    record_layer = _record_layer(subjects, layer)
    record_id = next_record_id(root, lib, record_layer)
    path = expected_path("argumentation", record_id, record_layer)
    assert path is not None
    data: dict[str, Any] = {
        "id": record_id,
        "kind": kind,
        "date": day.isoformat(),
        "organizer": organizer.strip(),
        "subjects": [_subject(lib, s) for s in subjects],
        "participants": people,
        "conclusion": conclusion,
    }
    opinion_list = _opinions(root, opinions)
    if opinion_list:
        data["opinions"] = opinion_list
    minutes_path = _minutes(root, minutes)
    if minutes_path:
        data["minutes"] = minutes_path
    problems = _problems(data)
    if problems:
        raise TwokuError(
            "论证记录不符合要求，未写入：\n  " + "\n  ".join(problems),
            hint="第十条：学术论证由学会协会、高等院校、科研院所的专家参加；业务论证由医保行政部门、经办机构的"
            "医保管理、经办人员参加；行业论证由卫生健康、中医药管理部门及定点医药机构的专家参加",
        )
    header = f"# yaml-language-server: $schema={schema_ref(path, 'argumentation.schema.json')}\n"
    text = header + dump({**data, "date": day})  # a YAML date, as hand-written records have it
    parsed, _ = yamlio.load(text.encode("utf-8"))
    assert yamlio.to_json(parsed) == data, "the record must read back as written"
    target = root / path
    try:
        atomic_write(target, text.encode("utf-8"), exclusive=True)
    except FileExistsError:
        raise TwokuError(f"{path} 已存在", hint="有人同时在记录论证；重新运行即可取得下一个编号") from None
    sha = None
    if commit:
        # the minutes land with the record when they are not yet committed as they are
        paths = [path, *gitio.uncommitted(root, [minutes_path] if minutes_path else [])]
        try:
            sha = gitio.commit_files(root, paths, commit_message(record_id, kind, [s.id for s in subjects]))
        except TwokuError:
            target.unlink(missing_ok=True)
            raise
    return Recorded(record_id, path, data, sha)


def _subject(lib: Library, item: Item) -> dict[str, Any]:
    """A record's subject: its digest as argued, and those of the tables it is judged against."""
    out: dict[str, Any] = {"id": item.id, "digest": content_digest(item.data)}
    used = tables_used(lib, item)
    if used:
        out["tables"] = [{"id": k, "digest": d} for k, d in used.items()]
    return out


def commit_message(record_id: str, kind: str, subject_ids: Sequence[str]) -> str:
    """论证记录 CN-A-0004：业务论证 CN-R-0001 等 2 条"""
    more = f" 等 {len(subject_ids)} 条" if len(subject_ids) > 1 else ""
    return f"论证记录 {record_id}：{kind} {subject_ids[0]}{more}"


def _changes(root: Path, item: Item, recorded: str) -> tuple[list[str], bool]:
    """What changed in ``item`` since its content had digest ``recorded`` (from git history)."""
    from twoku.store.repo.history import version_with_digest

    old = version_with_digest(root, item.path, recorded, content_digest)
    if old is None:
        return [], False
    changes = field_changes(old, item.data, normative_only=True)
    described = [c.describe() for c in changes[:MAX_CHANGES]]
    if len(changes) > MAX_CHANGES:
        described.append(f"… 共 {len(changes)} 处")
    return described, True


def _records_of(lib: Library) -> dict[str, list[tuple[Item, str, list[str]]]]:
    """Each subject's records: (record, the digest argued, the tables argued on that changed since)."""
    out: dict[str, list[tuple[Item, str, list[str]]]] = {}
    for rec in lib.of_kind("argumentation"):
        subjects = rec.data.get("subjects")
        for subject in subjects if isinstance(subjects, list) else []:
            if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
                out.setdefault(subject["id"], []).append((rec, str(subject.get("digest")), stale_tables(lib, subject)))
    return out


def _kind_state(
    root: Path, rule: Item, kind: str, required: bool, entries: list[tuple[Item, str, list[str]]], explain: bool
) -> KindState:
    digest = rule.digest
    mine = sorted((e for e in entries if e[0].data.get("kind") == kind), key=lambda e: str(e[0].data.get("date")))
    ids = [r.id for r, _, _ in mine]
    current = [r for r, d, tables in mine if d == digest and not tables]
    if any(r.data.get("conclusion") in PASSING for r in current):
        return KindState(kind, required, CURRENT, ids)
    if current:
        return KindState(kind, required, REJECTED, ids)
    if mine:
        _, recorded, tables = mine[-1]
        changes, found = _changes(root, rule, recorded) if explain and recorded != digest else ([], recorded == digest)
        changes = [*changes, *(f"所依据的表格 {t} 已修改（twoku diff 列出增删改的行）" for t in tables)]
        return KindState(kind, required, STALE, ids, changes, found)
    return KindState(kind, required, MISSING, ids)


def status(root: Path, region: str | None = None, explain: bool = True) -> SignoffStatus:
    """Per rule of the region's effective library: each required (or recorded) kind's state."""
    lib = load_store(root).library
    layer = region_layer(region, lib)
    policy = lib.config.get("argumentation")
    records = _records_of(lib)
    rules = []
    for rule in lib.of_kind("rule"):
        if not lib.in_region(rule, layer) or rule.deprecated:
            continue
        needed = required_kinds(rule.data, policy if isinstance(policy, Mapping) else None)
        entries = records.get(rule.id, [])
        recorded = {r.data.get("kind") for r, _, _ in entries}
        kinds = [
            _kind_state(root, rule, k, k in needed, entries, explain)
            for k in enums.ARGUMENTATION_KINDS
            if k in needed or k in recorded
        ]
        focus = rule.data.get("focus")
        rules.append(
            RuleSignoff(
                rule.id,
                rule.title,
                rule.layer.code if rule.layer else "",
                rule.status,
                [str(f) for f in focus] if isinstance(focus, list) else [],
                kinds,
            )
        )
    rules.sort(key=lambda r: (Layer(r.layer).depth if r.layer else 0, r.id))
    illustrative = frozenset(r.id for r in lib.of_kind("argumentation") if r.data.get("illustrative") is True)
    return SignoffStatus(layer.code, layer_name(layer, lib.region_names()), rules, illustrative)


def _title(item: Item) -> str:
    """A one-line name; an override's ``reason`` is a paragraph, so name it by its target."""
    if item.kind == "override":
        return f"{item.data.get('target')} 的本地化"
    return item.title


def show(root: Path, record_id: str) -> RecordView:
    """One record, each subject with whether it still matches what was argued."""
    lib = load_store(root).library
    rec = lib.get(record_id, "argumentation")
    if rec is None:
        raise UsageError(f"库中没有编号为 {record_id} 的论证记录", hint="论证记录编号形如 CN-A-0001，见 argumentation/")
    subjects = []
    raw = rec.data.get("subjects")
    for subject in raw if isinstance(raw, list) else []:
        if not isinstance(subject, Mapping):
            continue
        sid, recorded = str(subject.get("id")), str(subject.get("digest"))
        item = lib.get(sid)
        if item is None:
            subjects.append(SubjectView(sid, None, recorded, None))
            continue
        changes = _changes(root, item, recorded)[0] if item.digest != recorded else []
        tables = stale_tables(lib, subject)
        changes += [f"所依据的表格 {t} 已修改（twoku diff 列出增删改的行）" for t in tables]
        subjects.append(SubjectView(sid, _title(item), recorded, item.digest, changes, tables))
    kind = str(rec.data.get("kind"))
    people = rec.data.get("participants")
    problems = [
        f"第 {n + 1} 位参加人员：{p}"
        for n, person in enumerate(people if isinstance(people, list) else [])
        if isinstance(person, Mapping) and (p := participant_problem(kind, person))
    ]
    return RecordView(rec.id, rec.path, dict(rec.data), subjects, problems)
