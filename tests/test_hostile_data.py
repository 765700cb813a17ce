"""Data written by an attacker reaches every output as data (issue 20): never a formula in a
workbook, never HTML in Markdown, never SQL outside a literal or a comment, never markup or a
control sequence on the terminal."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from tests.cli.test_publish import RULE_17, argued_again, dump, load, publish
from tests.storefactory import commit_all

FORMULAS = [
    '=HYPERLINK("http://evil.example/","点击查看规则详情")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "＝1+1",
]


def hostile_rule(root: Path, **fields: Any) -> None:
    """CN-R-0017 (生效 in the shipped store) with ``fields`` replaced, argued again and committed."""
    rule = load(root, RULE_17)
    rule.update(fields)
    dump(root, RULE_17, rule)
    argued_again(root, RULE_17)
    commit_all(root, "恶意数据")


# --- 2: a spreadsheet cell is data, never a formula ------------------------------------------


def test_workbook_cells_are_text_never_formulas(shipped: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hostile_rule(shipped, name=FORMULAS[0], definition=FORMULAS[1], violations=FORMULAS[2:])
    out = publish("--region", "510100", "--as-of", "2026-06-30", out=tmp_path / "out")
    wb = load_workbook(io.BytesIO(out["xlsx"]))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells)  # no "f": nothing is evaluated
    texts = {c.value: c for c in cells}
    assert texts[FORMULAS[0]].quotePrefix and texts[FORMULAS[1]].quotePrefix  # stays text when edited, too
    violations = next(str(c.value) for c in cells if "cmd|' /C calc'!A0" in str(c.value) and "1. " in str(c.value))
    assert violations.startswith("1. +1+cmd")  # a numbered list: its cell does not start a formula
    assert not texts["编号"].quotePrefix  # plain text keeps no prefix
