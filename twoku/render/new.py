"""Output of the scaffolding commands: new, init, override rebase, renumber."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any

from twoku.render.terminal import assembled, styled

WORDS = {"rule": "规则", "knowledge": "知识", "override": "本地化"}


def _json(value: Any) -> str:
    data = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def created_json(created: Any) -> str:
    return _json(created)


def created_text(created: Any, console: Any) -> None:
    state = f"已提交 {created.commit[:10]}" if created.commit else "已暂存，尚未提交"
    console.print(
        assembled(f"已新建{WORDS.get(created.kind, '')} ", (created.id, "bold"), f"：{created.path}（{state}）")
    )
    if created.to_fill:
        console.print(styled(f"  待填写：{'、'.join(created.to_fill)}（文件中标为“【待填写：…】”）"))
    console.print("  下一步：编辑该文件，然后运行 twoku validate")


def rebased_json(rebased: Any) -> str:
    return _json(rebased)


def rebased_text(rebased: Any, console: Any) -> None:
    if rebased.unchanged:
        console.print(styled(f"{rebased.id} 已与 {rebased.target} 的现行内容一致，无需重新绑定。"))
        return
    console.print(styled(f"{rebased.target} 自 {rebased.id} 编写以来的修改："))
    if rebased.changes is None:
        console.print("  （git 历史中找不到编写时的版本，请用 twoku diff 查看上级规则的修改）")
    for line in rebased.changes or []:
        console.print(styled(f"  • {line}"))
    if rebased.written:
        console.print(styled(f"已把 {rebased.path} 的 base_digest 更新为 {rebased.new_digest}（未提交，复核后提交）"))
    else:
        console.print("（--dry-run：未修改文件）")


def renumbered_json(renumbered: Any) -> str:
    return _json(renumbered)


def renumbered_text(renumbered: Any, console: Any) -> None:
    console.print(styled(f"已把 {renumbered.old} 改为 {renumbered.new}：{renumbered.old_path} → {renumbered.new_path}"))
    for path, count in renumbered.references.items():
        console.print(styled(f"  更新引用 {count} 处：{path}"))
    for path in renumbered.ambiguous:
        console.print(assembled("  ", ("未改动", "yellow"), f" {path}：编号重复，无法判断引用的是哪一个，请人工核对"))
    state = f"已提交 {renumbered.commit[:10]}" if renumbered.commit else "已暂存，尚未提交"
    console.print(styled(f"  {state}；运行 twoku validate 核对"))


def initialised_json(done: Any) -> str:
    return _json(done)


def initialised_text(done: Any, console: Any) -> None:
    if done.created:
        console.print(styled(f"已新建 twoku 库 {done.root}（本库层级 {done.region}），初始提交 {done.commit[:10]}"))
        console.print(styled(f"  下一步：cd {done.root} && twoku new rule --layer {done.region}"))
    else:
        state = f"已提交 {done.commit[:10]}" if done.commit else "未提交"
        console.print(styled(f"已在 {done.root}/twoku.yaml 中登记本库层级 {done.region}（{state}）"))
