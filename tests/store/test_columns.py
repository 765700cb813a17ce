"""A fixed-width column reads and writes as the list of strings it stands for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twoku.store.caching.columns import Fixed

_VALUES = st.text(alphabet="0123456789abcdef", max_size=8)


@given(st.lists(_VALUES, max_size=20), st.lists(st.tuples(st.integers(0, 19), _VALUES), max_size=10))
def test_a_column_is_the_list_it_stands_for(values: list[str], sets: list[tuple[int, str]]) -> None:
    column = Fixed.of(values, 8)
    expected = list(values)
    for n, value in sets:
        if n < len(expected):
            column[n] = value
            expected[n] = value
    assert list(column) == expected and len(column) == len(expected)
    assert list(Fixed(column.dump(), 8)) == expected  # as written and read again
    copy = column.copy()
    if expected:
        copy[0] = "ffffffff"
        assert column[0] == expected[0]  # a copy's rows are its own


@given(st.lists(st.tuples(_VALUES, _VALUES), max_size=200))
def test_the_rows_that_differ_are_found(pairs: list[tuple[str, str]]) -> None:
    column = Fixed.of([old for old, _ in pairs], 8)
    new = [value for _, value in pairs]
    assert column.differing(new) == [n for n, (old, value) in enumerate(pairs) if old != value]


def test_a_wider_value_widens_the_column() -> None:
    column = Fixed.of(["", "ab", ""], 2)
    column[2] = "abcde"
    assert list(column) == ["", "ab", "abcde"] and column.width == 5
    assert list(Fixed(column.dump(), column.width)) == ["", "ab", "abcde"]


def test_what_no_column_holds_is_refused() -> None:
    column = Fixed.of(["ab"], 4)
    with pytest.raises(ValueError):
        column[0] = "ab "  # its trailing space would be taken for padding
    with pytest.raises(IndexError):
        column[1] = "ab"
    with pytest.raises(ValueError):
        Fixed("abc", 2)
