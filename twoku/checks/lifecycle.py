"""TK6xx: lifecycle — coherent statuses and dates, and the argumentation that 生效 needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twoku.checks.registry import finding, item_check, store_check, text_of, walk
from twoku.model.argumentation import PASSING, participant_problem, required_kinds
from twoku.model.findings import WARNING, Finding
from twoku.model.library import Item, Library
from twoku.model.personal import masked
from twoku.model.signoff import stale_tables
from twoku.model.templates import PLACEHOLDER  # the marker twoku new writes: one definition


def _date(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) >= 10 else None


@item_check("TK601", "dates")
def dates(item: Item) -> Iterator[Finding]:
    """日期前后矛盾：发布晚于施行、施行晚于失效、废弃早于施行、调整完成早于启动。

    坏：``effective: 2025-01-01`` 而 ``expires: 2024-12-31``
    """
    pairs = (
        ("issued", "effective", "发布日期", "施行日期"),
        ("effective", "expires", "施行日期", "失效日期"),
        ("opened", "closed", "启动日期", "完成日期"),
    )
    data = item.data
    for early, late, early_label, late_label in pairs:
        if early not in data or late not in data:
            continue  # most items have one date of a pair at most
        a, b = _date(data.get(early)), _date(data.get(late))
        if a and b and a > b:
            yield finding(
                "TK601", f"{early_label} {a} 晚于{late_label} {b}", item.path, (late,), item.id, "核对这两个日期"
            )
    dep = item.data.get("deprecated")
    start = _date(item.data.get("effective"))
    if isinstance(dep, Mapping) and start and _date(dep.get("date")) and dep["date"] < start:
        yield finding(
            "TK601", f"废弃日期 {dep['date']} 早于施行日期 {start}", item.path, ("deprecated", "date"), item.id
        )


@item_check("TK602", "deprecation")
def deprecation(item: Item) -> Iterator[Finding]:
    """废弃的条目须说明何时、为何废弃；未废弃的条目不应带废弃信息。

    历史不改写：废弃保留文件，状态改为 废弃，并填写 ``deprecated: {date, reason, replaced_by}``。
    被替代（superseded_by）的知识应为废弃状态。
    """
    if item.kind not in ("knowledge", "rule", "override"):
        return
    has = isinstance(item.data.get("deprecated"), Mapping)
    if item.deprecated and not has:
        yield finding(
            "TK602",
            "状态为废弃，但未填写废弃信息",
            item.path,
            ("status",),
            item.id,
            "补充 deprecated: {date: YYYY-MM-DD, reason: …, replaced_by: …}",
        )
    elif has and not item.deprecated:
        yield finding(
            "TK602",
            f"填写了废弃信息，但状态为 {item.status}",
            item.path,
            ("deprecated",),
            item.id,
            "把 status 改为 废弃，或删除 deprecated",
        )
    if item.kind == "knowledge" and item.data.get("superseded_by") and not item.deprecated:
        yield finding(
            "TK602",
            "已被替代（superseded_by）的知识仍为 " + str(item.status),
            item.path,
            ("superseded_by",),
            item.id,
            "启动即时调整，把该知识标为废弃",
            WARNING,
        )


def _records_by_subject(lib: Library) -> dict[str, list[tuple[Item, int, str, list[str]]]]:
    """Each subject's records: (record, the subject's place in it, the digest argued, the tables argued on that
    changed since)."""
    out: dict[str, list[tuple[Item, int, str, list[str]]]] = {}
    for record in lib.of_kind("argumentation"):
        subjects = record.data.get("subjects")
        for n, subject in enumerate(subjects if isinstance(subjects, list) else []):
            if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
                entry = (record, n, str(subject.get("digest")), stale_tables(lib, subject))
                out.setdefault(subject["id"], []).append(entry)
    return out


@store_check("TK603", "argumentation-required")
def argumentation_required(lib: Library) -> Iterator[Finding]:
    """生效的规则缺少所需且现行的论证记录（第九条：两库应用前应组织多方论证）。

    所需论证形式由 twoku.yaml 的 argumentation 设定，默认每条规则须业务论证；标注第十一条
    论证重点（focus）的规则须学术、业务、行业三种论证。论证记录以内容摘要绑定规则：
    规则的规范性内容此后被修改，记录即不再现行。
    """
    records = _records_by_subject(lib)
    policy = lib.config.get("argumentation")
    for rule in lib.of_kind("rule"):
        if not rule.active:
            continue
        bound = records.get(rule.id, [])
        digest = rule.digest if bound else ""  # the digest only matters against a record's
        current = {
            rec.data.get("kind")
            for rec, _, d, tables in bound
            if d == digest and not tables and rec.data.get("conclusion") in PASSING
        }
        missing = [
            k for k in required_kinds(rule.data, policy if isinstance(policy, Mapping) else None) if k not in current
        ]
        if missing:
            stale = {rec.data.get("kind") for rec, _, d, tables in bound if d != digest or tables}
            detail = "；".join(f"{k}{'已过时' if k in stale else '缺失'}" for k in missing)
            yield finding(
                "TK603",
                f"规则为生效状态，但{detail}",
                rule.path,
                ("status",),
                rule.id,
                f"组织{missing[0]}并记录（twoku signoff record {rule.id} --kind {missing[0]} …）；"
                "论证通过前状态不应为 生效",
            )


@store_check("TK604", "argumentation-stale", WARNING)
def argumentation_stale(lib: Library) -> Iterator[Finding]:
    """论证记录已过时：所论证的条目此后被修改，内容摘要不再相符。

    论证针对的是论证时的内容；之后修改阈值、逻辑或依据，需要重新论证。
    同一条目此后又有同一形式的论证记录绑定其现行内容时，旧记录已被取代，不再提示。

    坏：CN-R-0017 的业务论证记录绑定 sha256:aaa…，规则现在的内容摘要是 sha256:bbb…
    好：另有一条业务论证记录绑定 sha256:bbb…（twoku signoff record CN-R-0017 …）
    """
    for subject_id, entries in sorted(_records_by_subject(lib).items()):
        item = lib.get(subject_id)
        if item is None or item.deprecated:
            continue
        digest = item.digest
        argued = {
            record.data.get("kind") for record, _, recorded, tables in entries if recorded == digest and not tables
        }
        for record, n, recorded, tables in entries:
            if record.data.get("kind") in argued:
                continue  # a newer record of the same kind binds the current content (and tables)
            for table_id in tables:
                yield _table_stale(lib, item, record, n, table_id)
            if recorded != digest:
                found = finding(
                    "TK604",
                    f"{subject_id}（{masked(short_name(item))}）在{record.data.get('kind')}后已被修改",
                    record.path,
                    ("subjects", n, "digest"),
                    record.id,
                    f"运行 twoku diff 查看修改；需要时重新论证 {subject_id}",
                )
                found.extra.update(
                    target=subject_id, base_digest=recorded, current_digest=digest, target_path=item.path
                )
                yield found


def _table_stale(lib: Library, item: Item, record: Item, n: int, table_id: str) -> Finding:
    """A record whose subject was argued on a table that changed since (its rows: the item is sealed anew)."""
    table = lib.get(table_id, "knowledge")
    subject = record.data["subjects"][n]
    recorded = next(
        str(t.get("digest")) for t in subject["tables"] if isinstance(t, Mapping) and t.get("id") == table_id
    )
    what = "已不存在" if table is None else f"（{table.title}）在{record.data.get('kind')}后已被修改"
    found = finding(
        "TK604",
        f"{item.id}（{masked(short_name(item))}）所依据的表格 {table_id}{what}",
        record.path,
        ("subjects", n, "tables"),
        record.id,
        f"运行 twoku diff 查看表格增删改的行；需要时重新论证 {item.id}",
    )
    if table is not None:
        found.extra.update(target=table_id, base_digest=recorded, current_digest=table.digest, target_path=table.path)
    return found


def short_name(item: Item, width: int = 30) -> str:
    """How a message names an item: a rule's name, a knowledge item's title, an override by its target;
    one line, cut at ``width`` characters (an override's reason is a paragraph, never a name)."""
    if item.kind == "override":
        return f"{item.data.get('target')} 的本地化"
    name = item.data.get("name") or item.data.get("title")
    text = name.strip().splitlines()[0].strip() if isinstance(name, str) and name.strip() else item.id
    return text if len(text) <= width else text[: width - 1] + "…"


@store_check("TK605", "argumentation-participants")
def argumentation_participants(lib: Library) -> Iterator[Finding]:
    """论证参加人员与第十条不符。

    学术论证：学会协会、高等院校、科研院所的医保管理、医疗卫生、法律、信息技术等领域专家；
    业务论证：医保行政部门、经办机构的医保管理、经办人员；
    行业论证：卫生健康、中医药管理部门以及定点医药机构的专家。
    """
    for record in lib.of_kind("argumentation"):
        kind = str(record.data.get("kind"))
        people = record.data.get("participants")
        for n, person in enumerate(people if isinstance(people, list) else []):
            if isinstance(person, Mapping):
                problem = participant_problem(kind, person)
                if problem:
                    yield finding(
                        "TK605",
                        f"第 {n + 1} 位参加人员：{problem}",
                        record.path,
                        ("participants", n),
                        record.id,
                        "按第十条组织相应单位和领域的人员参加",
                    )


@store_check("TK606", "argumentation-subject")
def argumentation_subject(lib: Library) -> Iterator[Finding]:
    """论证记录的对象不存在。"""
    for record in lib.of_kind("argumentation"):
        subjects = record.data.get("subjects")
        for n, subject in enumerate(subjects if isinstance(subjects, list) else []):
            ref = subject.get("id") if isinstance(subject, Mapping) else None
            if isinstance(ref, str) and lib.get(ref) is None:
                yield finding(
                    "TK606",
                    f"论证对象 {ref} 不存在",
                    record.path,
                    ("subjects", n, "id"),
                    record.id,
                    "核对编号；条目改号后请同步修改论证记录（twoku renumber 会自动处理）",
                )


@item_check("TK607", "placeholder", WARNING)
def placeholder(item: Item) -> Iterator[Finding]:
    """条目中仍有“【待填写…】”占位内容（twoku new 生成的模板）。"""
    if PLACEHOLDER not in text_of(item.data):
        return
    for pointer, text in walk(item.data):
        if isinstance(text, str) and PLACEHOLDER in text:
            yield finding("TK607", f"尚未填写：{text}", item.path, pointer, item.id, "把占位内容替换为实际内容")


@store_check("TK611", "in-force-before-argued")
def in_force_before_argued(lib: Library) -> Iterator[Finding]:
    """规则的施行日期（effective）早于论证它的最早一份论证记录：规则在论证之前就已生效（第九条：两库应用前
    应组织论证）。

    最早一份通过的论证记录（不论形式、不论所绑定的内容摘要）就是使规则生效的那次论证。规则修改后重新论证，
    施行日期不变：它仍是规则首次生效的日期，修改后的内容自重新论证起适用，由 TK603、TK604 检查记录是否现行。
    坏：``effective: 2024-01-01``，而论证它的最早记录 ``date: 2025-11-20``
    好：施行日期不早于最早论证记录的日期
    """
    earliest: dict[str, tuple[str, Item]] = {}
    for subject_id, entries in _records_by_subject(lib).items():
        for record, _, _, _ in entries:
            date = _date(record.data.get("date"))
            if date is None or record.data.get("conclusion") not in PASSING:
                continue
            if subject_id not in earliest or date[:10] < earliest[subject_id][0]:
                earliest[subject_id] = (date[:10], record)
    for rule in lib.of_kind("rule"):
        start = _date(rule.data.get("effective"))
        if not rule.active or start is None or rule.id not in earliest:
            continue  # no record at all is TK603's
        argued, record = earliest[rule.id]
        if start[:10] < argued:
            yield finding(
                "TK611",
                f"施行日期 {start[:10]} 早于论证它的最早记录 {record.id}（{record.data.get('kind')}，{argued}）",
                rule.path,
                ("effective",),
                rule.id,
                f"规则不能在论证前生效：核对 {record.id} 的论证日期，或把施行日期改为不早于 {argued}",
            )
