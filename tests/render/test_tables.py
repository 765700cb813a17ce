"""Chinese text wrapped in terminal tables (render/tables.py): never cut, IDs whole."""

from __future__ import annotations

import re

import pytest

from twoku.render.tables import wrap

LOGIC = (
    "1. 同一参保人在同一定点医疗机构（CN-K-0037）的相邻两次住院，间隔天数 = 后次入院日期 − 前次出院日期。"
    "间隔天数小于或等于10天（参数 readmission_days）的，进入判断；参照 510100-O-0002。"
)


@pytest.mark.parametrize("width", [20, 33, 60])
def test_wrapped_lines_fit_keep_every_character_and_ids_whole(width: int) -> None:
    from rich.cells import cell_len

    lines = wrap(LOGIC, width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == LOGIC.replace(" ", "")
    for ident in ("CN-K-0037", "readmission_days", "510100-O-0002"):
        assert len(ident) > width or any(ident in line for line in lines), (ident, lines)
    assert not any(re.match(r"[，。、；：）]", line) for line in lines)  # no line starts with closing punctuation
    assert not any(line.endswith("（") for line in lines)
    assert "小于或等于10天" in "".join(lines) and not any(line.endswith("10") for line in lines)  # 10天 whole


def test_indentation_is_kept_and_a_too_long_unit_is_chopped_not_cut() -> None:
    assert wrap("all:\n  - {field: a}", 40) == ["all:", "  - {field: a}"]
    assert "".join(wrap("x" * 25, 10)) == "x" * 25
