"""TK2xx: a file's content against the JSON Schema of its kind."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from twoku.checks.registry import declare, finding
from twoku.model.findings import Finding
from twoku.model.ids import KIND_LABELS

declare(
    "TK201",
    "schema",
    """文件内容不符合其类型的 JSON Schema（schema/ 目录）。

    缺少必填字段、未知字段、取值不在枚举中、格式不对（日期、编号、编码规则）……
    坏：``level: 违规``      好：``level: 明确违规``
""",
)
declare("TK202", "unknown-place", """YAML 文件不在任何条目类型对应的位置，无法确定按哪种 schema 检查。""")
declare(
    "TK203",
    "old-schema",
    """库或文件按旧的结构版本书写：twoku.yaml 的 schema_version 低于本 twoku 的结构版本，
    或结构版本 2 的库中有按结构版本 1 书写的规则、本地化（scenarios 写的是第十九条的应用场景）。

    twoku 不按新含义误读旧文件：twoku migrate 把它们改写为新结构（一次提交，摘要不变）。
    坏：``scenarios: [支付审核, 稽核]``（结构版本 1）      好：``uses: [支付审核, 稽核]``
""",
)

OLD_SCHEMA_HINT = "运行 twoku migrate（先用 --dry-run 查看将改写哪些文件）"


def old_shape(path: str, data: Any) -> Finding:
    """TK203 for a rule or override written for schema 1, at its ``scenarios``."""
    item = data.get("id") if isinstance(data.get("id"), str) else None
    return finding(
        "TK203",
        "按结构版本 1 书写：scenarios 写的是第十九条的应用场景，结构版本 2 写作 uses（scenarios 现为就医场景）",
        path,
        ("scenarios",),
        item,
        OLD_SCHEMA_HINT,
    )


_TYPES = {
    "string": "文字",
    "integer": "整数",
    "number": "数值",
    "boolean": "布尔值（true/false）",
    "array": "列表",
    "object": "映射（键: 值）",
    "null": "空值",
}


def _type_names(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return "或".join(_TYPES.get(n, str(n)) for n in names)


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _title(schema: Any) -> str:
    return f"（{schema['title']}）" if isinstance(schema, dict) and "title" in schema else ""


Problem = tuple[tuple[str | int, ...], str, str | None]


def problems(errors: Iterable[Any]) -> list[Problem]:
    """(pointer, message, hint) for each problem the jsonschema errors (in file order) tell of: the fields
    missing from one mapping in one problem that names all of them (jsonschema gives an error per field, each
    with the whole list), an unknown field in one problem each (each has its own line)."""
    out: list[Problem] = []
    missing: dict[tuple[str | int, ...], tuple[int, Any, list[str]]] = {}  # pointer → (its place, schema, names)
    for error in errors:
        pointer = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            if pointer not in missing:
                missing[pointer] = (len(out), error.schema, [])
                out.append((pointer, "", None))  # said below, once every name is known
            names = missing[pointer][2]
            names += [n for n in error.validator_value if n not in error.instance and n not in names]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            hint = ("可用字段：" + "、".join(allowed)) if allowed else None
            out += [
                ((*pointer, name), f"未知字段 “{_show(name)}”（拼写错误？）", hint)
                for name in sorted(set(error.instance) - set(allowed), key=str)
            ]
        else:
            out.append(describe(error))
    for pointer, (at, schema, names) in missing.items():
        subs = [schema.get("properties", {}).get(name, {}) for name in names]
        listed = "、".join(f"“{name}”{_title(sub)}" for name, sub in zip(names, subs, strict=True))
        notes = [
            f"{name}：{sub['description']}" for name, sub in zip(names, subs, strict=True) if sub.get("description")
        ]
        hint = (subs[0].get("description") if len(names) == 1 else "；".join(notes)) or None
        out[at] = (
            pointer,
            f"缺少必填字段 {listed}" if len(names) == 1 else f"缺少 {len(names)} 个必填字段：{listed}",
            hint,
        )
    return out


def describe(error: Any) -> Problem:
    """(pointer, message, hint) in the author's words for one jsonschema error."""
    pointer = tuple(error.absolute_path)
    kind, value, schema = error.validator, error.instance, error.schema
    where = f"“{pointer[-1]}”{_title(schema)}" if pointer else "文件"
    if kind == "required":
        missing = [name for name in error.validator_value if name not in value]
        name = missing[0] if missing else "?"
        sub = schema.get("properties", {}).get(name, {})
        return pointer, f"缺少必填字段 “{name}”{_title(sub)}", sub.get("description")
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        name = extra[0] if extra else "?"
        hint = ("可用字段：" + "、".join(allowed)) if allowed else None
        return (*pointer, name), f"未知字段 “{name}”（拼写错误？）", hint
    if kind == "enum":
        options = "、".join(str(v) for v in error.validator_value)
        return pointer, f"{where}的取值 “{_show(value)}” 不在允许范围内", f"可选：{options}"
    if kind == "type":
        return pointer, f"{where}应为{_type_names(error.validator_value)}，实为 “{_show(value)}”", None
    if kind == "pattern":
        return (
            pointer,
            f"{where}的取值 “{_show(value)}” 格式不对",
            (schema.get("description") or f"应符合 {error.validator_value}"),
        )
    if kind == "format":
        if error.validator_value == "date":
            return pointer, f"{where}的取值 “{_show(value)}” 不是有效日期", "日期写作 YYYY-MM-DD，如 2024-01-01"
        return pointer, f"{where}的取值 “{_show(value)}” 不是有效的 {error.validator_value}", None
    if kind in ("minItems", "minLength"):
        return pointer, f"{where}不能为空", schema.get("description")
    if kind == "uniqueItems":
        return pointer, f"{where}中有重复项", "删除重复的一项"
    if kind == "not" and isinstance(schema, dict) and schema.get("description"):
        return pointer, f"{where}：{schema['description']}", None
    if kind == "const":
        return pointer, f"{where}应为 {error.validator_value}", None
    if kind == "propertyNames":
        return pointer, f"{where}中的名称 “{_show(value)}” 格式不对", "参数名用英文小写字母、数字和下划线，如 max_days"
    return pointer, f"{where}：{error.message}", None


def schema_findings(kind: str, path: str, data: Any, validator: Any) -> Iterator[Finding]:
    """Every schema problem of one file (all of them, not the first)."""
    item = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    if not isinstance(data, dict):
        label = KIND_LABELS.get(kind, kind)
        yield finding(
            "TK201",
            f"{label}文件的顶层应为映射（键: 值），实为{_type_names(_json_type(data))}",
            path,
            (),
            item,
            "文件应以 id: 等键值对开始",
        )
        return
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    for pointer, message, hint in problems(errors):
        yield finding("TK201", message, path, pointer, item, hint)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"
