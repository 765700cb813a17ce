"""Rendering argumentation sign-offs: a rule-by-kind table, one record, and their JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from twoku.model import enums
from twoku.model.signoff import CURRENT, MISSING, REJECTED, STALE, STATE_LABELS, RecordView, SignoffStatus
from twoku.render.terminal import assembled, plain, styled

STYLES = {CURRENT: "green", STALE: "yellow", REJECTED: "red", MISSING: "red"}
EXAMPLE = "（示例）"  # after a record's ID wherever it is listed: the record is illustrative
FIELD_LABELS = {
    "kind": "论证形式",
    "date": "论证日期",
    "organizer": "组织单位",
    "conclusion": "论证结论",
    "opinions": "主要意见",
    "minutes": "会议纪要",
    "notes": "内部备注",
}


def status_dict(result: SignoffStatus) -> dict[str, Any]:
    return {
        "region": result.region,
        "region_name": result.region_name,
        "rules": [
            {
                "id": r.id,
                "name": r.name,
                "layer": r.layer,
                "status": r.status,
                "focus": r.focus,
                "ok": r.ok,
                "blocking": r.blocking,
                "required": [k.kind for k in r.kinds if k.required],
                "kinds": {
                    k.kind: {
                        "required": k.required,
                        "state": k.state,
                        "records": k.records,
                        **({"changes": k.changes, "history_found": k.history_found} if k.state == STALE else {}),
                    }
                    for k in r.kinds
                },
            }
            for r in result.rules
        ],
        "illustrative_records": sorted(result.illustrative),
    }


def status_json(result: SignoffStatus) -> str:
    return json.dumps(status_dict(result), ensure_ascii=False, indent=2)


def _cell(state: str, records: list[str], required: bool, illustrative: frozenset[str] = frozenset()) -> Any:
    parts: list[Any] = [(STATE_LABELS[state], STYLES[state])]
    if records:
        # a space before the mark and after the comma: the cell wraps there, never inside an ID
        parts.append(" " + "、 ".join(r + (f" {EXAMPLE}" if r in illustrative else "") for r in records[-2:]))
    if not required:
        parts += [" ", ("(非必需)", "dim")]
    return assembled(*parts)


def status_text(result: SignoffStatus, console: Any) -> None:
    from rich.table import Table

    from twoku.render.tables import ID_MIN, Prose, add_id_column, add_text_column

    done = sum(1 for r in result.rules if r.ok)
    blocking = sum(1 for r in result.rules if r.blocking)
    title = f"{result.region_name}（{result.region}）论证情况 · {len(result.rules)} 条规则，{done} 条论证齐全"
    table = Table(title=plain(title), title_justify="left", box=None, show_edge=False, expand=True, pad_edge=False)
    add_id_column(table, "编号", (r.id for r in result.rules))
    add_text_column(table, "名称", ratio=4)
    table.add_column("状态", no_wrap=True)
    for column in enums.ARGUMENTATION_KINDS:  # as wide as a record's ID: the ID never breaks
        table.add_column(column, width=ID_MIN, overflow="fold")
    stale_notes: list[str] = []
    for r in result.rules:
        by_kind = {k.kind: k for k in r.kinds}
        cells = []
        for kind in enums.ARGUMENTATION_KINDS:
            state = by_kind.get(kind)
            cells.append(
                _cell(state.state, state.records, state.required, result.illustrative) if state else styled("—", "dim")
            )
            if state and state.state == STALE:
                what = "；".join(state.changes) if state.changes else "历史中找不到论证时的版本，请用 twoku diff 查看"
                stale_notes.append(f"{r.id} {kind}后已修改：{what}")
        status = styled(r.status or "", "red" if r.blocking else "")
        table.add_row(r.id, Prose(r.name), status, *cells)
    console.print(table)
    for note in stale_notes:
        console.print(assembled(("·", "yellow"), " ", note))
    if blocking:
        console.print(assembled((f"{blocking} 条生效规则缺少现行的所需论证", "red"), "（twoku validate 报 TK603）"))
    if result.illustrative:  # a short line: the cells name the records (a long one would not wrap)
        console.print(assembled((EXAMPLE, "dim"), "：示例记录，演示论证记录的结构，不是真实召开的论证"))


def record_dict(view: RecordView) -> dict[str, Any]:
    return {
        "id": view.id,
        "path": view.path,
        "illustrative": view.illustrative,
        "meeting": view.data.get("meeting"),
        "attendance": view.data.get("attendance"),
        "votes": view.data.get("votes"),
        "dissent": view.data.get("dissent") or [],
        "data": view.data,
        "subjects": [{**asdict(s), "state": s.state} for s in view.subjects],
        "problems": view.problems,
    }


def record_json(view: RecordView) -> str:
    return json.dumps(record_dict(view), ensure_ascii=False, indent=2)


def record_text(view: RecordView, console: Any) -> None:
    from rich.panel import Panel
    from rich.table import Table

    data = view.data
    head = Table(box=None, show_header=False, show_edge=False)
    head.add_column("字段", style="bold", no_wrap=True)
    head.add_column("取值")
    if view.illustrative:
        head.add_row("示例记录", "是：演示论证记录的结构，不是真实召开的论证")
    for key, label in FIELD_LABELS.items():
        value = data.get(key)
        if value:
            shown = "\n".join(map(str, value)) if isinstance(value, list) else str(value).strip()
            head.add_row(label, plain(shown, lines=True))
    for label, shown in _meeting_rows(data):
        head.add_row(label, plain(shown, lines=True))
    example = "  示例" if view.illustrative else ""
    title, sub = styled(f"{view.id}  {data.get('kind', '')}{example}"), styled(view.path)
    console.print(Panel(head, title=title, subtitle=sub, title_align="left"))

    from twoku.render.tables import Prose, add_id_column, add_text_column

    subjects = Table(title="论证对象", title_justify="left", box=None, show_edge=False)
    add_id_column(subjects, "编号", (s.id for s in view.subjects))
    add_text_column(subjects, "名称", ratio=1)
    add_text_column(subjects, "与论证时相比", ratio=2)
    for s in view.subjects:
        if s.state == MISSING:
            state = styled("条目已不存在", "red")
        elif s.state == CURRENT:
            state = styled("未改变（记录现行）", "green")
        else:
            state = assembled(("已修改", "yellow"), "：" + "；".join(s.changes) if s.changes else "")
        subjects.add_row(s.id, Prose(s.title or ""), state)
    console.print(subjects)

    people = Table(title="参加人员（内部记录，不公开）", title_justify="left", box=None, show_edge=False)
    for column in ("姓名", "单位", "单位类型", "领域"):
        people.add_column(column)
    for p in data.get("participants") or []:
        people.add_row(*(plain(p.get(k, "")) for k in ("name", "affiliation", "affiliation_type", "field")))
    console.print(people)
    for problem in view.problems:
        console.print(styled(f"第十条：{problem}", "red"))


def _meeting_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """What a real record holds beyond its conclusion: the meeting, who attended, the votes, the dissent."""
    rows = []
    meeting = data.get("meeting")
    if isinstance(meeting, dict):
        rows += [
            (label, str(meeting[k]))
            for k, label in (("reference", "纪要编号"), ("place", "会议地点"))
            if meeting.get(k)
        ]
    attendance = data.get("attendance")
    if isinstance(attendance, dict):
        counts = [
            f"{label} {attendance[k]} 人"
            for k, label in (("invited", "应到"), ("present", "实到"), ("absent", "缺席"))
            if isinstance(attendance.get(k), int)
        ]
        for entry in attendance.get("by_field") or []:
            if not isinstance(entry, dict):
                continue
            parts = [f"{label} {entry[k]}" for k, label in (("present", "实到"), ("absent", "缺席")) if k in entry]
            names = entry.get("absent_names")
            if isinstance(names, list) and names:
                parts.append("缺席：" + "、".join(map(str, names)))
            counts.append(f"{entry.get('field')}：{'，'.join(parts)}")
        rows.append(("出席情况", "\n".join(counts)))
    votes = data.get("votes")
    if isinstance(votes, dict):
        shown = "，".join(
            f"{label} {votes.get(k)}" for k, label in (("for", "赞成"), ("against", "反对"), ("abstain", "弃权"))
        )
        rows.append(("表决", shown))
    dissent = data.get("dissent")
    if isinstance(dissent, list) and dissent:
        rows.append(("不同意见", "\n".join(map(str, dissent))))
    return rows
