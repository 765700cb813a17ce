"""A table kept as its file's bytes (model/tables.py: the source) is checked and digested without its rows
being made: one RE2 match of whole rows, the key order told from the lines.  It must say exactly what the
cell-by-cell checks say: on sealed tables, and on sealed tables with random corruptions, the findings (kind,
message, line, column, hint), the digest and the row count are those of the same table whose rows were made
first (the path every table took before)."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from twoku.model import tables
from twoku.model.personal import might_be_personal, surely_not_personal

COLUMNS = (
    tables.Column("point", type="integer"),
    tables.Column("code", type="code", system="CN-K-0030"),
    tables.Column("name"),
    tables.Column("sex", type="enum", values=("男", "女")),
    tables.Column("max_days", type="integer"),
    tables.Column("since", type="date"),
    tables.Column("rate", type="number", required=True),
)
SPEC = tables.TableSpec("t.csv", COLUMNS, ("point", "code"))
PATTERNS = {"CN-K-0030": r"^X[A-Z]\d{2}[0-9]{3}$"}
# Other keys and other code systems: the key's order told from the lines or not, patterns a cell's regular
# expression can or cannot be joined with others (one that could match a comma or a newline cannot).
SPECS = [
    (SPEC, PATTERNS),
    (tables.TableSpec("t.csv", COLUMNS, ("code",)), PATTERNS),
    (tables.TableSpec("t.csv", COLUMNS, ("code", "point")), PATTERNS),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code", "name")), PATTERNS),
    (tables.TableSpec("t.csv", COLUMNS, tuple(c.name for c in COLUMNS)), PATTERNS),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code")), {"CN-K-0030": r"^[^;]+$"}),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code")), {"CN-K-0030": r"^.+$"}),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code")), {"CN-K-0030": r"^[A-Z0-9+ ]+$"}),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code")), {"CN-K-0030": None}),
    (tables.TableSpec("t.csv", COLUMNS, ("point", "code")), {"CN-K-0030": ""}),
    (tables.TableSpec("t.csv", (tables.Column("name", required=True), *COLUMNS[1:]), ("name",)), PATTERNS),
]
HEADER = ",".join(c.name for c in COLUMNS)
MOBILE = "138" + "12345678"  # (split: no file of the project holds one whole)
ID_NUMBER = "110101" + "19900307" + "4514"
BAD_CELLS = [
    "", "x", "-1", "07", "0", "1.5", "-0.5", "2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "0000-01-01",
    "0001-01-01", "2026-13-01", "2026-04-31", "2026-00-10", "M", "男 ", " 1", "1e3", "XA12345", "XA1234", "xa12345",
    "XA12 45", "Ａ", "Cafe\u0301", "a+b", "a b", "!", "٣", "१२", "9", "10", "XA99999", "女", MOBILE,
]  # fmt: skip


def sealed(rng: random.Random, points: int) -> list[list[str]]:
    rows = []
    for point in range(1, points + 1):
        for code in sorted(rng.sample(range(1000), rng.randint(1, 3))):
            rows.append(
                [
                    str(point),
                    f"X{rng.choice('AB')}{code:05d}",
                    rng.choice(["阿帕他胺片", "注射用头孢曲松钠", "x"]),
                    rng.choice(["男", "女", ""]),
                    rng.choice(["", "7", "30"]),
                    rng.choice(["", "2019-01-01", "2024-02-29"]),
                    rng.choice(["1", "0.5", "12.25"]),
                ]
            )
    rows.sort(key=lambda r: (int(r[0]), r[1]))
    return rows


def corrupt(rng: random.Random, lines: list[str]) -> list[str]:
    lines = list(lines)
    n = rng.randrange(len(lines))
    what = rng.randrange(12)
    if what <= 3:  # a cell
        cells = lines[n].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(BAD_CELLS)
        lines[n] = ",".join(cells)
    elif what == 4 and n + 1 < len(lines):  # two rows swapped
        lines[n], lines[n + 1] = lines[n + 1], lines[n]
    elif what == 5:
        lines.insert(n, lines[n])  # a duplicate
    elif what == 6:  # the same key, another name (a conflict), before or after
        cells = lines[n].split(",")
        cells[2] = rng.choice(["另一个", "a", "zz"])
        lines.insert(n + rng.randrange(2), ",".join(cells))
    elif what == 7:
        lines.insert(n, rng.choice(["", ",,,,,,", "1,2", "1,XA00001,a,男,,,1,extra"]))
    elif what == 8:
        lines[n] = lines[n] + rng.choice(["\r", '"', ","])
    elif what == 9:  # a row moved far away
        lines.insert(rng.randrange(len(lines)), lines.pop(n))
    elif what == 10:  # a point written otherwise
        cells = lines[n].split(",")
        cells[0] = rng.choice(["0" + cells[0], "-" + cells[0], cells[0] + "0", "1" + cells[0]])
        lines[n] = ",".join(cells)
    else:
        lines[n] = lines[n].replace(",", rng.choice([", ", ",!", ",(", ",+"]), 1)
    return lines


def encode(lines: list[str], rng: random.Random) -> bytes:
    raw = (HEADER + "\n" + "".join(f"{line}\n" for line in lines)).encode()
    if rng.random() < 0.05:
        raw = raw[:-1]  # no newline at the end
    if rng.random() < 0.03:
        raw = b"\xef\xbb\xbf" + raw
    if rng.random() < 0.03:
        at = rng.randrange(len(HEADER) + 1, len(raw))
        raw = raw[:at] + rng.choice([b"\xff", b"\xed\xa0\x80", b"\xe7\x94"]) + raw[at:]
    return raw


def same(raw: bytes, spec: tables.TableSpec, patterns: dict[str, str | None], keys: bool = True) -> tables.Table:
    """Assert the source's checks and digest are those of the rows made first, asked in any order (validate asks
    the checks first, then the problems of reading, then the digest); the table as validate reads it."""
    made = tables.parse(raw, spec, "t.csv")
    assert made.rows is not None  # made from the source (where there is one) before anything is checked
    expected = (
        made.problems,
        list(tables.problems(made, patterns, keys)),
        tables.rows_digest(made) if made.readable else None,
        len(made.rows),
    )
    tables_read = []
    for order in ("checks first", "problems first", "digest first"):
        fast = tables.parse(raw, spec, "t.csv")
        digest = tables.rows_digest(fast) if order == "digest first" and fast.readable else None
        if order == "problems first":
            reading = list(fast.problems)
        checked = list(tables.problems(fast, patterns, keys))
        if order != "problems first":
            reading = list(fast.problems)
        if fast.readable and digest is None:
            digest = tables.rows_digest(fast)
        assert (reading, checked, digest, fast.row_count) == expected, order
        tables_read.append(fast)
    return tables_read[0]


@pytest.mark.parametrize("spec, patterns", SPECS, ids=range(len(SPECS)))
@pytest.mark.parametrize("seed", range(30))
def test_a_corrupted_sealed_table_is_found_as_its_rows_are(
    seed: int, spec: tables.TableSpec, patterns: dict[str, str | None]
) -> None:
    rng = random.Random(seed)
    lines = [",".join(r) for r in sealed(rng, rng.choice([3, 12, 40]))]
    for _ in range(rng.randint(1, 3)):
        lines = corrupt(rng, lines)
    same(encode(lines, rng), spec, patterns)
    same(encode(lines, rng), spec, patterns, keys=False)


@pytest.mark.parametrize("seed", range(20))
def test_a_sealed_table_is_checked_and_digested_from_its_bytes(seed: int) -> None:
    rng = random.Random(seed)
    raw = (HEADER + "\n" + "".join(",".join(r) + "\n" for r in sealed(rng, rng.choice([1, 9, 11, 120])))).encode()
    table = same(raw, SPEC, PATTERNS)
    assert table.from_source  # checked and digested, and its rows never made
    assert list(tables.problems(table, PATTERNS)) == []
    with_key_code = same(raw, SPECS[3][0], PATTERNS)  # the key (point, code, name): the same rows, told the same
    assert with_key_code.from_source


def test_a_source_table_s_rows_replaced_are_checked_as_they_now_are() -> None:
    raw = f"{HEADER}\n1,XA00001,a,男,,,1\n2,XA00002,b,女,,,1\n".encode()
    table = tables.parse(raw, SPEC, "t.csv")
    assert list(tables.problems(table, PATTERNS)) == [] and table.from_source
    table.rows = [*table.rows[::-1]]
    table.lines = [3, 2]
    assert [p.kind for p in tables.problems(table, PATTERNS)] == ["order"]
    assert table.text_lines[1] == "1,XA00001,a,男,,,1"


def test_the_date_expression_takes_the_dates_python_takes() -> None:
    import re2

    regex = re2.compile(tables._REAL_DATE)
    years = ["0000", "0001", "0004", "0100", "0400", "1582", "1900", "2000", "2023", "2024", "2100", "9999"]
    for year, month, day in itertools.product(years, range(0, 15), range(0, 33)):
        text = f"{year}-{month:02d}-{day:02d}"
        try:
            dt.date.fromisoformat(text)
            real = True
        except ValueError:
            real = False
        assert (regex.fullmatch(text) is not None) == real, text


@pytest.mark.parametrize(
    "regex, one_line",
    [
        (r"X[A-Z]\d{2}[A-Z]{3}\d{3}[A-Z]\d{12}", True),
        (r"\d{15}", True),
        (r"[A-Z]\d{2}(?:\.\d{1,4})?|[0-9]+", True),
        (r"\w+", True),
        (r"[^;]+", False),
        (r".+", False),
        (r"\S+", False),
        (r"\s", False),
        (r"\D+", False),
        (r"[\x00-\x7f]+", False),
        (r"[!-/]+", False),
        (r"\x2c", False),
        (r"a,b", False),
        (r"\n", False),
        (r"\012", False),
        (r"[[:punct:]]+", False),
        (r"\pN+", False),
        (r"\p{Han}+", False),
        (r"(?s).", False),
        (r"\C", False),
        (r"(a)\1", False),
        (r"X{,3}", False),
        (r"X{1,3}", True),
    ],
)
def test_a_cell_expression_is_joined_only_where_it_cannot_match_a_comma_or_a_newline(
    regex: str, one_line: bool
) -> None:
    assert tables._one_line(regex) is one_line


@pytest.mark.parametrize("seed", range(200))
def test_the_bytes_test_for_personal_data_never_misses_what_the_text_test_sees(seed: int) -> None:
    rng = random.Random(seed)
    parts = [*"1380９１３ -（aXx\n,中+", "86", "00", "１３８"]
    text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 40)))
    if rng.random() < 0.3:
        text += rng.choice([MOBILE, ID_NUMBER, "86" + MOBILE, "138 1234 " + MOBILE[-4:]])
    if surely_not_personal(text.encode()):
        assert not might_be_personal(text)


@pytest.mark.parametrize("date", ["2023-02-29", "1900-02-29", "0000-01-01", "2026-04-31", "2026-13-01", "2026-00-10"])
def test_a_date_that_is_no_real_day_is_found_in_a_sealed_table(date: str) -> None:
    raw = f"{HEADER}\n1,XA00001,a,男,,2019-01-01,1\n2,XA00002,b,女,,{date},1\n".encode()
    table = same(raw, SPEC, PATTERNS)
    assert [p.message for p in tables.problems(table, PATTERNS)] == [f"since 的值 {date!r} 不是有效日期"]


NAMED = (tables.Column("name", required=True), tables.Column("code", type="code", system="CN-K-0030"))
NAMED_SPEC = tables.TableSpec("t.csv", (*NAMED, *COLUMNS[3:]), ("name", "code"))


@pytest.mark.parametrize("seed", range(60))
def test_key_cells_with_characters_before_the_comma_are_ordered_as_cells(seed: int) -> None:
    """("a b", …) orders after ("a", …), though the line "a b,…" orders before "a,…": a key cell that holds a
    character before the comma (or a cell that begins another) is ordered as the rows order it."""
    rng = random.Random(seed)
    names = ["a", "a b", "a!", "ab", "a+", "a(", "b", "中", "a\t"]
    rows = sorted(
        {(rng.choice(names), f"XA{rng.randrange(3):05d}"): None for _ in range(rng.randint(2, 12))}, key=lambda r: r
    )
    lines = [f"{n},{c},男,,2019-01-01,1" for n, c in rows]
    if rng.random() < 0.7 and len(lines) > 1:
        n = rng.randrange(len(lines) - 1)
        lines[n], lines[n + 1] = lines[n + 1], lines[n]
    raw = ("name,code,sex,max_days,since,rate\n" + "".join(f"{line}\n" for line in lines)).encode()
    same(raw, NAMED_SPEC, PATTERNS)


@pytest.mark.parametrize("seed", range(40))
def test_the_names_a_table_holds_are_found_in_its_bytes_as_in_its_rows(seed: int) -> None:
    rng = random.Random(seed)
    lines = [",".join(r) for r in sealed(rng, rng.choice([2, 15]))]
    if rng.random() < 0.3:
        lines = corrupt(rng, lines)
    raw = encode(lines, rng)
    pool = [
        "阿帕他胺片",
        "阿帕他胺",
        "注射用头孢曲松钠",
        "x",
        "X",
        "xa",
        "男",
        "1",
        "a.b",
        "(x)",
        "x\\E",
        "",
        "a,b",
        " x",
    ]
    names = rng.sample(pool, rng.randint(1, 5))
    fast, made = tables.parse(raw, SPEC, "t.csv"), tables.parse(raw, SPEC, "t.csv")
    if not fast.readable:
        return
    for column in range(len(COLUMNS)):
        assert (
            tables.present(fast, column, names)
            == tables.present(made, column, names)
            == (set(names) & {row[column] for row in made.rows})
        )
    if all(n and "," not in n and "\\E" not in n for n in names) and not fast.problems:
        assert fast.from_source  # (asked of its bytes)
