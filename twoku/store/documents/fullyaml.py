"""The full YAML loader: libyaml through PyYAML, for the files store.documents.quickyaml declines.

It reads YAML 1.2's core schema as ruamel.yaml does, refuses duplicate keys, anchors and aliases, and
says exactly what is wrong with a file it cannot read (store/documents/yamlio.py's YamlProblem).  Imported only
when a file needs it: nearly every store file is read by quickyaml, and PyYAML takes 10 ms to import.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any, ClassVar

import yaml

from twoku.store.documents.yamlio import YamlProblem, check_shape, check_text

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML wheels ship libyaml
    _Base = yaml.SafeLoader


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
        from twoku.store.documents.quickyaml import int_of  # one definition for both readers

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


def load_text(text: str) -> Any:
    check_text(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            data = _quick(loader, node, set())
            check_shape(data)
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
            "删除该字符：数据中除换行和制表符外不应有控制字符",
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
    check_shape(data)
    return data
