"""Reading and locating YAML.

Reads go through a fast loader: libyaml's C parser (PyYAML ``CSafeLoader``) with the
YAML 1.2 core schema resolvers that ruamel.yaml uses, duplicate keys refused and
anchors/aliases refused (an alias bomb cannot expand).  ruamel.yaml's round-trip
loader is used only to find the line of a finding and to edit files; a conformance
test proves both read every shipped file to the same data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twoku.model.findings import Pointer

MAX_BYTES = 5 * 1024 * 1024  # a rule is ~40 lines; 5 MB is a mistake or an attack
MAX_DEPTH = 40
MAX_NODES = 200_000


@dataclass(eq=False)  # not frozen: Python sets __traceback__ and __cause__ on exceptions
class YamlProblem(Exception):
    """A file that cannot be read as twoku YAML: what, where, and what to do."""

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None


_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.M)


def decode(raw: bytes) -> tuple[str, bool]:
    """The text of a file and whether it carried a UTF-8 BOM; YamlProblem if not UTF-8."""
    if len(raw) > MAX_BYTES:
        raise YamlProblem(
            "TK107",
            f"文件过大（{len(raw) // 1024} KiB，上限 {MAX_BYTES // 1024 // 1024} MiB）",
            1,
            1,
            "一个条目一个文件；代码表请放在 CSV 中",
        )
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            "TK104",
            "文件不是 UTF-8 编码",
            line,
            column,
            "用 UTF-8（不带 BOM）重新保存；从 GBK 转换：iconv -f GBK -t UTF-8",
        ) from None
    return (text[1:] if bom else text), bom


def check_text(text: str) -> None:
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise YamlProblem("TK106", "文件为空", 1, 1, "删除该文件，或用 twoku new 生成完整的条目")
    conflict = _CONFLICT.search(text)
    if conflict:
        line = text.count("\n", 0, conflict.start()) + 1
        raise YamlProblem(
            "TK108", "文件中有未解决的合并冲突标记", line, 1, "解决冲突后删除 <<<<<<< ======= >>>>>>> 标记行"
        )
    for number, row in enumerate(text.splitlines(), 1):
        indent = row[: len(row) - len(row.lstrip(" \t"))]
        if "\t" in indent:
            raise YamlProblem(
                "TK103",
                "用制表符（Tab）缩进",
                number,
                indent.index("\t") + 1,
                "YAML 只能用空格缩进；把 Tab 换成两个空格",
            )


def check_shape(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            raise YamlProblem(
                "TK107",
                f"嵌套过深或节点过多（上限 {MAX_DEPTH} 层、{MAX_NODES} 个节点）",
                1,
                1,
                "检查缩进；条目不需要这么深的结构",
            )
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def load_json(raw: bytes) -> tuple[Any, bool]:
    """Parse one file to its data as JSON sees it (dates as ISO text, keys as strings); returns
    (data, had_bom).  Raises YamlProblem for unreadable input.

    Plain block YAML, nearly every store file, is read by store.documents.quickyaml; anything else (and
    every file with a problem) by the full loader, which gives the same data or the exact error.
    """
    from twoku.store.documents import quickyaml

    text, bom = decode(raw)
    data = quickyaml.read(text)
    if data is quickyaml.DECLINE:
        from twoku.store.documents.fullyaml import load_text  # PyYAML: imported for the files quickyaml declines

        data = to_json(load_text(text))
    return data, bom


def load(raw: bytes) -> tuple[Any, bool]:
    """Parse one file; returns (data, had_bom).  Raises YamlProblem for unreadable input."""
    from twoku.store.documents.fullyaml import load_text

    text, bom = decode(raw)
    return load_text(text), bom


def to_json(value: Any) -> Any:
    """The data as JSON sees it: dates as ISO strings, keys as strings."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def locate(text: str, pointer: Pointer) -> tuple[int, int]:
    """1-based (line, column) of ``pointer`` in a YAML text, as near as it resolves.

    For a key that exists, the position of its value's key; otherwise the position of
    the deepest container that exists (where a missing field belongs).  Plain block YAML
    is located by store.documents.quickyaml, anything else by ruamel.yaml's round-trip loader;
    a test compares both on every pointer of the shipped and generated stores.
    """
    return locator(text)(pointer)


def locator(text: str) -> Callable[[Pointer], tuple[int, int]]:
    """locate() for many pointers of one text, which is read once."""
    from twoku.store.documents import quicklocate

    quick = quicklocate.locator(text)
    node: list[Any] = []  # ruamel.yaml's reading, made when first needed

    def located(pointer: Pointer) -> tuple[int, int]:
        found = quick(tuple(pointer)) if quick is not None else None
        if found is not None:
            return found
        if not node:
            node.append(_round_trip(text))
        return _located(node[0], pointer)

    return located


_UNREADABLE = object()


def _round_trip(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="rt").load(text)
    except (YAMLError, ValueError):
        return _UNREADABLE


def _located(node: Any, pointer: Pointer) -> tuple[int, int]:
    if node is _UNREADABLE:
        return 1, 1
    line, column = 0, 0
    for step in pointer:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(step, int) and isinstance(node, list) and step < len(node):
                line, column = lc.item(step) if lc else (line, column)
                node = node[step]
            elif isinstance(node, dict) and step in node:
                line, column = lc.key(step) if lc else (line, column)
                node = node[step]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line + 1, column + 1
