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
# A mobile number, with the country code as it is dialled (+86, 0086, 86) or without.  Alternatives that each
# start with a digit, not an optional prefix: the regular expression engine then skips ahead to a digit.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9][0-9]{9}|861[3-9][0-9]{9}|00861[3-9][0-9]{9})(?![0-9A-Za-z])")
NAME_KEYS = frozenset({"患者姓名", "参保人姓名", "姓名", "patient_name", "insured_name"})
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# The same numbers in other shapes: full-width digits (１３８…), and digits in groups of three or more
# (1XX-XXXX-XXXX, 1XX XXXX XXXX, (+86)1XX…, an ID number as XXXXXX YYYYMMDD XXXX).  Both are undone before the
# patterns look.
_WIDE = str.maketrans("０１２３４５６７８９Ｘｘ＋", "0123456789XX+")
_WIDE_CHARS = re.compile("[０-９Ｘｘ＋]")
_SEPARATORS = " \t\u00a0\u3000\\-－‐‑–—()（）"
_GROUP = re.compile(f"([0-9])[{_SEPARATORS}]{{1,3}}(?=[0-9]{{3}})")  # a separator before a group: taken out


def _valid_resident_id(text: str) -> bool:
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


def normalised(text: str) -> str:
    """``text`` with full-width digits made ASCII and the separators between groups of digits taken out."""
    if _WIDE_CHARS.search(text) is not None:
        text = text.translate(_WIDE)
    return _GROUP.sub(r"\1", text)


_CHANGED = re.compile(f"[０-９Ｘｘ＋]|[0-9][{_SEPARATORS}]{{1,3}}[0-9]{{3}}")  # what normalised() changes


def _plain(text: str) -> bool:
    """Whether normalised(text) is ``text``: the common case, told by one scan that copies nothing."""
    return _CHANGED.search(text) is None


# What every personal value found here holds: eleven characters from a digit on that are digits or separators.
# One scan that nearly every text fails (as fast as the old test for eleven ASCII digits in a row).
_RUN = re.compile(f"[0-9０-９][0-9０-９{_SEPARATORS}]{{10}}")
# A resident ID's or a mobile number's shape, without the checks of its parts: rules' 16-digit framework codes
# and knowledge's drug codes hold eleven digits in a row, but not standing alone.
_SHAPE = re.compile(
    r"(?<![0-9A-Za-z])(?:1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx]|861[3-9][0-9]{9}|00861[3-9][0-9]{9})(?![0-9A-Za-z])"
)


def might_be_personal(text: str) -> bool:
    """False when ``text`` surely holds no personal data (personal_data would find none): a quick test, first
    for a run of digits (most texts have none), then for the shape, in the text as it is where normalising
    would not change it (nearly always), else in the normalised text."""
    if _RUN.search(text) is None:
        return False
    return _SHAPE.search(text if _plain(text) else normalised(text)) is not None


def _found(text: str) -> list[tuple[str, re.Match[str]]]:
    """The personal data in a normalised text: each kind with where it stands."""
    found = [("居民身份证号码", m) for m in _RESIDENT_ID.finditer(text) if _valid_resident_id(m.group())]
    return found + [("手机号码", m) for m in _MOBILE.finditer(text)]


def personal_data(text: str) -> str | None:
    """What kind of personal data ``text`` contains (身份证号 / 手机号), or None."""
    if _RUN.search(text) is None:
        return None
    found = _found(normalised(text))
    return found[0][0] if found else None


def mask(text: str) -> str:
    """The value with its middle hidden, for a message that must not repeat it."""
    return text[:3] + "****" + text[-2:] if len(text) > 6 else "****"


def masked(text: str) -> str:
    """``text`` with each personal value in it masked (in its normalised form), for a message that quotes data."""
    if _RUN.search(text) is None:
        return text
    flat = normalised(text)
    found = sorted(_found(flat), key=lambda f: f[1].start(), reverse=True)
    for _, m in found:
        flat = flat[: m.start()] + mask(m.group()) + flat[m.end() :]
    return flat if found else text


# The same quick test for a file's bytes (a knowledge table's, of a million rows), by RE2: one scan of the bytes
# each, no text made of them.  The look-arounds of _SHAPE (RE2 has none) become a character taken on each side,
# or the text's end: a match of one is a match of the other.
_SHAPE_TAKEN = (
    r"(?:^|[^0-9A-Za-z])(?:1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx]|861[3-9][0-9]{9}|00861[3-9][0-9]{9})(?:$|[^0-9A-Za-z])"
)


def surely_not_personal(raw: bytes) -> bool:
    """True where the UTF-8 text ``raw`` surely holds no personal data (might_be_personal would say False, line
    breaks aside); False where it might, or where its digits or separators would be normalised first (the
    caller then asks might_be_personal of its text)."""
    from twoku.model.regex import compile_bytes

    if compile_bytes(_RUN.pattern).search(raw) is None:
        return True
    return compile_bytes(f"{_CHANGED.pattern}|{_SHAPE_TAKEN}").search(raw) is None  # one scan for both
