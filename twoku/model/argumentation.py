"""Argumentation (论证, 第九条 to 第十一条): who may take part, which kinds a rule needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twoku.model import enums

# 第十条: 学术论证 — 行业学（协）会、科研院所等单位的医保管理、医疗卫生、法律、信息技术等专业领域的专家；
# 业务论证 — 医保管理、经办业务人员；行业论证 — 卫生健康、中医药等部门以及医药机构相关领域专家。
ELIGIBLE: dict[str, dict[str, frozenset[str] | None]] = {
    "学术论证": {
        "affiliation_type": frozenset({"学会协会", "高等院校", "科研院所"}),
        "field": frozenset({"医保管理", "医疗卫生", "临床医学", "药学", "中医药", "卫生健康管理", "法律", "信息技术"}),
    },
    "业务论证": {
        "affiliation_type": frozenset({"医保行政部门", "医保经办机构"}),
        "field": frozenset({"医保管理", "经办"}),
    },
    "行业论证": {
        "affiliation_type": frozenset({"卫生健康部门", "中医药管理部门", "定点医药机构"}),
        "field": None,  # 相关领域专家: any field
    },
}

DEFAULT_POLICY: dict[str, list[str]] = {
    "default": ["业务论证"],
    "focus": list(enums.ARGUMENTATION_KINDS),
}
PASSING = frozenset({"通过", "修改后通过"})


def participant_problem(kind: str, participant: Mapping[str, Any]) -> str | None:
    """Why a participant does not belong in an argumentation of ``kind`` (第十条)."""
    rule = ELIGIBLE.get(kind)
    if rule is None:
        return None
    for key, label in (("affiliation_type", "单位类型"), ("field", "专业领域")):
        allowed = rule[key]
        value = participant.get(key)
        if allowed is not None and value not in allowed:
            return f"{kind}的参加人员{label}应为 {'、'.join(sorted(allowed))} 之一，实为 “{value}”"
    return None


def required_kinds(rule: Mapping[str, Any], policy: Mapping[str, Any] | None) -> list[str]:
    """The kinds of argumentation a rule needs before it may be 生效."""
    merged = {**DEFAULT_POLICY, **(policy or {})}
    kinds = list(merged["default"])
    if rule.get("focus"):
        kinds += [k for k in merged["focus"] if k not in kinds]
    return [k for k in enums.ARGUMENTATION_KINDS if k in kinds]
