"""Rendering what travels between levels: the cover letter, and what report/release/intake did."""

from __future__ import annotations

import json
from typing import Any

from twoku.model.changes import LABELS, ORDER, Diff
from twoku.model.exchange import KIND_LABELS, RELEASE
from twoku.model.findings import SEVERITY_LABELS, Finding
from twoku.model.ids import KIND_LABELS as ITEM_KINDS
from twoku.render import diff as diff_render
from twoku.render import markdown as md
from twoku.render.terminal import styled

NOTHING = "自上次以来本层没有新的提交，未生成归档。"


def _summary(items: list[dict[str, Any]]) -> str:
    counts = [(kind, sum(1 for i in items if i["change"] == kind)) for kind in ORDER]
    return "、".join(f"{LABELS[k]} {n} 条" for k, n in counts if n) or "没有条目变更（仅论证记录等文件）"


def _argued(records: list[dict[str, Any]]) -> str:
    if not records:
        return "尚无论证记录"
    return "；".join(
        md.line(
            f"{r['id']}{'（示例）' if r.get('illustrative') else ''} {r.get('kind') or ''} {r.get('date') or ''} "
            f"{r.get('conclusion') or ''}"
        )
        + f"（{'现行' if r.get('current') else '已过时'}）"
        for r in records
    )


def _why(item: dict[str, Any], diff: Diff) -> str:
    """Why an item was added or changed, in its own words: a reason, a definition, a title."""
    change = next((c for c in diff.items if c.id == item["id"]), None)
    data = change.current if change else {}
    for key in ("reason", "definition", "title"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return md.line(value)
    return ""


def cover(manifest: dict[str, Any], diff: Diff) -> str:
    """The cover letter: what a person at the other end reads first, without any tool.  Markdown: every
    text from data goes through render/markdown.py."""
    region = md.line(f"{manifest['region_name']}（{manifest['region']}）")
    if manifest["kind"] == RELEASE:
        title = f"# {region}两库调整发布"
        rev = md.line(manifest["base"]["rev"])
        opening = f"{region}发布本层知识库、规则库自 {rev} 以来的调整，请各下级库接收并复核本地化。"
    else:
        title = f"# {region}两库本地增补报送"
        opening = f"依据医保发〔2022〕12号第五条，{region}向上级报送本层新增和调整的知识、规则。"
    base = manifest["base"]
    lines = [
        title,
        "",
        opening,
        "",
        f"- 日期：{md.line(manifest['date'])}",
        f"- 范围：{md.line(base['rev'])}（{md.line(base['commit'][:10])}）→ {md.line(manifest['head'][:10])}",
        f"- 补丁：{len(manifest['patches'])} 个；条目：{_summary(manifest['items'])}",
        "",
    ]
    if manifest["proposed"]:
        lines += ["## 建议上级采纳（第十四条第三项）", ""]
        lines += [f"- {md.line(p['id'])} {md.line(p['title'])}" for p in manifest["proposed"]]
        lines.append("")
    if manifest["items"]:
        lines += ["## 条目及理由", ""]
    for item in manifest["items"]:
        kind = md.line(ITEM_KINDS.get(item["kind"], item["kind"]))
        change = md.line(LABELS.get(item["change"], item["change"]))
        lines.append(f"- **{md.line(item['id'])} {md.line(item['title'])}**（{kind}，{change}）")
        why = _why(item, diff)
        if why:
            lines.append(f"  - 说明：{why}")
        lines.append(f"  - 论证：{_argued(item['argumentation'])}")
    if manifest["left_out"]:
        lines += ["", "## 未携带的提交", "", "以下提交只涉及上级或其他地区的文件，不在本归档中：", ""]
        lines += [f"- {md.line(c['commit'][:10])} {md.line(c['subject'])}" for c in manifest["left_out"]]
    cut = [c for c in manifest["patches"] if c["cut"]]
    if cut:
        lines += ["", "## 已裁去其他层级文件的提交", ""]
        lines += [
            f"- {md.line(c['commit'][:10])} {md.line(c['subject'])}：裁去 {md.line('、'.join(c['cut']))}" for c in cut
        ]
    # The change notice without its own title, every item and field (the upper bureau reads all of it).
    body = diff_render.to_md(diff, audience=None).split("\n", 1)[1]
    lines += ["", "## 变更明细", body.replace("\n### ", "\n#### ").replace("\n## ", "\n### ")]
    return "\n".join(lines).rstrip() + "\n"


# --- what report-upstream / release did ---------------------------------------------------


def built_json(built: Any) -> str:
    data = {
        "kind": built.kind,
        "region": built.region,
        "since": {"rev": built.since.name, "commit": built.since.commit, "via": built.since.via or None},
        "head": built.head,
        "nothing_new": built.manifest is None,
        "out": str(built.out) if built.out else None,
        "tag": built.tag,
        "manifest": built.manifest,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def built_text(built: Any, console: Any) -> None:
    what = KIND_LABELS[built.kind]
    if built.manifest is None:
        console.print(styled(f"{what}：{NOTHING}（起点 {built.since.name} {built.since.short}）"))
        return
    m = built.manifest
    console.print(styled(f"已生成{what}归档：{built.out}", "bold green"))
    console.print(
        styled(
            f"  范围 {m['base']['rev']}（{m['base']['commit'][:10]}）→ {m['head'][:10]}，补丁 {len(m['patches'])} 个"
        )
    )
    console.print(styled(f"  条目：{_summary(m['items'])}"))
    for item in m["items"]:
        console.print(styled(f"    {LABELS.get(item['change'], item['change'])}  {item['id']}  {item['title']}"))
    if m["proposed"]:
        console.print(styled("  建议上级采纳：" + "、".join(p["id"] for p in m["proposed"])))
    if m["left_out"]:
        console.print(styled(f"  未携带 {len(m['left_out'])} 个只涉及其他层级的提交", "dim"))
    if built.tag:
        console.print(styled(f"  已记录标签 {built.tag}，下次报送从这里开始", "dim"))


# --- what intake did ----------------------------------------------------------------------


def _finding(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity, "message": f.message, "path": f.path, "line": f.line,
            "item": f.item, "hint": f.hint}  # fmt: skip


def intake_json(result: Any) -> str:
    m = result.manifest
    data = {
        "kind": m["kind"],
        "region": m["region"],
        "date": m["date"],
        "already_applied": result.already,
        "branch": result.branch,
        "commit": result.commit,
        "patches": len(m["patches"]),
        "items": m["items"],
        "proposed": m["proposed"],
        "findings": [_finding(f) for f in result.findings],
        "act_on": [_finding(f) for f in result.act_on],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def intake_text(result: Any, console: Any) -> None:
    m = result.manifest
    sender = f"{m['region_name']}（{m['region']}）{m['date']} 的{KIND_LABELS[m['kind']]}"
    if result.already:
        console.print(styled(f"{sender}：此前已接收过，本次未做任何改动。"))
        return
    console.print(styled(f"已接收 {sender}：分支 {result.branch}（{result.commit[:10]}）", "bold green"))
    console.print(styled(f"  补丁 {len(m['patches'])} 个；条目：{_summary(m['items'])}"))
    for item in m["items"]:
        console.print(styled(f"    {LABELS.get(item['change'], item['change'])}  {item['id']}  {item['title']}"))
    if m["proposed"]:
        console.print(styled("  建议采纳：" + "、".join(f"{p['id']} {p['title']}" for p in m["proposed"])))
    errors = [f for f in result.findings if f.severity == "error" and f.counts]
    if result.act_on:
        console.print()
        console.print(styled(f"本库须处理（{len(result.act_on)} 项）：", "bold yellow"))
        for f in result.act_on:
            console.print(styled(f"  {f.path}:{f.line or 1}  {f.code} {f.message}"))
            if f.hint:
                console.print(styled(f"      → {f.hint}", "dim"))
    elif m["kind"] == RELEASE:
        console.print("  本层的本地化和引用不受影响。")
    label = SEVERITY_LABELS["error"]
    if errors:
        console.print(
            styled(f"  分支上 validate 有 {len(errors)} 个{label}：git switch {result.branch} 后运行 twoku validate")
        )
    else:
        console.print(styled(f"  分支上 validate 没有{label}。审阅后合并：git merge {result.branch}", "dim"))
