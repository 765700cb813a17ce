"""Rendering ``twoku table``: a region's table with each row's layer (text, csv, json, xlsx), and a seal."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from twoku.model.regions import Layer, layer_name
from twoku.model.tables import COLUMN_TYPES, Sealed, TableView
from twoku.render.terminal import assembled, plain, styled

SHOWN_ROWS = 200  # rows printed to a terminal; csv, json and xlsx hold them all


def view_json(view: TableView) -> str:
    names = [c.name for c in view.columns]
    data = {
        "item": view.item,
        "title": view.title,
        "path": view.path,
        "region": view.region,
        "sealed": view.sealed,
        "key": list(view.key),
        "columns": [{"name": c.name, "title": c.title, "type": c.type} for c in view.columns],
        "rows": [
            {**dict(zip(names, row, strict=True)), "_layer": layer}
            for row, layer in zip(view.rows, view.layers, strict=True)
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def view_csv(view: TableView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*(c.name for c in view.columns), "layer"])
    writer.writerows([*row, layer] for row, layer in zip(view.rows, view.layers, strict=True))
    return out.getvalue()


def view_xlsx(view: TableView) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.create_sheet(view.item[:31])
    book.remove(book.worksheets[0])
    sheet.append([c.title or c.name for c in view.columns] + ["来源层级"])
    for row, layer in zip(view.rows, view.layers, strict=True):
        sheet.append([*row, layer])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # data, never a formula: a cell that begins with = stays text
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def view_text(view: TableView, console: Any) -> None:
    from rich.table import Table

    where = f"（{view.region}）" if view.region else ""
    console.print(assembled((view.item, "bold"), f" {view.title}{where}  {view.path}"))
    kinds = "，".join(f"{c.label}：{COLUMN_TYPES.get(c.type, c.type)}" for c in view.columns)
    console.print(plain(f"{len(view.rows)} 行；键：{'、'.join(view.key)}；列：{kinds}"))
    if not view.sealed:
        hint = f"表格内容与条目记录的摘要不符（未封存的修改）：核对后运行 twoku table seal {view.item}"
        console.print(styled(hint, "yellow"))
    table = Table(show_lines=False, header_style="bold")
    for column in view.columns:
        table.add_column(plain(column.title or column.name), no_wrap=column.name in view.key, overflow="fold")
    table.add_column("层级", no_wrap=True)
    for row, layer in list(zip(view.rows, view.layers, strict=True))[:SHOWN_ROWS]:
        table.add_row(*(plain(cell) for cell in row), layer_name(Layer(layer)) if layer else "")
    console.print(table)
    if len(view.rows) > SHOWN_ROWS:
        console.print(f"（只显示前 {SHOWN_ROWS} 行；--format csv、json 或 xlsx 输出全部 {len(view.rows)} 行）")


def sealed_json(done: Sealed) -> str:
    return json.dumps(
        {
            "item": done.item,
            "path": done.path,
            "table": done.table,
            "rows": done.rows,
            "old_digest": done.old_digest,
            "digest": done.digest,
            "rewritten": done.rewritten,
            "declared": done.declared,
        },
        ensure_ascii=False,
        indent=2,
    )


def sealed_text(done: Sealed, console: Any) -> None:
    if done.unchanged:
        console.print(plain(f"{done.item} 的表格已封存，没有变化（{done.rows} 行）"))
        return
    console.print(assembled(("✓", "green"), f" 已封存 {done.item} 的表格 {done.table}：{done.rows} 行"))
    if done.rewritten:
        console.print("  表格已按键排序并以 UTF-8 规范格式重写")
    if done.declared:
        console.print(plain(f"  {done.path} 的 table 已改为完整声明（列、键、行数、摘要）"))
    console.print(plain(f"  摘要 {done.old_digest or '（无）'} → {done.digest}"))
    console.print(plain(f"  请用 git diff 核对后把 {done.table} 和 {done.path} 一同提交"))
