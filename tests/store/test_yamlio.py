"""The fast reader reads YAML exactly as ruamel.yaml's round-trip loader does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from twoku.store.documents import fullyaml, yamlio
from twoku.store.files import store_paths

REPO = Path(__file__).resolve().parents[2]


def _plain(value: object) -> object:
    """ruamel's round-trip types (CommentedMap, ScalarFloat …) as plain Python."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(*value.timetuple()[:6], value.microsecond)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    return str(value)


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(_plain(value)).__name__


@pytest.mark.parametrize(
    "text",
    [
        "a: 2021-05-01\nb: '2021-05-01'\n",
        "yes: yes\non: off\nn: no\n",
        "a: 010\nb: 0o17\nc: 0x1F\nd: 1_000\ne: -7\n",
        "a: 1.5\nb: .inf\nc: 1e3\nd: 14.0\n",
        "a: ~\nb: null\nc:\nd: true\ne: False\n",
        "a: 2021-05-01T10:00:00\nb: 12:30\n",
        "a: |\n  多行\n  文字\nb: >\n  折叠\n  文字\n",
        "a: '＃全角'\nb: \"转义\\t\"\n",
    ],
)
def test_same_data_and_types_as_ruamel(text: str) -> None:
    fast, _ = yamlio.load(text.encode("utf-8"))
    rt = YAML(typ="rt").load(text)
    assert fast == _plain(rt)
    assert _types(fast) == _types(rt)


def test_every_shipped_file_reads_as_ruamel_reads_it() -> None:
    paths = store_paths(REPO)
    assert len(paths) > 50, "the shipped store should be read here"
    for path in paths:
        raw = (REPO / path).read_bytes()
        fast, _ = yamlio.load(raw)
        rt = YAML(typ="rt").load(raw.decode("utf-8"))
        assert fast == _plain(rt), path
        assert _types(fast) == _types(rt), path


def test_duplicate_keys_are_refused_as_ruamel_refuses_them() -> None:
    from ruamel.yaml.constructor import DuplicateKeyError

    text = "a: 1\nb: 2\na: 3\n"
    with pytest.raises(yamlio.YamlProblem) as problem:
        yamlio.load(text.encode())
    assert (problem.value.code, problem.value.line) == ("TK102", 3)
    with pytest.raises(DuplicateKeyError):
        YAML(typ="rt").load(text)


def test_alias_bomb_is_refused_without_expanding() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    with pytest.raises(yamlio.YamlProblem) as problem:
        yamlio.load("\n".join(lines).encode())
    assert problem.value.code == "TK107"


def test_oversized_file_is_refused_before_parsing() -> None:
    raw = b"a: " + b"x" * (yamlio.MAX_BYTES + 1)
    with pytest.raises(yamlio.YamlProblem) as problem:
        yamlio.load(raw)
    assert problem.value.code == "TK107"


@pytest.mark.parametrize(
    ("pointer", "where"),
    [(("b",), (2, 1)), (("c", 1), (5, 5)), (("c", 1, "d"), (5, 5)), (("missing",), (1, 1)), (("c", 0, "d"), (4, 5))],
)
def test_locate_points_at_the_line_of_a_value(pointer: tuple, where: tuple[int, int]) -> None:
    text = "a: 1\nb: 2\nc:\n  - d: 3\n  - d: 4\n"
    assert yamlio.locate(text, pointer) == where


def test_one_locator_places_every_pointer_as_locate_does() -> None:
    # A plain text (quickyaml's rows), a flow list inside it (ruamel places its items), and a text only
    # ruamel reads (an anchor): one reading each, the same places as one locate per pointer.
    texts = ["a: 1\nb: 2\nc:\n  - d: 3\n  - d: 4\n", "a: [x, y]\nb:\n  c: 1\n", "a: &x 1\nb: *x\nc:\n  - 5\n"]
    pointers = [("a",), ("a", 1), ("b",), ("b", "c"), ("c", 0), ("c", 1, "d"), ("missing",), ()]
    for text in texts:
        where = yamlio.locator(text)
        assert [where(p) for p in pointers] == [yamlio.locate(text, p) for p in pointers]
    assert yamlio.locator("a: [x, y]\n")(("a", 1)) == (1, 8)  # an item of a flow list, within its line


def test_exclusive_write_never_overwrites(tmp_path: Path) -> None:
    from twoku.store.documents.edit import atomic_write

    target = tmp_path / "argumentation" / "CN-A-0001.yaml"
    atomic_write(target, b"id: CN-A-0001\n", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"id: other\n", exclusive=True)
    assert target.read_bytes() == b"id: CN-A-0001\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["CN-A-0001.yaml"]  # no temporary left


def _outcome(text: str) -> object:
    try:
        data, bom = yamlio.load(text.encode("utf-8"))
    except yamlio.YamlProblem as problem:
        return ("problem", problem.code, problem.message, problem.line, problem.column)
    return ("data", data, _types(data), bom)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!str 2021-05-01\nb: !!int '7'\nc: !!float 1\n",
        "1: a\n2021-05-01: b\ntrue: c\n~: d\n1.5: e\n",
        "1: a\ntrue: b\n",
        "a: 1\na: 2\n",
        "? [a, b]\n: c\n",
        "a: &x [1, 2]\nb: *x\n",
        "a: !custom 1\n",
        "<<: {a: 1}\nb: 2\n",
        "a: 2021-02-30\n",
        "- a\n- {b: [c, {d: e}]}\n",
        "a: " + "[" * 50 + "]" * 50 + "\n",
        "--- a\n--- b\n",
    ],
)
def test_the_quick_constructor_reads_or_refuses_as_the_full_loader(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    quick = _outcome(text)

    def doubt(*_: object) -> object:
        raise fullyaml._Doubt

    monkeypatch.setattr(fullyaml, "_quick", doubt)
    assert quick == _outcome(text)
