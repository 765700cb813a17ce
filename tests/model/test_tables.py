"""model/tables.py reads, checks and digests a table column-wise where it can (a sealed table: no quotes, one
row per line, in key order); each fast path gives what the row-by-row reading gives, on random tables with
quotes, empty cells, bad cells, short lines, duplicate keys and rows out of order."""

from __future__ import annotations

import hashlib
import random
import unicodedata

import pytest

from twoku.model import tables

COLUMNS = (
    tables.Column("point", type="integer"),
    tables.Column("code", type="code", system="CN-K-0030"),
    tables.Column("name"),
    tables.Column("sex", type="enum", values=("男", "女")),
    tables.Column("since", type="date"),
)
SPEC = tables.TableSpec("t.csv", COLUMNS, ("point", "code"))
PATTERNS = {"CN-K-0030": r"^\d{15}$"}


def naive_digest(table: tables.Table) -> str:
    """The module docstring's definition, spelled out row by row."""
    rows = sorted(table.rows, key=lambda row: (tables.sort_key(table, table.key_of(row)), row))
    body = "\x1e".join(["\x1f".join(table.spec.names), *("\x1f".join(row) for row in rows)])
    return "sha256:" + hashlib.sha256(unicodedata.normalize("NFC", body).encode("utf-8")).hexdigest()


def slow(raw: bytes) -> tables.Table:
    """The table read line by line: the same bytes with a quoted header cell (quotes turn the fast path off)."""
    text = raw.decode("utf-8")
    head, _, rest = text.partition("\n")
    first, _, others = head.partition(",")
    return tables.parse(f'"{first}",{others}\n{rest}'.encode(), SPEC, "t.csv")


def random_table(rng: random.Random, sealed: bool) -> bytes:
    rows = []
    for n in range(rng.randint(0, 60)):
        point = str(n // 3 + 1) if sealed or rng.random() > 0.1 else rng.choice(["x", "", "-2", "07"])
        code = f"{rng.randint(0, 999):015d}" if sealed or rng.random() > 0.1 else rng.choice(["12", "", "A"])
        name = rng.choice(["阿帕他胺片", "Cafe\u0301", "", "x"])  # one name not in NFC
        sex = rng.choice(["男", "女", ""] if sealed else ["男", "", "M"])
        since = rng.choice(["2026-01-01", ""] if sealed else ["2026-02-30", "2026-1-1", ""])
        rows.append([point, code, name, sex, since])
    if sealed:
        rows = sorted({(int(r[0]), r[1]): r for r in rows}.values(), key=lambda r: (int(r[0]), r[1]))
    else:
        rng.shuffle(rows)
        if rows and rng.random() < 0.5:
            rows.append(list(rows[0]))  # a duplicate
    lines = [",".join(r) for r in rows]
    if not sealed and lines and rng.random() < 0.5:
        lines.insert(rng.randrange(len(lines)), rng.choice(["", "1,2", "1,2,3,4,5,6"]))
    return ("point,code,name,sex,since\n" + "".join(f"{line}\n" for line in lines)).encode()


@pytest.mark.parametrize("seed", range(40))
def test_column_wise_reading_checks_and_digest_agree_with_row_by_row(seed: int) -> None:
    rng = random.Random(seed)
    raw = random_table(rng, sealed=seed % 2 == 0)
    fast, reference = tables.parse(raw, SPEC, "t.csv"), slow(raw)
    assert fast.rows == reference.rows and fast.lines == reference.lines
    assert [p.kind for p in fast.problems] == [p.kind for p in reference.problems]
    assert list(tables.problems(fast, PATTERNS)) == list(tables.problems(reference, PATTERNS))
    assert tables.rows_digest(fast) == tables.rows_digest(reference) == naive_digest(reference)
    assert tables.sorted_rows(fast) == tables.sorted_rows(reference)


def test_a_sealed_table_read_column_wise_is_checked_clean_and_keeps_its_digest() -> None:
    raw = b"point,code,name,sex,since\n1,000000000000001,a,,2026-01-01\n2,000000000000002,b,\xe7\x94\xb7,\n"
    table = tables.parse(raw, SPEC, "t.csv")
    assert table.memo.get("plain") and table.rows[1] == ("2", "000000000000002", "b", "男", "")
    assert list(tables.problems(table, PATTERNS)) == []
    assert tables.rows_digest(table) == naive_digest(table)


def test_rows_replaced_after_reading_are_checked_and_digested_as_they_now_are() -> None:
    table = tables.parse(b"point,code,name,sex,since\n1,000000000000001,a,,\n", SPEC, "t.csv")
    assert list(tables.problems(table, PATTERNS)) == []
    table.rows = [("2", "1", "a", "", ""), ("1", "000000000000001", "a", "", "")]
    table.lines = [2, 3]
    kinds = [p.kind for p in tables.problems(table, PATTERNS)]
    assert kinds == ["pattern", "order"]
    assert tables.rows_digest(table) == naive_digest(table)


def test_bad_cells_beyond_those_reported_are_counted_without_the_empty_ones() -> None:
    rows = "".join(f"{n},{'' if n % 2 else 'X'},,,\n" for n in range(1, 61))
    table = tables.parse(f"point,code,name,sex,since\n{rows}".encode(), SPEC, "t.csv")
    found = [
        p
        for p in tables.problems(table, PATTERNS, keys=False)
        if "不是符合编码规则" in p.message or "另有" in p.message
    ]
    assert len(found) == 21 and "另有 10 个值" in found[-1].message  # 30 bad codes; the 30 empty ones are TK423's


def naive_diff(old: tables.Table, new: tables.Table) -> tuple[object, ...]:
    before = {old.key_of(r): r for r in old.rows}
    after = {new.key_of(r): r for r in new.rows}
    changed = [k for k in sorted(before.keys() & after.keys()) if before[k] != after[k]]
    return (
        [after[k] for k in sorted(after.keys() - before.keys())],
        [before[k] for k in sorted(before.keys() - after.keys())],
        changed,
    )


@pytest.mark.parametrize("seed", range(30))
def test_diff_finds_what_a_key_by_key_comparison_finds(seed: int) -> None:
    rng = random.Random(seed)
    old = tables.parse(random_table(rng, sealed=seed % 3 != 0), SPEC, "t.csv")
    raw = random_table(rng, sealed=seed % 3 != 1)
    new = tables.parse(raw, SPEC, "t.csv") if seed % 4 else slow(raw)
    result = tables.diff(old, new)
    assert result is not None
    added, removed, changed = naive_diff(old, new)
    assert list(result.added) == added and list(result.removed) == removed
    assert [c.key for c in result.changed] == changed


@pytest.mark.parametrize("seed", range(10))
def test_diff_of_a_sealed_table_and_its_edit_is_exact(seed: int) -> None:
    rng = random.Random(seed)
    raw = random_table(rng, sealed=True)
    header, *lines = raw.decode().splitlines()
    edited = []
    for line in lines:
        roll = rng.random()
        if roll < 0.1:
            continue  # removed
        if roll < 0.2:
            line = line.rpartition(",")[0] + ",2020-02-02"  # changed
        edited.append(line)
        if roll > 0.9:
            point, code, rest = line.split(",", 2)
            edited.append(f"{point},{int(code) + 1:015d},{rest}")  # maybe added (or a key already there)
    body = sorted({tuple(x.split(",")[:2]): x for x in edited}.items(), key=lambda kv: (int(kv[0][0]), kv[0][1]))
    old = tables.parse(raw, SPEC, "t.csv")
    new = tables.parse(("\n".join([header, *(x for _, x in body)]) + "\n").encode(), SPEC, "t.csv")
    result = tables.diff(old, new)
    assert result is not None
    added, removed, changed = naive_diff(old, new)
    assert (list(result.added), list(result.removed), [c.key for c in result.changed]) == (added, removed, changed)
    assert all(c.cells for c in result.changed)


@pytest.mark.parametrize("seed", range(40))
def test_diff_from_the_lines_is_the_diff_of_the_parsed_tables_or_declines(seed: int) -> None:
    """diff_raw compares two versions by their lines (diff's fast path for big sealed tables): where it answers,
    it answers exactly what diff of the parsed tables answers; where a version is not plain, it declines."""
    rng = random.Random(seed)
    raws = [random_table(rng, sealed=seed % 3 != 0), random_table(rng, sealed=seed % 3 != 1)]
    if seed % 5 == 0:
        raws[1] = raws[1].replace(b"\n", b"\r\n", 1)  # not as seal writes it
    if seed % 7 == 0:
        raws[0] = None  # the table is new
    quick = tables.diff_raw(raws[0], raws[1], SPEC, "t.csv")
    parsed = [tables.parse(raw, SPEC, "t.csv") if raw is not None else None for raw in raws]
    full = tables.diff(parsed[0], parsed[1])
    if quick is None:
        return
    assert full is not None
    assert (quick.added, quick.removed, quick.changed) == (full.added, full.removed, full.changed)


def test_diff_from_the_lines_declines_quotes_and_another_header() -> None:
    plain = b"point,code,name,sex,since\n1,000000000000001,x,,\n"
    assert tables.diff_raw(plain, plain.replace(b",x,", b',"x",'), SPEC, "t.csv") is None
    assert tables.diff_raw(plain, plain.replace(b"point,", b"pt,"), SPEC, "t.csv") is None
    same = tables.diff_raw(plain, plain, SPEC, "t.csv")
    assert same is not None and same.empty


def _edited(rng: random.Random, lines: list[str]) -> list[str]:
    """A sealed table's lines after random edits: rows removed, changed, added (in key order or not), moved, or
    one twice; runs of edits together and apart, at the start and at the end."""
    out = []
    for n, line in enumerate(lines):
        roll = rng.random()
        if roll < 0.03 or (n == 0 and rng.random() < 0.3):
            continue  # removed
        if roll < 0.06:
            line = line.rpartition(",")[0] + rng.choice([",2020-02-02", ","])  # changed
        out.append(line)
        if roll > 0.97:
            point, code, rest = line.split(",", 2)
            out.append(f"{point},{int(code) + 1:015d},{rest}")  # added beside it (maybe a key already there)
    kind = rng.random()
    if kind < 0.2 and len(out) > 2:  # a row moved: no longer in key order
        a, b = rng.sample(range(len(out)), 2)
        out[a], out[b] = out[b], out[a]
    elif kind < 0.3 and out:  # a row twice
        out.insert(rng.randrange(len(out)), rng.choice(out))
    elif kind < 0.8:  # the rest in key order, one row a key
        out = sorted({tuple(x.split(",")[:2]): x for x in out}.values(), key=lambda x: (int(x.split(",")[0]), x))
    if rng.random() < 0.2:
        out.append(f"{10**6},{0:015d},末行,男,2026-01-01")  # added at the end
    return out


@pytest.mark.parametrize("seed", range(60))
def test_the_walk_in_key_order_finds_what_the_set_of_lines_finds(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """diff_raw walks both versions in key order, skipping equal bytes (tables._merged); on a thousand-row
    sealed table and its random edit, it answers what one set operation over the lines answers, and what diff
    of the parsed tables answers, or declines (a version out of key order: the set operation answers)."""
    rng = random.Random(seed)
    rows = sorted(
        {(p, c): f"{p},{c:015d},{rng.choice(['甲', 'x', ''])},{rng.choice(['男', '女', ''])},2026-01-01"
         for p, c in ((rng.randint(1, 400), rng.randint(0, 99)) for _ in range(1000))}.items()
    )  # fmt: skip
    lines = [line for _, line in rows]
    raws = [("\n".join(["point,code,name,sex,since", *x]) + "\n").encode() for x in (lines, _edited(rng, lines))]
    walked = tables.diff_raw(raws[0], raws[1], SPEC, "t.csv")
    monkeypatch.setattr(tables, "_merged", lambda *_: None)
    by_set = tables.diff_raw(raws[0], raws[1], SPEC, "t.csv")
    assert (walked is None) == (by_set is None)
    if walked is None:
        return
    assert (walked.added, walked.removed, walked.changed) == (by_set.added, by_set.removed, by_set.changed)
    keys = [tuple(line.split(b",")[:2]) for line in raws[1].splitlines()[1:]]
    if len(set(keys)) < len(keys):
        return  # a key twice (TK424): both pair rows by key as the changed lines say, diff of parsed tables as
        # the last row of a key says (diff_raw's docstring)
    full = tables.diff(*(tables.parse(raw, SPEC, "t.csv") for raw in raws))
    assert full is not None
    assert (walked.added, walked.removed, walked.changed) == (full.added, full.removed, full.changed)


def test_the_walk_declines_a_version_out_of_key_order() -> None:
    head = "point,code,name,sex,since\n"
    a, b, c = (f"{p},{p:015d},x,,\n" for p in (1, 2, 3))
    old, new = (head + a + b + c).encode(), (head + b + a + c).encode()  # the same rows, two swapped
    assert tables._merged(old[len(head) :], new[len(head) :], lambda line: (line.split(b",")[0],)) is None
    same = tables.diff_raw(old, new, SPEC, "t.csv")
    assert same is not None and same.empty  # the set of lines answers: nothing changed
