"""model/importing.py: headers, cells, codes and limit text of NHSA's workbooks, without a store."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twoku.model.importing import (
    POINT_HEADERS,
    Restorer,
    Sheet,
    WorkbookProblem,
    batch_number,
    codes_of,
    derived,
    find_header,
    text_of,
)
from twoku.model.layouts import build_points

WESTERN, PATENT, SERVICE = r"^X[A-Z]\d{2}[A-Z]{3}\d{3}[A-Z]\d{12}$", r"^Z[A-Z]\d{2}[A-Z]{3}\d{4}\d{9}$", r"^\d{15}$"
SYSTEMS = {"CN-K-0030": WESTERN, "CN-K-0031": PATENT, "CN-K-0033": SERVICE}
DRUG, HERBAL_PATENT = "XL02BBA326A001010102180", "ZA06CAJ0512010101463"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("第一批", 1),
        ("第十批", 10),
        ("第十七批", 17),
        ("第二十批", 20),
        ("第3批", 3),
        ("2026年第12批", 12),
        ("2026年第十二批", 12),
        (None, None),
        ("补充", None),
    ],
)
def test_batch_numbers(text: str | None, number: int | None) -> None:
    assert batch_number(text) == number


@pytest.mark.parametrize(
    ("sex", "limit", "columns"),
    [
        ("男", "", {"sex": "男"}),
        ("限女性", "", {"sex": "女"}),
        ("", "限男性患者；支付不超过14天", {"sex": "男", "max_days": "14"}),
        ("", "限二级及以上医疗机构", {"min_level": "二级"}),
        ("", "限三级以上医院使用", {"min_level": "三级"}),
        ("", "限工伤保险", {"insurance": "工伤保险"}),
        ("", "限法布雷病", {}),  # irregular text: no column, the text is kept as written
    ],
)
def test_regular_limit_text_becomes_columns(sex: str, limit: str, columns: dict[str, str]) -> None:
    assert derived(sex, limit) == columns


def test_cells_become_text() -> None:
    assert text_of(1102000030000.0) == "1102000030000"
    assert text_of(" 阿帕他胺片\u3000 ") == "阿帕他胺片"
    assert text_of("ＡＢ１２（片剂）\n第二行") == "AB12（片剂） 第二行"  # Chinese punctuation kept; no line break
    assert codes_of("XL02BBA326A001010102180、\nXL02BBA326A001010102181") == [
        ("XL02BBA326A001010102180", False),
        ("XL02BBA326A001010102181", False),
    ]
    assert codes_of(2101030310000.0) == [("2101030310000", True)]


def test_the_header_is_found_below_title_rows() -> None:
    sheet = Sheet("s", [["标题"], [None, None], ["序号", "药品通用名", "药品代码"], [1, "x", DRUG]])
    found = find_header(sheet, POINT_HEADERS)
    assert found is not None and found.at == 2 and found.columns == {0: "point", 1: "name", 2: "code"}


def test_restoring_zeros_by_the_systems_width() -> None:
    restore = Restorer(SYSTEMS)
    restore.prepare("code", ["1102000030000", "1103000010000", DRUG, "2101030310000"])
    assert restore("1102000030000") == "001102000030000"
    assert restore(DRUG) == DRUG
    assert restore.seen["code"] == {"CN-K-0030", "CN-K-0033"}
    assert sorted(restore.restored) == [
        ("1102000030000", "001102000030000"),
        ("1103000010000", "001103000010000"),
        ("2101030310000", "002101030310000"),
    ]


def test_a_group_that_is_partly_good_is_tried_code_by_code() -> None:
    restore = Restorer({"CN-K-0033": SERVICE})
    restore.prepare("code", ["001102000030000", "0011020000300X0", "1102000030001"])
    assert restore.bad["code"] == ["0011020000300X0"]
    assert restore("1102000030001") == "001102000030001"


def test_codes_of_two_systems_make_a_text_column() -> None:
    rows = [["序号", "药品通用名", "药品代码"], [1, "x", DRUG], [2, "y", HERBAL_PATENT]]
    built = build_points([Sheet("s", rows)], SYSTEMS)
    assert built.columns[0].type == "text" and "CN-K-0030、CN-K-0031" in built.notes[0]


def test_a_code_twice_with_different_limits_is_refused() -> None:
    rows = [["序号", "药品通用名", "药品代码", "限定条件"], [1, "x", DRUG, "限男性"], [2, "x", DRUG, "限女性"]]
    with pytest.raises(WorkbookProblem) as caught:
        build_points([Sheet("s", rows, source="a.xlsx")], SYSTEMS)
    assert "第 3 行" in caught.value.message and DRUG in caught.value.message


def test_two_sheet_codes_of_an_unknown_point_are_named() -> None:
    points = Sheet("点", [["序号", "药品通用名"], [1, "x"]], source="a.xlsx")
    codes = Sheet(
        "知识点对应药品代码",
        [["对应知识点序号", "药品通用名", "药品代码"], [1, "x", DRUG], [9, "y", DRUG]],
        source="a.xlsx",
    )
    with pytest.raises(WorkbookProblem) as caught:
        build_points([points, codes], SYSTEMS)
    assert "对应知识点序号 9 在知识点表中不存在" in caught.value.message


def test_a_decimal_code_gets_back_its_trailing_zeros() -> None:
    restore = Restorer({"CN-K-0036": r"^\d{2}\.\d[\dx]\d{2}(x\d{3})?$"})
    restore.prepare("code", [codes_of(36.07)[0][0], "47.0100"])
    assert restore("36.07") == "36.0700" and restore("47.0100") == "47.0100" and restore.bad["code"] == []


CELLS = st.one_of(
    st.none(),
    st.sampled_from([*POINT_HEADERS, "对应知识点序号", DRUG, HERBAL_PATENT, "男", "限二级及以上", "", " ", "、"]),
    st.integers(min_value=-10, max_value=10**16),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.lists(CELLS, max_size=6), max_size=8), min_size=1, max_size=3))
def test_any_sheet_is_a_table_or_a_workbook_problem(sheets: list[list[list[object]]]) -> None:
    """Whatever the cells, build_points makes a table or says what is wrong: never another exception."""
    try:
        built = build_points([Sheet(f"s{n}", rows, source="a.xlsx") for n, rows in enumerate(sheets)], SYSTEMS)
    except WorkbookProblem as problem:
        assert problem.message
        return
    width = len(built.columns)
    assert all(len(row) == width for row in built.rows)
    assert all("\n" not in cell for row in built.rows for cell in row)
