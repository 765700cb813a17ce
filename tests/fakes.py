"""Look-alikes of personal data (第二十二条), made when a test runs so that no file of the repository carries one.

The checks that find personal data (TK801, publish's refusal) must be shown to find a resident ID number with a
valid check character and a mobile number.  A literal in a test file would be exactly what the project tells its
users never to store, and could be a real person's number.  So the tests build them here:

* ID numbers are of the division ``999999``, which GB/T 2260 never assigns (its provinces are 11–65, 71, 81, 82):
  no resident holds one.  The check character (GB 11643, ISO 7064 MOD 11-2) is computed.
* Mobile numbers have eight zeros after the prefix.  Which 11-digit numbers are assigned cannot be known here, so
  none is stored in a file: tests/test_no_personal_data.py scans the repository for the shapes the checks find.
"""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
UNASSIGNED_DIVISION = "999999"
_WIDE = str.maketrans("0123456789X+-", "０１２３４５６７８９Ｘ＋－")


def check_character(body: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def resident_id(birth: str = "19900307", serial: str = "451") -> str:
    body = UNASSIGNED_DIVISION + birth + serial
    return body + check_character(body)


def wide(text: str) -> str:
    """Full-width digits and signs, as an input method types them."""
    return text.translate(_WIDE)


ID = resident_id()
ID_X = next(i for i in (resident_id(serial=f"{n:03d}") for n in range(1000)) if i.endswith("X"))
ID_BAD = ID[:-1] + ("0" if ID[-1] != "0" else "1")  # the check character wrong: no ID number at all
MOBILE = "1" + "39" + "0" * 8
MOBILE_2 = "1" + "38" + "0" * 8
FAKES = {
    "id": ID,
    "id_x": ID_X,
    "id_bad": ID_BAD,
    "id_wide_x": wide(ID_X),
    "id_grouped": f"{ID[:6]} {ID[6:14]} {ID[14:]}",
    "mobile": MOBILE,
    "mobile_86": "+86" + MOBILE_2,
    "mobile_dashed": f"{MOBILE_2[:3]}-{MOBILE_2[3:7]}-{MOBILE_2[7:]}",
    "mobile_86_spaced": f"(+86) {MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}",
    "mobile_wide_dashed": wide(f"{MOBILE_2[:3]}-{MOBILE_2[3:7]}-{MOBILE_2[7:]}"),
}


def fill(text: str) -> str:
    """``text`` with each ``{fake:name}`` replaced by the look-alike of that name (the check cases use them)."""
    import re

    return re.sub(r"\{fake:([a-z0-9_]+)\}", lambda m: FAKES[m.group(1)], text)
