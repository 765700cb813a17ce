"""The quick reader gives the full loader's data, or declines: it never decides anything itself.

Every comparison is strict: the data must be equal as JSON text, so that 1, 1.0 and True, or a
date and its text, or two key orders, all differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.benchmarks.test_generate import generated  # noqa: F401  (a fixture: the benchmark's store, small)
from twoku.store.documents import quicklocate, quickyaml, yamlio
from twoku.store.documents.edit import dump
from twoku.store.files import store_paths

REPO = Path(__file__).resolve().parents[2]


def _full(text: str) -> object:
    """What the full loader makes of a text: its data as JSON text, or the problem it names."""
    try:
        data, _ = yamlio.load(text.encode("utf-8"))
    except yamlio.YamlProblem as problem:
        return ("problem", problem.code)
    return json.dumps(yamlio.to_json(data), ensure_ascii=False)


def _agrees(text: str) -> bool:
    """Whether the quick reader declined, or read the text exactly as the full loader does."""
    quick = quickyaml.read(text)
    if quick is quickyaml.DECLINE:
        return True
    assert _full(text) == json.dumps(quick, ensure_ascii=False), text
    return False


def _store_texts(root: Path) -> dict[str, str]:
    return {p: yamlio.decode((root / p).read_bytes())[0] for p in store_paths(root) if p.endswith((".yaml", ".yml"))}


def test_every_shipped_file_reads_as_the_full_loader_reads_it() -> None:
    texts = _store_texts(REPO)
    declined = [path for path, text in texts.items() if _agrees(text)]
    # The fast path must really be taken: every knowledge item and override is plain block YAML; what declines
    # are the flow mappings of rules' conditions and examples and of records' votes.
    assert not [p for p in declined if "/knowledge/" in p or "/overrides/" in p]
    assert all("/rules/" in p or p.startswith("argumentation/") for p in declined), declined
    assert len(texts) - len(declined) > len(texts) / 2, declined


def test_every_generated_file_reads_as_the_full_loader_reads_it(generated: Path) -> None:  # noqa: F811
    texts = _store_texts(generated)
    assert not [path for path, text in texts.items() if _agrees(text)]


@pytest.mark.parametrize(
    "text",
    [
        "id: CN-K-0001\ntitle: 标题\n",
        "---\na: b\n",
        "a: 1\nb: -7\nc: 0x1F\nd: 0o17\ne: 010\nf: 1_000\ng: +3\n",
        "a: true\nb: False\nc: ~\nd: null\ne:\nf: NULL\n",
        "a: 2021-05-01\nb: '2021-05-01'\nc: \"2021-05-01\"\n",
        "a: 'it''s'\nb: \"双引号\"  # 注释\nc: '  空格  '\n",
        "a: 值  # 注释\nb: x#y\nc: http://example.org/a\nd: 第 3 条：说明\n",
        "a: [1, 二, true, ~, 2021-05-01]\nb: []\nc: [ a b , c ]\n",
        "a: |\n  第一行\n\n  第三行\n\n\nb: |-\n  无换行\nc: 1\n",
        "a: |\n    缩进\n      更深\n  # 注释\nb: 2\n",
        "a:\n  - x\n  - y: 1\n    z: 2\n  - |\n    块\nb:\n- 与键同缩进\n- 第二项\nc: 3\n",
        "a:\n  b:\n    c:\n      d: 深\n  e: 浅\n",
        "a:  # 注释\n  b: 1\n# 顶格注释\n  # 缩进注释\nc:\n",
        "a: -x\nb: -5\nc: ---\nd: '#'\ne: a:b\n",
        "list:\n  -   x\n  -   k: v\n      k2: v2\n",
        "regions:\n  '510000': 四川省\n  \"510100\": 成都市\n  'it''s': x\nempty: {}\n",
        # A text block's lines are text, however much like keys they look: the reader never takes them apart.
        "a: |\n  1: x\n  true: y\n  b: c: d\n  - [x\n  '多\n  <<: z\nb: 2\n",
        # A mapping on a list item's line, its first value below it, a text block or a flow list.
        "a:\n  - b:\n      c: 1\n    d: 2\n  - e: |\n      块\n    f: [1, 2]\n  - g: {}\n    h:\n    - i\n",
        "a:\n" + "".join(f"{'  ' * n}- k{n}:\n" for n in range(17)) + "  " * 17 + "- k: |\n" + "  " * 19 + "块\n",
    ],
)
def test_the_subset_is_read_quickly_and_exactly(text: str) -> None:
    assert not _agrees(text), "this text is plain block YAML: the quick reader should take it"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# 只有注释\n",
        "a: 1\na: 2\n",  # a duplicate: the full loader names it (TK102)
        "a: 2021-02-30\n",  # no such date
        "a: 2021-05-01 10:00:00\n",
        "a: 1.5\nb: .inf\n",
        "1: a\n",
        "true: a\n",
        "2021-05-01: a\n",
        "a : 1\n",
        "'a': 1\n\"a\": 2\n",  # the same key, quoted two ways
        "'a' : 1\n",
        '"a\\tb": 1\n',
        "a: {}  # 空\n",
        "<<: {a: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !custom 1\n",
        "a: {b: 1}\n",
        "a: [b, [c]]\n",
        "a: [b: c]\n",
        "a: [b,]\n",
        "a: >\n  折叠\n",
        "a: |+\n  保留\n",
        "a: |2\n  指定\n",
        "a: |\n\n  前导空行\n",
        "a: |\n  x\n   \n  y\n",
        "a: 多行\n  纯量\n",
        "a: '多行\n  引号'\n",
        'a: "转义\\t"\n',
        "a: 1\n\tb: 2\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1",  # no final line break
        "a: b: c\n",
        "a: b:\n",
        "a: - b\n",
        "a: -\n",
        "a:\n  - - b\n",
        "a:\n  -\n    b: 1\n",
        "a:\n  b: 1\n   c: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a:\n  - b\n  c: 1\n",
        "a: 1\n- b\n",
        "- a\n- b\n",
        "标量\n",
        "  a: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "<<<<<<< HEAD\na: 1\n=======\na: 2\n>>>>>>> x\n",
        "======= x: 1\n",
        "a: 1\x07\n",
        "a: \ufeff1\n",
        "a: \u2028\n",
        "a: +_\n",
        "? a\n: b\n",
        "a: `b`\n",
        "a: @b\n",
        "a: %b\n",
        "a: 'x' y\n",
        "a: 'x'#c\n",
        "k" * 1100 + ": 1\n",
        "a:\n" + "".join(f"{'  ' * n}- k{n}:\n" for n in range(18)) + "  " * 18 + "- k: x\n",  # too deep
    ],
)
def test_anything_else_is_left_to_the_full_loader(text: str) -> None:
    assert quickyaml.read(text) is quickyaml.DECLINE


def test_a_line_read_before_reads_alike_wherever_it_stands() -> None:
    # The reader keeps the lines it has read (most lines recur from file to file): a line is text in a text
    # block, a key where it stands, and a line the reader declined is declined again.
    block, key, bad = "a: |\n  1: x\n  b: c\n", "a:\n  b: c\n", "a:\n  1: x\n"
    for _ in range(2):
        assert quickyaml.read(block) == {"a": "1: x\nb: c\n"}
        assert quickyaml.read(key) == {"a": {"b": "c"}}
        assert quickyaml.read(bad) is quickyaml.DECLINE


def test_a_text_read_again_gives_new_lists_and_mappings() -> None:
    text = "a: [1, 2]\nb: {}\nc:\n  - d: [x]\n"
    first = quickyaml.read(text)
    first["a"].append(3)
    first["b"]["k"] = 1
    first["c"][0]["d"].append("y")
    assert quickyaml.read(text) == {"a": [1, 2], "b": {}, "c": [{"d": ["x"]}]}


def test_the_lines_kept_are_bounded() -> None:
    count = quickyaml._TAKEN_KEPT + 100
    text = "".join(f"k{n}: v{n}\n" for n in range(count))
    assert quickyaml.read(text) == {f"k{n}": f"v{n}" for n in range(count)}
    assert len(quickyaml._TAKEN) <= quickyaml._TAKEN_KEPT
    assert len(quickyaml._KEYS) <= quickyaml._KEYS_KEPT


def test_an_oversized_text_is_left_to_the_full_loader() -> None:
    text = "a: [" + ", ".join(["x"] * 250_000) + "]\n"  # over the full loader's node limit
    assert quickyaml.read(text) is quickyaml.DECLINE
    assert _full(text) == ("problem", "TK107")


def test_a_deep_text_is_left_to_the_full_loader() -> None:
    text = "".join(f"{'  ' * n}k{n}:\n" for n in range(60)) + f"{'  ' * 60}leaf: 1\n"
    assert quickyaml.read(text) is quickyaml.DECLINE
    assert _full(text) == ("problem", "TK107")


# Documents as twoku writes them (store.documents.edit.dump: block style), from values of every kind; the words are mostly
# plain ones, so that most documents fall in the subset and the comparison bites.
_word = st.text(st.sampled_from("ab值规则 1-:#'\"[],|~.x"), min_size=1, max_size=8)
_text = st.one_of(
    _word, st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")), max_size=12)
)
_key = st.one_of(
    st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), _word, st.sampled_from(["true", "1", "2021-05-01", "a b"])
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    _text,
    _text,
    st.sampled_from(["2021-05-01", "2021-02-30", "0x1F", "-", "- a", "a: b", "a #b", "|", "~", "", " a ", "'", "1.5"]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_key, inner, max_size=4)),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_key, _value, min_size=1, max_size=6))
def test_documents_twoku_writes_read_as_the_full_loader_reads_them(data: dict[str, Any]) -> None:
    _agrees(dump(data))


# Texts that twoku writes, then damaged a little: a piece YAML gives meaning to put into a line, a line indented
# differently, repeated or dropped.  Whatever comes out, the quick reader must read it as the full loader does or
# decline it (and it must decline whatever the full loader refuses).
_piece = st.sampled_from(
    [
        "a",
        "值",
        "1",
        "0x1",
        "2021-05-01",
        "2021-02-30",
        ":",
        ": ",
        "#",
        " #",
        "'",
        '"',
        "|",
        "|-",
        "[",
        "]",
        ",",
        "- ",
        "{",
        "}",
        "&",
        "*",
        "!",
        "?",
        ">",
        "---",
        "...",
        "~",
        "null",
        "true",
        "\t",
        "%",
        "@",
        "<<",
        "=",
        " ",
        "  ",
    ]
)


_plain_key = st.one_of(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), st.sampled_from(["值", "a b", "1", "'"]))
_plain_value = st.recursive(
    st.one_of(
        st.sampled_from(["x y", "第 3 条", "2021-05-01", "1", "-2", "true", "~", "多行\n文字\n", "a: b"]),
        st.text(st.sampled_from("ab值规则 1-x"), min_size=1, max_size=6),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_plain_key, inner, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_plain_key, _plain_value, min_size=1, max_size=5), st.data())
def test_damaged_texts_read_alike_or_are_declined(data: dict[str, Any], draw: st.DataObject) -> None:
    lines = dump(data).split("\n")
    for _ in range(draw.draw(st.integers(1, 3))):
        n = draw.draw(st.integers(0, len(lines) - 1))
        how = draw.draw(st.sampled_from(["insert", "indent", "dedent", "repeat", "drop"]))
        if how == "insert":
            at = draw.draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:at] + draw.draw(_piece) + lines[n][at:]
        elif how == "indent":
            lines[n] = " " * draw.draw(st.integers(1, 2)) + lines[n]
        elif how == "dedent":
            lines[n] = lines[n][draw.draw(st.integers(1, 2)) :]
        elif how == "repeat":
            lines.insert(n, lines[n])
        elif len(lines) > 1:
            del lines[n]
    _agrees("\n".join(lines))


def _pointers(value: Any, pointer: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every pointer into ``value``, and one just past each container (a missing key, an index too far)."""
    yield pointer
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _pointers(sub, (*pointer, key))
        yield (*pointer, "没有这个键")
    elif isinstance(value, list):
        for n, sub in enumerate(value):
            yield from _pointers(sub, (*pointer, n))
        yield (*pointer, len(value))


def _ruamel_locate(text: str, pointer: tuple[str | int, ...]) -> tuple[int, int]:
    """yamlio.locate's answer by ruamel.yaml alone."""
    quick = quicklocate.locator
    try:
        quicklocate.locator = lambda *_: None  # type: ignore[assignment]
        return yamlio.locate(text, pointer)
    finally:
        quicklocate.locator = quick  # type: ignore[assignment]


def _located_alike(text: str) -> int:
    data = quickyaml.read(text)
    if data is quickyaml.DECLINE:
        return 0
    n = 0
    for pointer in list(_pointers(data))[::3]:  # a third of them: ruamel.yaml reads the text again for each
        quick = quicklocate.locate(text, pointer)
        if quick is not None:
            assert quick == _ruamel_locate(text, pointer), (text, pointer)
            n += 1
    return n


def test_findings_are_located_where_ruamel_places_them(generated: Path) -> None:  # noqa: F811
    texts = {**_store_texts(REPO), **dict(list(_store_texts(generated).items())[::10])}
    assert sum(_located_alike(text) for text in texts.values()) > 1000


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_key, _value, min_size=1, max_size=6))
def test_findings_in_documents_twoku_writes_are_located_alike(data: dict[str, Any]) -> None:
    _located_alike(dump(data))
