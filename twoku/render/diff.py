"""Rendering an item-level diff: the terminal (rich), JSON, and a Markdown change notice."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from twoku.model.changes import ADDED, DEPRECATED, LABELS, MODIFIED, MOVED, ORDER, REMOVED, Diff, ItemChange, Rev
from twoku.model.fielddiff import Change
from twoku.model.ids import KIND_LABELS
from twoku.model.personal import masked
from twoku.render import markdown as md
from twoku.render.terminal import plain, styled

REARGUE = "需重新论证"
REMOVED_NOTE = "历史应以废弃保留，不应删除"


def _rev(rev: Rev) -> str:
    via = f"，{rev.via}" if rev.via and rev.via != rev.name else ""
    return f"{rev.name}（{rev.short}{via}）" if rev.commit and rev.name != rev.commit else rev.short


def _scope(diff: Diff) -> str:
    parts = [f"{_rev(diff.since)} → {_rev(diff.until)}"]
    if diff.region:
        parts.append(f"地区 {diff.names.get(diff.region, diff.region)}")
    if diff.layer:
        parts.append(f"层级 {diff.names.get(diff.layer, diff.layer)}")
    return "，".join(parts)


def _subject(c: ItemChange) -> str:
    """An item's name; an override reads as the rule it localises."""
    if c.kind == "override" and c.target:
        return f"本地化 {c.target} {c.target_name or ''}".rstrip()
    return c.title


def change_dict(c: ItemChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "kind": c.kind,
        "change": c.change,
        "title": c.title,
        "layer": c.layer,
        "path": c.path,
        "old_path": c.old_path,
        "reargue": c.reargue,
        "changes": [{"path": f.path, "kind": f.kind, "old": f.old, "new": f.new} for f in c.changes],
    }
    if c.kind == "override":
        out["target"] = c.target
        out["target_name"] = c.target_name
    if c.change == REMOVED:
        out["warning"] = REMOVED_NOTE
    return out


def to_json(diff: Diff) -> str:
    counts = {kind: sum(1 for c in diff.items if c.change == kind) for kind in ORDER}
    data = {
        "since": {"rev": diff.since.name, "commit": diff.since.commit, "via": diff.since.via or None},
        "until": {"rev": diff.until.name, "commit": diff.until.commit, "via": diff.until.via or None},
        "region": diff.region,
        "layer": diff.layer,
        "summary": counts,
        "items": [change_dict(c) for c in diff.items],
        "unreadable": diff.unreadable,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _grouped(items: Iterable[ItemChange]) -> list[tuple[str, list[ItemChange]]]:
    items = list(items)
    return [(kind, [c for c in items if c.change == kind]) for kind in ORDER if any(c.change == kind for c in items)]


def to_text(diff: Diff, console: Any) -> None:
    console.print(styled(f"两库变更：{_scope(diff)}", "bold"))
    if not diff.items:
        console.print("没有条目变更。")
    for kind, group in _grouped(diff.items):
        console.print()
        console.print(styled(f"{LABELS[kind]}（{len(group)} 条）", "bold underline"))
        for c in group:
            line = styled(f"  {c.id}  ", "bold")
            line.append(plain(_subject(c)))
            line.append(plain(f"  [{KIND_LABELS.get(c.kind, c.kind)}]"), style="dim")
            if c.reargue:
                line.append(plain(f"  {REARGUE}"), style="bold yellow")
            console.print(line)
            if c.change == REMOVED:
                console.print(styled(f"      {c.old_path} — {REMOVED_NOTE}", "red"))
            elif c.change == MOVED:
                console.print(styled(f"      {c.old_path} → {c.new_path}", "cyan"))
            elif c.change == ADDED:
                console.print(styled(f"      {c.new_path}", "dim"))
            for f in c.changes:
                console.print(styled(f"      {f.describe()}", _style(f), lines=True))
    for path in diff.unreadable:
        console.print(styled(f"无法解析（未计入）：{path}", "red"))


def _style(f: Change) -> str:
    return {"added": "green", "removed": "red"}.get(f.kind, "")


# --- Markdown: a change notice a bureau can publish -------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, dict):
        text = "；".join(f"{k}: {_cell(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "、".join(_cell(v) for v in value)
    else:
        text = str(value)
    return md.cell(masked(text))  # a notice for the public: a removed ID number is not repeated (第二十二条)


def _md_change(f: Change) -> str:
    if f.kind == "added":
        return f"{md.code(f.path)} 新增 {_cell(f.new)}"
    if f.kind == "removed":
        return f"{md.code(f.path)} 删除 {_cell(f.old)}"
    return f"{md.code(f.path)}：{_cell(f.old)} → {_cell(f.new)}"


def _layer(diff: Diff, c: ItemChange) -> str:
    return _cell(diff.names.get(c.layer or "", "国家" if c.layer == "CN" else c.layer or ""))


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _rows(diff: Diff, kind: str, group: list[ItemChange]) -> tuple[list[str], list[list[str]]]:
    if kind == ADDED:
        head = ["编号", "名称", "类型", "类别", "层级", "状态"]
        rows = [
            [_cell(c.id), _cell(_subject(c)), KIND_LABELS.get(c.kind, c.kind), _cell(c.current.get("category")),
             _layer(diff, c), _cell(c.current.get("status"))]
            for c in group
        ]  # fmt: skip
    elif kind == MODIFIED:
        head = ["编号", "名称", "层级", "变更内容", "需重新论证"]
        rows = [
            [_cell(c.id), _cell(_subject(c)), _layer(diff, c), "<br>".join(_md_change(f) for f in c.public_changes()),
             "是" if c.reargue else "否"]
            for c in group
        ]  # fmt: skip
    elif kind == DEPRECATED:
        head = ["编号", "名称", "层级", "废弃日期", "原因", "替代条目"]
        rows = []
        for c in group:
            info = c.current.get("deprecated")
            info = info if isinstance(info, dict) else {}
            replaced = info.get("replaced_by") or c.current.get("superseded_by")
            rows.append(
                [_cell(c.id), _cell(_subject(c)), _layer(diff, c), _cell(info.get("date")), _cell(info.get("reason")),
                 _cell(replaced)]
            )  # fmt: skip
    elif kind == REMOVED:
        head = ["编号", "名称", "层级", "说明"]
        rows = [[_cell(c.id), _cell(_subject(c)), _layer(diff, c), "条目文件被删除（应以废弃保留）"] for c in group]
    else:
        head = ["编号", "名称", "原位置", "新位置", "内容变更"]
        rows = [
            [_cell(c.id), _cell(_subject(c)), md.code(c.old_path), md.code(c.new_path),
             "<br>".join(_md_change(f) for f in c.public_changes()) or "无"]
            for c in group
        ]  # fmt: skip
    return head, rows


def to_md(diff: Diff) -> str:
    lines = ["# 两库变更公告", "", f"变更范围：{md.line(_scope(diff))}。", ""]
    summary = "、".join(f"{LABELS[kind]} {len(group)} 条" for kind, group in _grouped(diff.items))
    lines += [f"本次共 {len(diff.items)} 条条目变更：{summary}。" if diff.items else "本次没有条目变更。", ""]
    reargue = [c.id for c in diff.items if c.reargue and c.change in (MODIFIED, MOVED, DEPRECATED)]
    for kind, group in _grouped(diff.items):
        head, rows = _rows(diff, kind, group)
        lines += [f"## {LABELS[kind]}（{len(group)} 条）", "", *_table(head, rows), ""]
    if reargue:
        lines += [
            "## 需重新论证",
            "",
            "以下条目的规范性内容已变更，原论证不再适用：" + md.line("、".join(reargue)) + "。",
            "",
        ]
    return "\n".join(lines)
