"""Whether a localised parameter value lies within what the upper rule allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bounds_problem(spec: Mapping[str, Any], value: Any) -> str | None:
    """Why ``value`` may not replace the parameter ``spec``; None when it may."""
    allowed = spec.get("localisable")
    if not isinstance(allowed, Mapping):
        return "上级规则未允许本地化该参数"
    if "choices" in allowed:
        choices = allowed["choices"]
        if value not in choices:
            return f"取值 {value!r} 不在可选值 {choices} 之中"
        return None
    base = spec.get("value")
    if _number(base) != _number(value) or (not _number(base) and type(base) is not type(value)):
        return f"取值 {value!r} 与上级取值 {base!r} 类型不同"
    if _number(value):
        low, high = allowed.get("min"), allowed.get("max")
        if low is not None and value < low:
            return f"取值 {value} 低于下限 {low}"
        if high is not None and value > high:
            return f"取值 {value} 高于上限 {high}"
    return None


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def describe_bounds(spec: Mapping[str, Any]) -> str:
    allowed = spec.get("localisable")
    if not isinstance(allowed, Mapping):
        return "不可本地化"
    if "choices" in allowed:
        return "可选：" + "、".join(_word(c) for c in allowed["choices"])
    low, high = allowed.get("min"), allowed.get("max")
    if low is None and high is None:
        return "可改为任意同类取值"
    unit = spec.get("unit", "")
    return f"{'' if low is None else low}～{'' if high is None else high}{unit}"
