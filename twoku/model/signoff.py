"""Argumentation sign-offs as data: participants as typed on the command line, and the
state of each rule's required argumentation (第九条 to 第十一条).

Pure: parsing, inference and the plain results that ``ops/signoff.py`` returns and
``render/signoff.py`` draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twoku.model import enums
from twoku.model.library import Library

# 第十条 judges a participant by the kind of unit; most unit names say it in their last
# word (四川大学华西医院 is a hospital, 中国医院协会 a society), so the keyword that ends
# latest in the name wins, and the longer one on a tie (中国医学科学院 → 科学院, not 学院).
AFFILIATION_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("学会", "学会协会"),
    ("协会", "学会协会"),
    ("大学", "高等院校"),
    ("学院", "高等院校"),
    ("研究院", "科研院所"),
    ("研究所", "科研院所"),
    ("研究中心", "科研院所"),
    ("科学院", "科研院所"),
    ("医疗保障局", "医保行政部门"),
    ("医保局", "医保行政部门"),
    ("医保中心", "医保经办机构"),
    ("经办", "医保经办机构"),
    ("医疗保障事务", "医保经办机构"),
    ("卫生健康委", "卫生健康部门"),
    ("卫健委", "卫生健康部门"),
    ("中医药管理局", "中医药管理部门"),
    ("医院", "定点医药机构"),
    ("卫生院", "定点医药机构"),
    ("药店", "定点医药机构"),
    ("大药房", "定点医药机构"),
    ("诊所", "定点医药机构"),
)

PARTICIPANT_FORMAT = "姓名|单位|领域[|单位类型]"

# The state of one kind of argumentation for one rule.
CURRENT = "current"  # a passing record bound to the rule's present content
STALE = "stale"  # a record exists, but the rule changed since
REJECTED = "rejected"  # the record for the present content concluded 不通过
MISSING = "missing"  # no record of that kind
STATE_LABELS = {CURRENT: "现行", STALE: "已过时", REJECTED: "未通过", MISSING: "缺失"}


def stale_tables(lib: Library, subject: Mapping[str, Any]) -> list[str]:
    """The tables a record's subject was argued on (its ``tables``) whose content changed since, or are gone."""
    out = []
    for entry in subject.get("tables") or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            knowledge = lib.get(entry["id"], "knowledge")
            if knowledge is None or knowledge.digest != entry.get("digest"):
                out.append(entry["id"])
    return out


class ParticipantProblem(ValueError):
    """A --participant value that cannot become a participant entry."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def infer_affiliation_type(affiliation: str) -> str | None:
    """The 单位类型 a unit's name says, or None when it says none."""
    best: tuple[int, int, str] | None = None
    for keyword, kind in AFFILIATION_KEYWORDS:
        at = affiliation.rfind(keyword)
        if at < 0:
            continue
        rank = (at + len(keyword), len(keyword), kind)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def parse_participant(text: str) -> dict[str, str]:
    """``姓名|单位|领域[|单位类型]`` as a participant entry of a record."""
    parts = [p.strip() for p in text.replace("｜", "|").split("|")]
    if len(parts) not in (3, 4) or not all(parts):
        raise ParticipantProblem(f"参加人员 “{text}” 应写作 {PARTICIPANT_FORMAT}")
    name, affiliation, field_ = parts[:3]
    if field_ not in enums.FIELDS:
        raise ParticipantProblem(f"参加人员 “{name}” 的领域 “{field_}” 无效，可选：{'、'.join(enums.FIELDS)}")
    if len(parts) == 4:
        kind: str | None = parts[3]
        if kind not in enums.AFFILIATION_TYPES:
            raise ParticipantProblem(
                f"参加人员 “{name}” 的单位类型 “{kind}” 无效，可选：{'、'.join(enums.AFFILIATION_TYPES)}"
            )
    else:
        kind = infer_affiliation_type(affiliation)
        if kind is None:
            raise ParticipantProblem(
                f"无法从单位名称 “{affiliation}” 判断参加人员 “{name}” 的单位类型",
                f"作为第 4 部分写明单位类型：{name}|{affiliation}|{field_}|<{'/'.join(enums.AFFILIATION_TYPES)}>",
            )
    return {"name": name, "affiliation": affiliation, "affiliation_type": kind, "field": field_}


@dataclass(frozen=True)
class Recorded:
    """A record written (and committed) by ``signoff record``."""

    id: str
    path: str
    data: dict[str, Any]
    commit: str | None  # the commit's hexsha; None with --no-commit


@dataclass(frozen=True)
class KindState:
    """One kind of argumentation for one rule: its state and the records behind it."""

    kind: str
    required: bool
    state: str  # CURRENT | STALE | REJECTED | MISSING
    records: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # for STALE: what changed since, described
    history_found: bool = True  # for STALE: whether the argued version was found in git history


@dataclass(frozen=True)
class RuleSignoff:
    id: str
    name: str
    layer: str
    status: str | None
    focus: list[str]
    kinds: list[KindState]

    @property
    def ok(self) -> bool:
        """Every required kind has a current, passing record."""
        return all(k.state == CURRENT for k in self.kinds if k.required)

    @property
    def blocking(self) -> bool:
        """生效 without its required current records: what validate's TK603 reports."""
        return self.status == enums.ACTIVE and not self.ok


@dataclass(frozen=True)
class SignoffStatus:
    region: str
    region_name: str
    rules: list[RuleSignoff]
    illustrative: frozenset[str] = frozenset()  # the records marked ``illustrative``: listed as 示例


@dataclass(frozen=True)
class SubjectView:
    id: str
    title: str | None  # None when the subject no longer exists
    recorded: str
    current: str | None
    changes: list[str] = field(default_factory=list)
    stale_tables: list[str] = field(default_factory=list)  # the tables it was argued on that changed since

    @property
    def state(self) -> str:
        if self.current is None:
            return MISSING
        return CURRENT if self.current == self.recorded and not self.stale_tables else STALE


@dataclass(frozen=True)
class RecordView:
    id: str
    path: str
    data: dict[str, Any]
    subjects: list[SubjectView]
    problems: list[str]  # 第十条 problems of its participants

    @property
    def illustrative(self) -> bool:
        """A record showing what a record holds, not of a meeting held: shown as 示例 wherever it is listed."""
        return self.data.get("illustrative") is True
