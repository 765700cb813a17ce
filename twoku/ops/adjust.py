"""``twoku adjust``: record the annual and instant adjustments (第十三条 to 第十六条).

The record in ``adjustments/`` is the truth and the tag a convenience (DESIGN.md); still,
a closed adjustment gets both in one step or neither: a refused commit or tag leaves no
file, no commit and no tag behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model import enums
from twoku.model.adjustments import (
    ANNUAL,
    DONE,
    INSTANT,
    OPEN,
    SLUG,
    Adjusted,
    AdjustStatus,
    Citing,
    OpenAdjustment,
    annual_id,
    citing,
    date_of,
    derived_deadline,
    instant_id,
    is_open,
    superseded_by_adjustment,
    superseded_for,
    superseding,
    tag_of,
)
from twoku.model.changes import ADDED, DEPRECATED, LABELS, MOVED, REMOVED, ItemChange
from twoku.model.layout import expected_path, schema_ref
from twoku.model.library import Item, Library
from twoku.model.regions import Layer
from twoku.ops.validate import load_store
from twoku.store.writes.faults import writes

MAX_FIELDS = 5  # changed fields listed per item in the record's changes


def _day(text: str | None, option: str = "--date") -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} “{text}” 不是有效日期", hint="日期写作 YYYY-MM-DD，如 2026-01-01") from None


def _region(lib: Library) -> str:
    region = lib.config.get("region")
    if not isinstance(region, str) or not region:
        raise TwokuError("twoku.yaml 没有写本库的层级（region）", hint="在 twoku.yaml 中写 region: CN 或地区代码")
    return region


def _problems(data: Mapping[str, Any]) -> list[str]:
    from twoku.ops.validate import schema_problems

    return schema_problems("adjustment", data)


def _text(path: str, data: dict[str, Any]) -> bytes:
    """The record as YAML: dates as YAML dates and multi-line text as blocks, as people write them."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    from twoku.store.documents import yamlio
    from twoku.store.documents.edit import dump

    problems = _problems(data)
    if problems:  # a bug of ours rather than the user's: say so plainly
        raise TwokuError("调整记录不符合 schema，未写入：\n  " + "\n  ".join(problems))
    shown = {
        k: (date_of(v) if k in ("opened", "closed", "deadline") else LiteralScalarString(v) if "\n" in str(v) else v)
        for k, v in data.items()
    }
    text = f"# yaml-language-server: $schema={schema_ref(path, 'adjustment.schema.json')}\n" + dump(shown)
    assert yamlio.to_json(yamlio.load(text.encode("utf-8"))[0]) == data, "the record must read back as written"
    return text.encode("utf-8")


def _write_new(root: Path, path: str, raw: bytes) -> Path:
    from twoku.store.documents.edit import atomic_write

    target = root / path
    try:
        atomic_write(target, raw, exclusive=True)
    except FileExistsError:
        raise TwokuError(f"{path} 已存在", hint="同一调整只记录一次；查看 twoku adjust status") from None
    return target


def _remove(target: Path) -> None:
    """Take back a record that could not be committed, and the folder if we made it."""
    target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: other records live there
        target.parent.rmdir()


def _refuse_existing_tag(root: Path, tag: str) -> None:
    from twoku.store.repo import gitio

    if gitio.tag_exists(root, tag):
        raise TwokuError(
            f"标签 {tag} 已存在，未写入任何文件",
            hint=f"这次调整已经记录过？用 git show {tag} 查看；确需重做，先删除该标签（git tag -d {tag}）",
        )


# --- annual -------------------------------------------------------------------------------


def _describe(c: ItemChange) -> str:
    head = f"{LABELS[c.change]} {c.id} {c.title}"
    if c.change == DEPRECATED:
        info = c.current.get("deprecated")
        replaced = (info.get("replaced_by") if isinstance(info, Mapping) else None) or c.current.get("superseded_by")
        return head + (f"，由 {replaced} 替代" if replaced else "")
    if c.change == REMOVED:
        return head + "（文件被删除，应以废弃保留）"
    if c.change == ADDED:
        return head
    fields = [f.describe() for f in c.public_changes()[:MAX_FIELDS]]
    more = f" 等 {len(c.public_changes())} 处" if len(c.public_changes()) > MAX_FIELDS else ""
    where = f"（{c.old_path} → {c.new_path}）" if c.change == MOVED else ""
    return head + where + ("：" + "；".join(fields) + more if fields else "")


def _plan(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        # trailing blanks cannot be kept in a YAML block, so they go
        text = "\n".join(line.rstrip() for line in path.read_text(encoding="utf-8-sig").splitlines()).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"无法读取调整计划 {path}：{exc}", hint="计划文件须为 UTF-8 文本") from None
    if not text:
        raise UsageError(f"调整计划 {path} 是空的")
    return text + "\n"


@writes
def annual(root: Path, year: int, plan: Path | None = None, date: str | None = None) -> Adjusted:
    """Record the annual adjustment of the store's own layer as closed: what changed since the
    last one (第十四条), committed with the tag ``annual/<region>/<year>``."""
    from twoku.ops.diff import diff
    from twoku.store.repo import gitdiff, gitio

    closed = _day(date)
    if not 2000 <= year <= 2100:
        raise UsageError(f"--year {year} 不是有效年份")
    loaded = load_store(root)
    lib = loaded.library
    conflicted = sorted({f.path for f in loaded.file_findings if f.code == "TK108" and f.path})
    if conflicted:
        raise TwokuError(
            f"有未解决的合并冲突：{'、'.join(conflicted[:5])}",
            hint="解决冲突（删除 <<<<<<< ======= >>>>>>> 标记行）并提交后，再记录年度调整",
        )
    region = _region(lib)
    record_id = annual_id(region, year)
    path = f"adjustments/{record_id}.yaml"
    tag = tag_of({"id": record_id})
    assert tag is not None
    if lib.get(record_id) is not None or (root / path).exists():
        raise TwokuError(f"{year} 年度调整已有记录 {path}", hint="一年只记录一次年度调整；查看 twoku adjust status")
    _refuse_existing_tag(root, tag)
    if gitdiff.is_dirty(gitdiff.open_repo(root), root):
        raise TwokuError(
            "两库文件有未提交的修改，年度调整记录的是已提交的内容",
            hint="先提交（或撤销）这些修改，再记录年度调整；git status 可查看",
        )
    text_plan = _plan(plan)
    changed = diff(root, until="HEAD", layer=region).items  # since last-annual, else the first commit
    data: dict[str, Any] = {
        "id": record_id,
        "kind": ANNUAL,
        "region": region,
        "year": year,
        "title": f"{year}年度知识库、规则库年度调整",
        "opened": closed.isoformat(),
        "closed": closed.isoformat(),
        "status": DONE,
    }
    if text_plan:
        data["plan"] = text_plan
    if changed:
        data["scope"] = [c.id for c in changed]
        data["changes"] = [_describe(c) for c in changed]
    else:
        data["changes"] = ["自上次年度调整以来，本层没有条目变更。"]
    raw = _text(path, data)
    target = _write_new(root, path, raw)
    message = f"年度调整 {record_id}：{len(changed)} 条条目变更"
    try:
        sha = gitio.commit_and_tag(root, [path], message, tag, data["title"])
    except TwokuError:
        _remove(target)
        raise
    return Adjusted("annual", record_id, path, data, sha, tag)


# --- instant -------------------------------------------------------------------------------


def _trigger(lib: Library, trigger_id: str) -> Item:
    item = lib.get(trigger_id)
    if item is None or item.kind != "knowledge":
        what = "不是知识条目" if item is not None else "不存在"
        raise UsageError(
            f"触发知识 {trigger_id} {what}",
            hint="即时调整由知识条目（如新法规、被替代的旧政策）引起；用 twoku ls knowledge 查找编号",
        )
    return item


def _superseded_ids(lib: Library, adjustment: Item | None = None) -> set[str]:
    found = {k.id for k in lib.of_kind("knowledge") if k.deprecated}
    for item in [adjustment] if adjustment is not None else lib.of_kind("adjustment"):
        if is_open(item):
            found |= superseded_by_adjustment(lib, item)
    return found


@writes
def instant(
    root: Path,
    trigger_id: str,
    slug: str,
    deadline: str | None = None,
    kind: str | None = None,
    date: str | None = None,
) -> Adjusted:
    """Open an instant adjustment caused by a knowledge item (第十五条), due by the new law's
    effective date unless told otherwise (第十六条); write and commit the record."""
    from twoku.store.repo import gitio

    opened = _day(date)
    trigger_kind = kind or enums.INSTANT_TRIGGERS[0]
    if trigger_kind not in enums.INSTANT_TRIGGERS:
        raise UsageError(f"--kind {kind} 不是第十五条的情形", hint="可选：" + "、".join(enums.INSTANT_TRIGGERS))
    if not SLUG.match(slug):
        raise UsageError(
            f"--slug {slug} 不能用作简称", hint="简称用小写英文字母、数字和连字符，如 drug-list-2026（用于编号和标签）"
        )
    lib = load_store(root).library
    region = _region(lib)
    trigger = _trigger(lib, trigger_id)
    already = [a.id for a in lib.of_kind("adjustment") if is_open(a) and a.data.get("trigger") == trigger.id]
    if already:
        raise TwokuError(
            f"{trigger.id} 引起的即时调整 {already[0]} 尚未完成",
            hint=f"继续该调整，完成后 twoku adjust close {already[0]}",
        )
    if deadline is not None:
        due = _day(deadline, "--deadline")
    else:
        derived, source = derived_deadline(lib, trigger)
        if derived is None:
            why = (
                f"{source} 没有施行日期（effective）"
                if source
                else f"{trigger.id} 已废弃或被替代，但库中没有替代它的知识（superseded_by）"
            )
            raise UsageError(
                f"无法得出完成时限：{why}",
                hint="第十六条：即时调整不晚于新依据的执行起始时间完成；用 --deadline YYYY-MM-DD 指定，"
                "或先录入新依据并填写其施行日期",
            )
        due = derived
    record_id = instant_id(region, opened, slug)
    path = expected_path("adjustment", record_id, Layer(region)) or f"adjustments/{record_id}.yaml"
    replaced = superseding(lib, trigger)
    still = citing(lib, superseded_for(lib, trigger))
    scope = list(dict.fromkeys([trigger.id, *([replaced.id] if replaced else []), *(c.id for c in still)]))
    data: dict[str, Any] = {
        "id": record_id,
        "kind": INSTANT,
        "region": region,
        "title": f"即时调整：{trigger.title}",
        "trigger": trigger.id,
        "trigger_kind": trigger_kind,
        "deadline": due.isoformat(),
        "opened": opened.isoformat(),
        "status": OPEN,
        "scope": scope,
    }
    target = _write_new(root, path, _text(path, data))
    try:
        sha = gitio.commit_files(root, [path], f"启动即时调整 {record_id}：{trigger.id}，时限 {due.isoformat()}")
    except TwokuError:
        _remove(target)
        raise
    return Adjusted("instant", record_id, path, data, sha, None, still)


# --- close ---------------------------------------------------------------------------------


def _open_instant(lib: Library, adjustment_id: str | None) -> Item:
    found = [a for a in lib.of_kind("adjustment") if is_open(a) and a.data.get("kind") == INSTANT]
    if adjustment_id is not None:
        item = lib.get(adjustment_id, "adjustment")
        if item is None:
            raise UsageError(f"没有编号为 {adjustment_id} 的调整记录", hint="twoku adjust status 列出进行中的调整")
        if item not in found:
            raise UsageError(f"{adjustment_id} 不是进行中的即时调整（状态 {item.status}，{item.data.get('kind')}）")
        return item
    if not found:
        raise UsageError("没有进行中的即时调整", hint="用 twoku adjust instant --trigger 知识编号 --slug 简称 启动")
    if len(found) > 1:
        raise UsageError(
            f"有 {len(found)} 个进行中的即时调整：{'、'.join(a.id for a in found)}", hint="指明要完成哪一个"
        )
    return found[0]


@writes
def close(root: Path, adjustment_id: str | None = None, date: str | None = None) -> Adjusted:
    """Finish an open instant adjustment: status 已完成, the closing date, commit and tag."""
    from twoku.store.documents.edit import update_values
    from twoku.store.repo import gitio

    closed = _day(date)
    lib = load_store(root).library
    item = _open_instant(lib, adjustment_id)
    tag = tag_of(item.data)
    assert tag is not None
    _refuse_existing_tag(root, tag)
    opened = date_of(item.data.get("opened"))
    if opened is not None and closed < opened:
        raise UsageError(f"完成日期 {closed} 早于启动日期 {opened}", hint="用 --date 给出实际完成的日期")
    if gitio.uncommitted(root, [item.path]):
        raise TwokuError(f"{item.path} 有未提交的修改", hint="先提交（或撤销）对调整记录的修改，再完成调整")
    target = root / item.path
    original = target.read_bytes()
    update_values(target, {("status",): DONE, ("closed",): closed})
    data = {**item.data, "status": DONE, "closed": closed.isoformat()}
    still = citing(lib, _superseded_ids(lib, item))
    message = f"完成即时调整 {item.id}" + (f"（仍有 {len(still)} 处引用被替代的知识）" if still else "")
    try:
        problems = _problems(data)
        if problems:
            raise TwokuError(f"{item.path} 不符合 schema，未完成：\n  " + "\n  ".join(problems), hint="先改正记录")
        sha = gitio.commit_and_tag(root, [item.path], message, tag, str(item.data.get("title") or item.id))
    except TwokuError:
        from twoku.store.documents.edit import atomic_write

        atomic_write(target, original)
        raise
    return Adjusted("close", item.id, item.path, data, sha, tag, still)


# --- status --------------------------------------------------------------------------------


def status(root: Path, today: dt.date | None = None) -> AdjustStatus:
    """Open adjustments with their deadlines, and what still cites superseded knowledge."""
    day = today or dt.date.today()
    lib = load_store(root).library
    opened = []
    for item in lib.of_kind("adjustment"):
        if not is_open(item):
            continue
        due = date_of(item.data.get("deadline"))
        opened.append(
            OpenAdjustment(
                item.id,
                str(item.data.get("kind") or ""),
                item.title,
                item.path,
                str(item.data["opened"]) if item.data.get("opened") else None,
                str(item.data["trigger"]) if item.data.get("trigger") else None,
                due.isoformat() if due else None,
                (due - day).days if due else None,
            )
        )
    opened.sort(key=lambda a: (a.deadline is None, a.deadline or "", a.id))
    annuals = [a for a in lib.of_kind("adjustment") if a.data.get("kind") == ANNUAL and a.status == DONE]
    last = max(annuals, key=lambda a: (str(a.data.get("closed") or ""), a.id), default=None)
    found: list[Citing] = citing(lib, _superseded_ids(lib))
    region = lib.config.get("region")
    return AdjustStatus(day.isoformat(), str(region or ""), opened, found, last.id if last else None)
