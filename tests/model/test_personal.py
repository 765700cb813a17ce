"""The quick test for personal data never misses what the full one finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests import fakes
from twoku.model.personal import masked, might_be_personal, personal_data

# Texts made of what the patterns look at: digits (full-width too), the check character X, letters and separators.
_TEXTS = st.text(alphabet="0123456789Xx1313ab -\n：号１３８Ｘ＋+－（）()\u3000", max_size=60)
_IDS = st.sampled_from(
    [
        fakes.ID,
        fakes.ID_X,
        fakes.MOBILE,
        "1" + "99" + "0" * 8,
        "+86 " + fakes.FAKES["mobile_dashed"],
        fakes.wide(fakes.MOBILE_2),
    ]
)


@given(_TEXTS, _IDS, _TEXTS)
def test_what_personal_data_finds_the_quick_test_finds(before: str, value: str, after: str) -> None:
    for text in (before + value + after, before, value, after, f"{before} {value} {after}"):
        if personal_data(text):
            assert might_be_personal(text), text


def test_codes_that_are_no_personal_data_pass_the_quick_test() -> None:
    assert not might_be_personal("framework_code: GZ10000204001000")  # digits, not standing alone
    assert not might_be_personal("XA01ABD075A002010100445")
    assert might_be_personal(f"参保人 {fakes.MOBILE_2} 重复住院")


M = fakes.MOBILE_2


def test_numbers_in_other_shapes_are_found_and_masked() -> None:
    shapes = {
        fakes.wide(fakes.ID): "居民身份证号码",
        fakes.FAKES["id_grouped"]: "居民身份证号码",
        fakes.FAKES["mobile_86"]: "手机号码",
        f"0086 {M[:3]} {M[3:7]} {M[7:]}": "手机号码",
        fakes.FAKES["mobile_dashed"]: "手机号码",
        f"（+86）{fakes.wide(M[:3])} {fakes.wide(M[3:7])} {fakes.wide(M[7:])}": "手机号码",
        f"{M[:3]}　{M[3:7]}　{M[7:]}": "手机号码",  # ideographic spaces
    }
    for shape, kind in shapes.items():
        text = f"参保人{shape}重复住院"
        assert personal_data(text) == kind and might_be_personal(text), shape
        hidden = masked(text)
        assert "****" in hidden and "0000" not in hidden and "1990" not in hidden, hidden
    for text in ("2024-01-01 至 2024-12-31", "13-15 天", "GZ10000204001000", "１２３４５", "138-1234-567"):
        assert personal_data(text) is None and masked(text) == text
