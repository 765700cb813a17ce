"""What looks like personal data (第二十二条: data must not leak from the libraries).

Used by validate (a warning where a store file holds such a value) and by publish
(which refuses to export one).  Patterns are strict to keep false alarms rare: a
resident ID number must carry a valid ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import re

_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
NAME_KEYS = frozenset({"患者姓名", "参保人姓名", "姓名", "patient_name", "insured_name"})
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_resident_id(text: str) -> bool:
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


_DIGITS = re.compile(r"[0-9]{11}")  # what every personal value found here holds: eleven digits in a row
# A resident ID's or a mobile number's shape, without the checks of its parts: rules' 16-digit framework codes
# and knowledge's drug codes hold eleven digits in a row, but not standing alone.
_SHAPE = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx])(?![0-9A-Za-z])")


def might_be_personal(text: str) -> bool:
    """False when ``text`` surely holds no personal data (personal_data would find none): a quick test, first
    for the digits (most texts have no run of eleven), then for the shape."""
    return _DIGITS.search(text) is not None and _SHAPE.search(text) is not None


def personal_data(text: str) -> str | None:
    """What kind of personal data ``text`` contains (身份证号 / 手机号), or None."""
    for match in _RESIDENT_ID.finditer(text):
        if _valid_resident_id(match.group()):
            return "居民身份证号码"
    if _MOBILE.search(text):
        return "手机号码"
    return None


def mask(text: str) -> str:
    """The value with its middle hidden, for a message that must not repeat it."""
    return text[:3] + "****" + text[-2:] if len(text) > 6 else "****"
