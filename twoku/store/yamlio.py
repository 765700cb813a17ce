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
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from twoku.model.findings import Pointer

MAX_BYTES = 5 * 1024 * 1024  # a rule is ~40 lines; 5 MB is a mistake or an attack
MAX_DEPTH = 40
MAX_NODES = 200_000

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML wheels ship libyaml
    _Base = yaml.SafeLoader


@dataclass(eq=False)  # not frozen: Python sets __traceback__ and __cause__ on exceptions
class YamlProblem(Exception):
    """A file that cannot be read as twoku YAML: what, where, and what to do."""

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """CSafeLoader with YAML 1.2 core resolvers, no duplicate keys, no aliases."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise YamlProblem(
                "TK107",
                "不允许使用锚点和别名（& 与 *）",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "把被引用的内容直接写出来；twoku 文件不使用锚点和别名",
            )
        return super().construct_object(node, deep)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool, dt.date)) and key is not None:
                raise YamlProblem(
                    "TK101", "映射的键必须是简单值", key_node.start_mark.line + 1, key_node.start_mark.column + 1
                )
            if key in seen:
                first = seen[key]
                raise YamlProblem(
                    "TK102",
                    f"重复的键 “{key}”（第 {first.start_mark.line + 1} 行已出现）",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    "删除或合并其中一处；YAML 中后出现的值会悄悄覆盖前面的值",
                )
            seen[key] = key_node
        # Keys were constructed above; constructing them again would look like an alias.
        for key_node in seen.values():
            self.constructed_objects.pop(key_node, None)
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: Any) -> int:
        from twoku.store.quickyaml import int_of  # one definition for both readers

        return int_of(str(self.construct_scalar(node)))

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise YamlProblem(
                "TK101",
                f"“{node.value}” 不是有效日期（{exc}）",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "日期写作 YYYY-MM-DD，且须为真实存在的日期",
            ) from None


# The YAML 1.2 core schema as ruamel.yaml resolves it (ruamel/yaml/resolver.py).
_RESOLVERS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
)
for _tag, _regexp, _first in _RESOLVERS:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp, re.X), list(_first))
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

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


def _check_text(text: str) -> None:
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


def _check_shape(data: Any) -> None:
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


class _Doubt(Exception):
    """The quick constructor met something it leaves to the full loader."""


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_KEY_TYPES = (str, int, float, bool, dt.date)
_INTERN_UP_TO = 24
_intern = sys.intern


def _quick(loader: Any, node: Any, seen: set[int]) -> Any:
    """Plain data from a composed node, as _Loader would construct it, for the common shapes only.

    PyYAML's generic constructor costs about as much as parsing; twoku files are maps,
    lists and core-schema scalars, which this builds directly.  Anything else (an alias,
    another tag, an odd key, a duplicate) raises _Doubt and the file is read again by
    _Loader, which explains the problem exactly as before.
    """
    if id(node) in seen:
        raise _Doubt
    seen.add(id(node))
    tag = node.tag
    if tag == _STR:
        if type(node) is not yaml.ScalarNode:
            raise _Doubt
        value = node.value
        # Short strings (keys, statuses, categories) recur in every file: one shared copy each
        # keeps 55,000 files' data small in memory and in the cache.
        return _intern(value) if len(value) <= _INTERN_UP_TO else value
    if tag == _MAP and type(node) is yaml.MappingNode:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _quick(loader, key_node, seen)
            if key is not None and not isinstance(key, _KEY_TYPES):
                raise _Doubt
            if key in out:
                raise _Doubt
            out[key] = _quick(loader, value_node, seen)
        return out
    if tag == _SEQ and type(node) is yaml.SequenceNode:
        return [_quick(loader, item, seen) for item in node.value]
    if tag in _SCALARS and type(node) is yaml.ScalarNode:
        return loader.construct_object(node)
    raise _Doubt


def load_json(raw: bytes) -> tuple[Any, bool]:
    """Parse one file to its data as JSON sees it (dates as ISO text, keys as strings); returns
    (data, had_bom).  Raises YamlProblem for unreadable input.

    Plain block YAML, nearly every store file, is read by store.quickyaml; anything else (and
    every file with a problem) by the full loader, which gives the same data or the exact error.
    """
    from twoku.store import quickyaml

    text, bom = decode(raw)
    data = quickyaml.read(text)
    if data is quickyaml.DECLINE:
        data = to_json(_load_text(text))
    return data, bom


def load(raw: bytes) -> tuple[Any, bool]:
    """Parse one file; returns (data, had_bom).  Raises YamlProblem for unreadable input."""
    text, bom = decode(raw)
    return _load_text(text), bom


def _load_text(text: str) -> Any:
    _check_text(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            data = _quick(loader, node, set())
            _check_shape(data)
            return data
    except Exception:  # any doubt at all: the full loader decides, with its exact messages
        pass
    finally:
        loader.dispose()
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "语法错误"
        if exc.context and exc.context_mark and exc.problem_mark:
            what += f"（{exc.context}，始于第 {exc.context_mark.line + 1} 行）"
        raise YamlProblem(
            "TK101",
            f"YAML 语法错误：{what}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            "检查该行及上一行的缩进、冒号后的空格和引号是否成对",
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlProblem(
            "TK101",
            f"文件中有 YAML 不允许的控制字符（U+{exc.character:04X}）",
            line,
            column,
            "删除该字符；需要时在双引号字符串中用转义写出",
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem("TK101", f"YAML 语法错误：{exc}", 1, 1) from None
    except (ValueError, OverflowError) as exc:
        raise YamlProblem(
            "TK101", f"无法解析的取值：{exc}", None, None, "日期写作 YYYY-MM-DD 且须为真实日期；其他文字请加引号"
        ) from None
    except RecursionError:
        raise YamlProblem("TK107", "嵌套过深", 1, 1) from None
    finally:
        loader.dispose()
    _check_shape(data)
    return data


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
    is located by store.quickyaml, anything else by ruamel.yaml's round-trip loader;
    a test compares both on every pointer of the shipped and generated stores.
    """
    return locator(text)(pointer)


def locator(text: str) -> Callable[[Pointer], tuple[int, int]]:
    """locate() for many pointers of one text, which is read once."""
    from twoku.store import quickyaml

    quick = quickyaml.locator(text)
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
