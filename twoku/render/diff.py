"""Rendering an item-level diff: the terminal (rich), JSON, and a Markdown change notice."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from twoku.model.changes import ADDED, DEPRECATED, LABELS, MODIFIED, MOVED, ORDER, REMOVED, Diff, ItemChange, Rev
from twoku.model.disclosure import AUDIENCE_LABELS, visible_item, withheld_words
from twoku.model.fielddiff import Change
from twoku.model.ids import KIND_LABELS
from twoku.model.personal import masked
from twoku.model.prose import PROSE_FIELDS, own_render, render, value_words
from twoku.model.publication import Change as PublicChange
from twoku.model.publication import FieldChange, public_change
from twoku.model.tables import TableDiff
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
    if c.rows is not None:
        out["rows"] = c.rows.as_json()  # complete: every row added, removed and changed
        out["unsealed"] = c.unsealed
    return out


def to_json(diff: Diff) -> str:
    items = [change_dict(c) for c in diff.items]
    counts = {kind: sum(1 for c in diff.items if c.change == kind) for kind in ORDER}
    data = {
        "since": {"rev": diff.since.name, "commit": diff.since.commit, "via": diff.since.via or None},
        "until": {"rev": diff.until.name, "commit": diff.until.commit, "via": diff.until.via or None},
        "region": diff.region,
        "layer": diff.layer,
        "summary": counts,
        "items": items,
        "unreadable": diff.unreadable,
    }
    # A table's rows, one to a line: json's C encoder writes them (with indent it would be its Python one,
    # half a second for 10,000 rows); each list stands in for a token in the indented whole until then.
    token = secrets.token_hex(16)
    rows: list[str] = []
    for item in items:
        table = item.get("rows")
        if not isinstance(table, dict):
            continue
        for part in ("added", "removed", "changed"):
            rows.append(_one_per_line(table[part]))
            table[part] = f"{token}{len(rows) - 1}"
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if rows:
        text = re.sub(f'"{token}(\\d+)"', lambda m: rows[int(m.group(1))], text)
    return text


def _one_per_line(values: list[Any]) -> str:
    if not values:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\n]"


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
            if c.rows is not None:
                _rows_text(c, console)
    for path in diff.unreadable:
        console.print(styled(f"无法解析（未计入）：{path}", "red"))


SAMPLE_ROWS = 10  # rows shown of each kind of row change in text and md; json has them all
UNSEALED = "表格已修改而条目未封存（运行 twoku table seal）"


def rows_summary(rows: TableDiff) -> str:
    parts = [(len(rows.added), "新增"), (len(rows.removed), "删除"), (len(rows.changed), "修改")]
    return f"表格 {rows.path.rsplit('/', 1)[-1]}：" + "，".join(f"{what} {n} 行" for n, what in parts if n)


def _row_text(rows: TableDiff, row: tuple[str, ...]) -> str:
    return "，".join(f"{name}={value}" for name, value in zip(rows.columns, row, strict=False) if value)


def row_lines(rows: TableDiff) -> list[tuple[str, str]]:
    """(kind, text) of the rows shown: up to SAMPLE_ROWS of each kind, then how many more."""
    out: list[tuple[str, str]] = []
    for kind, sign, group in (("added", "+", rows.added), ("removed", "-", rows.removed)):
        out += [(kind, f"{sign} {_row_text(rows, row)}") for row in group[:SAMPLE_ROWS]]
        if len(group) > SAMPLE_ROWS:
            out.append((kind, f"{sign} ……另 {len(group) - SAMPLE_ROWS} 行"))
    for change in rows.changed[:SAMPLE_ROWS]:
        cells = "，".join(f"{name}：{old} → {new}" for name, old, new in change.cells)
        out.append(("changed", f"~ {'、'.join(change.key)}：{cells}"))
    if len(rows.changed) > SAMPLE_ROWS:
        out.append(("changed", f"~ ……另 {len(rows.changed) - SAMPLE_ROWS} 行"))
    return out


def _rows_text(c: ItemChange, console: Any) -> None:
    from rich.text import Text

    assert c.rows is not None
    console.print(Text(f"      {rows_summary(c.rows)}", style="bold"))
    if c.unsealed:
        console.print(Text(f"      {UNSEALED}", style="red"))
    for kind, text in row_lines(c.rows):
        console.print(Text(f"        {text}", style={"added": "green", "removed": "red"}.get(kind, "")))


def _style(f: Change) -> str:
    return {"added": "green", "removed": "red"}.get(f.kind, "")


# --- Markdown: a change notice a bureau can publish -------------------------------------
#
# What the notice shows follows publish (第十二条): each change reduced by the schemas'
# x-twoku-disclosure to what the audience may see (model/publication.public_change), drafts
# never published left out.  It reads as prose: a heading per item, a line of particulars, and
# a sentence per changed field; structured values (a condition, examples) are named, not dumped.

TESTS = ("examples",)  # a rule's tests, not what it decides (model/digest.py): no news to anyone
STRUCTURED = ("condition",)  # named as changed, never dumped: the rule file is the place to read it
SEE_FILE = "（内容较长，详见规则文件）"
LONG = 60  # characters: a longer text is quoted as a paragraph instead of "old → new"


def _words_for(diff: Diff, c: ItemChange) -> dict[str, str]:
    return diff.words.get(c.id, {})


def _plain(value: Any, unit: str | None = None) -> str:
    if isinstance(value, dict) and isinstance(value.get("id"), str):  # a cited basis: “CN-K-0003 第十五条”
        return " ".join(str(value[k]) for k in ("id", "article") if value.get(k))
    return value_words(value, unit)


def _structured(value: Any) -> bool:
    return (isinstance(value, dict) and not isinstance(value.get("id"), str)) or (
        isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)
    )


def _unit(c: ItemChange, path: str) -> str | None:
    parts = path.split(".")
    if c.kind == "rule" and len(parts) == 3 and parts[0] == "parameters" and parts[2] == "value":
        spec = (c.current.get("parameters") or {}).get(parts[1])
        unit = spec.get("unit") if isinstance(spec, dict) else None
        return unit if isinstance(unit, str) else None
    return None


def _short(text: str) -> bool:
    return len(text) <= LONG and "\n" not in text


def _layer(diff: Diff, c: ItemChange) -> str:
    return md.line(diff.names.get(c.layer or "", "国家" if c.layer == "CN" else c.layer or ""))


def _quote(text: str) -> list[str]:
    lines = text.strip().splitlines()
    return [f"  > {md.line(masked(line.strip()))}" for line in lines if line.strip()] or ["  > （空）"]


def _md_field(diff: Diff, c: ItemChange, f: FieldChange) -> list[str]:
    top = f.path.split(".", 1)[0].split("[", 1)[0]
    label = md.line(f.label or f.path)
    if top in TESTS:
        return []
    if _structured(f.new) or _structured(f.old) or top in STRUCTURED:
        verb = {"added": "新增", "removed": "删除"}.get(f.kind, "已修改") if f.path == top else "已修改"
        return [f"- **{label.split(' › ', 1)[0]}**：{verb}{SEE_FILE}"]
    unit = _unit(c, f.path)
    old, new = _plain(f.old, unit), _plain(f.new, unit)
    if c.kind == "rule" and top in PROSE_FIELDS:
        new = render(new, _words_for(diff, c))
        old = own_render(old, c.old or {})
        if f.kind == "changed" and old == new:
            return []  # reworded to name a parameter: the reader reads the same words
    if f.kind in ("added", "removed"):
        verb, text = ("新增", new) if f.kind == "added" else ("删除", old)
        if _short(text):
            return [f"- **{label}** {verb}：{md.line(masked(text))}"]
        return [f"- **{label}** {verb}：", *_quote(text)]
    if _short(old + new) and old != new:  # a notice for the public: a removed ID number is not repeated
        return [f"- **{label}**：{md.line(masked(old))} → {md.line(masked(new))}"]
    return [f"- **{label}** 改为：", *_quote(new)]


def _particulars(diff: Diff, c: ItemChange, visible: Any) -> str:
    parts = [KIND_LABELS.get(c.kind, c.kind)]
    if visible.get("category"):
        parts.append(str(visible["category"]))
    parts.append(_layer(diff, c))
    if visible.get("status"):
        parts.append(f"状态 {visible['status']}")
    if c.reargue and c.change in (MODIFIED, MOVED):
        parts.append(REARGUE)
    return " · ".join(p for p in parts if p)


def _cancelled(lines: list[str]) -> list[str]:
    """Without an entry removed and added again as the same words (a violation reworded to name a
    parameter reads the same once rendered)."""
    pairs = {line.replace(" 删除：", " 新增：", 1) for line in lines if " 删除：" in line}
    same = {line for line in lines if " 新增：" in line and line in pairs}
    return [ln for ln in lines if ln not in same and ln.replace(" 删除：", " 新增：", 1) not in same]


def _md_rows(c: ItemChange, audience: str) -> list[str]:
    """A table's rows that changed: how many to everyone; the rows themselves to the institutions and within
    the bureaus (a table's columns may be disclosed to the institutions only)."""
    if c.rows is None:
        return []
    out = [f"- **知识点明细**：{md.line(rows_summary(c.rows))}"]
    if audience != "society":
        out += [f"  - {md.line(masked(text))}" for _, text in row_lines(c.rows)]
    return out


def _md_item(diff: Diff, c: ItemChange, shown: Any, audience: str) -> list[str] | None:
    """One item's section; None for a change that leaves nothing the reader reads different."""
    lines = _cancelled([line for f in shown.fields for line in _md_field(diff, c, f)])
    lines = [ln for n, ln in enumerate(lines) if not (ln.endswith(SEE_FILE) and ln in lines[:n])]  # once per field
    lines += _md_rows(c, audience)
    if not lines and c.change in (MODIFIED, MOVED):
        return None
    visible = dict(c.current) if audience == "internal" else visible_item(c.kind, c.current, audience)
    title = shown.title
    if c.kind == "rule":
        title = render(str(visible.get("name") or c.title), _words_for(diff, c))
    elif c.kind == "override" and c.target:
        title = f"本地化 {c.target} {c.target_name or ''}".rstrip()
    out = [f"### {md.line(c.id)} {md.line(title)}", "", md.line(_particulars(diff, c, visible)), ""]
    if c.change == ADDED:
        point = visible.get("monitoring_point") or visible.get("definition") or visible.get("summary")
        if isinstance(point, str):
            out += [*(line.removeprefix("  ") for line in _quote(render(point, _words_for(diff, c)))), ""]
        params = visible.get("parameters") if c.kind == "override" and not diff.withheld(audience) else None
        if isinstance(params, dict) and params:
            out += [f"- 参数 {md.line(k)}：{md.line(value_words(v))}" for k, v in params.items()] + [""]
    elif c.change == DEPRECATED:
        info = visible.get("deprecated")
        info = info if isinstance(info, dict) else {}
        replaced = info.get("replaced_by") or visible.get("superseded_by")
        facts = [("废弃日期", info.get("date")), ("原因", info.get("reason")), ("替代条目", replaced)]
        out += [f"- {k}：{md.line(masked(value_words(v)))}" for k, v in facts if v] + [""]
    elif c.change == REMOVED:
        out += [f"条目文件被删除（{REMOVED_NOTE}）。", ""]
    return [*out, *lines, *([""] if lines else [])]


def _whole(c: ItemChange) -> PublicChange:
    """Every change of an item but the store's bookkeeping, for a reader inside the bureaus."""
    fields = tuple(FieldChange(f.path, f.path, f.kind, f.old, f.new) for f in c.public_changes())
    return PublicChange(c.id, c.kind, c.change, LABELS[c.change], c.title, c.layer, fields)


def to_md(diff: Diff, audience: str | None = "society", on: dt.date | None = None) -> str:
    """The change notice for ``audience`` (society: the public; institutions: the designated
    institutions, who also see the judgement logic), as publish would disclose it on ``on``.
    ``audience`` None: every item and field but internal bookkeeping (the cover of a report upstream)."""
    on = on or dt.date.today()
    if audience is None:
        public = [(c, _whole(c)) for c in diff.items]
    else:
        values = not diff.withheld(audience)
        if not values:  # the prose says the threshold is disclosed to the institutions, never what it is
            diff = replace(diff, words={rule: withheld_words(words) for rule, words in diff.words.items()})
        public = [
            (c, p)
            for c in diff.items
            if (p := public_change(c, audience, on, diff.words.get(c.id), values)) is not None
        ]
    seen = audience or "internal"
    sections = [(c, section) for c, p in public if (section := _md_item(diff, c, p, seen)) is not None]
    who = f"公开对象：{AUDIENCE_LABELS[audience]}。" if audience else ""
    lines = ["# 两库变更公告", "", f"变更范围：{_scope(diff)}。{who}", ""]
    groups = {kind: [section for c, section in sections if c.change == kind] for kind in ORDER}
    summary = "、".join(f"{LABELS[kind]} {len(group)} 条" for kind, group in groups.items() if group)
    lines += [
        f"本次共 {len(sections)} 条条目变更：{summary}。" if sections else "本次没有向公开对象公开的条目变更。",
        "",
    ]
    for kind, group in groups.items():
        if group:
            lines += [f"## {LABELS[kind]}（{len(group)} 条）", ""]
            for section in group:
                lines += section
    reargue = [c.id for c, _ in sections if c.reargue and c.change in (MODIFIED, MOVED, DEPRECATED)]
    if reargue:
        lines += [
            "## 需重新论证",
            "",
            "以下条目的规范性内容已变更，尚无针对现行内容的论证（与 twoku signoff status 一致）："
            + md.line("、".join(reargue))
            + "。",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"
