"""The quick test for personal data never misses what the full one finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twoku.model.personal import might_be_personal, personal_data

# Texts made of what the patterns look at: digits, the check character X, letters and separators.
_TEXTS = st.text(alphabet="0123456789Xx1313ab -\n：号", max_size=60)
_IDS = st.sampled_from(["110101199003074514", "11010119900307451X", "13800138000", "19912345678"])


@given(_TEXTS, _IDS, _TEXTS)
def test_what_personal_data_finds_the_quick_test_finds(before: str, value: str, after: str) -> None:
    for text in (before + value + after, before, value, after, f"{before} {value} {after}"):
        if personal_data(text):
            assert might_be_personal(text), text


def test_codes_that_are_no_personal_data_pass_the_quick_test() -> None:
    assert not might_be_personal("framework_code: GZ10000204001000")  # digits, not standing alone
    assert not might_be_personal("XA01ABD075A002010100445")
    assert might_be_personal("参保人 13800138000 重复住院")
