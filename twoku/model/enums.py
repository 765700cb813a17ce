"""The domain vocabularies, defined once.

Every list a schema, a check, a template or a renderer needs comes from here:
the schemas in ``schema/`` are generated from these tables (``scripts/gen_schemas.py``)
and a test keeps them in step.  Values are the Chinese terms bureau staff use;
where a value also names a folder it carries an ASCII slug, so paths survive GBK
shells and git's path quoting (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 2  # the structure version of store files (twoku.yaml schema_version); model/schemas.py


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: its Chinese label, an ASCII slug, a short gloss."""

    label: str
    slug: str
    gloss: str = ""


# 第七条: 知识库由法律法规、政策规范、医药学知识、医保信息业务编码、管理规范等构成。
KNOWLEDGE_CATEGORIES: tuple[Term, ...] = (
    Term("法律法规", "laws", "法律、行政法规、部门规章与地方性法规"),
    Term("政策规范", "policies", "规范性文件、目录、技术规范与标准"),
    Term("医药学知识", "medical", "药品说明书、诊疗规范、临床路径等医学与药学知识"),
    Term("医保信息业务编码", "codes", "国家医保信息业务编码标准及其代码表"),
    Term("管理规范", "management", "经办、协议管理、结算清单填写等管理规范"),
)


@dataclass(frozen=True)
class RuleClass:
    """A 二级 class of the national rule framework and its place in the code."""

    label: str
    slug: str
    group: str  # 一级 class
    code: str  # 一级 digit + 二级 two digits, as in GZ10000<code>…


# 第八条 and the national rule framework 1.0: 3 一级 classes, 11 二级 classes.
RULE_GROUPS: tuple[str, ...] = ("政策类", "管理类", "医疗类")
RULE_CATEGORIES: tuple[RuleClass, ...] = (
    RuleClass("药品政策限定类", "drug-policy", "政策类", "101"),
    RuleClass("医疗服务项目政策限定类", "service-policy", "政策类", "102"),
    RuleClass("医用耗材政策限定类", "consumable-policy", "政策类", "103"),
    RuleClass("信息数据监管类", "data-supervision", "管理类", "201"),
    RuleClass("药品监管类", "drug-supervision", "管理类", "202"),
    RuleClass("医用耗材监管类", "consumable-supervision", "管理类", "203"),
    RuleClass("行为主体监管类", "actor-supervision", "管理类", "204"),
    RuleClass("统计指标监测类", "indicator-monitoring", "管理类", "205"),
    RuleClass("药品合理使用类", "drug-rational-use", "医疗类", "301"),
    RuleClass("医疗服务项目合理使用类", "service-rational-use", "医疗类", "302"),
    RuleClass("医用耗材合理使用类", "consumable-rational-use", "医疗类", "303"),
)

# 第十九条: the uses of the libraries by 经办机构, 行政部门 and 定点医药机构 (a rule's ``uses``; in schema 1
# they were its ``scenarios``, a key that now holds the 就医场景 below).
USES: tuple[str, ...] = (
    "事前提醒",
    "事中审核",
    "支付审核",
    "协议考核",
    "稽核",
    "行政监管",
    "行政执法",
    "机构内部管理",
)

# 就医场景 (a rule's ``scenarios`` since schema 2): where the claim arises, as the published rule books say.
CARE_SETTINGS: tuple[str, ...] = ("门诊", "急诊", "住院", "购药", "互联网诊疗", "异地就医")

# 时间区间 (a rule's ``period.unit``): the window a rule judges over.  A count of days, months or years
# takes a ``length``; the others are windows of their own (one line, one day, one visit, one stay).
PERIOD_UNITS: tuple[str, ...] = ("明细", "日", "就诊", "住院", "天数", "月", "年")
PERIOD_COUNTED: tuple[str, ...] = ("天数", "月", "年")

# 医疗机构类型 (a rule's ``institutions.types``); the levels are the claim model's INSTITUTION_LEVELS.
INSTITUTION_TYPES: tuple[str, ...] = (
    "医院",
    "基层医疗卫生机构",
    "专科疾病防治机构",
    "妇幼保健机构",
    "互联网医院",
    "定点零售药店",
    "其他",
)

# 监管对象 (a rule's ``supervised``): whose conduct the rule judges.
SUPERVISED: tuple[str, ...] = ("定点医疗机构", "定点零售药店", "医保医师", "参保人")

STAGES: tuple[str, ...] = ("事前", "事中", "事后")

# 第三条: 规则库 … 判断等级; the published books use 明确违规 / 可疑.
LEVELS: tuple[str, ...] = ("明确违规", "可疑")

# Lifecycle of a rule or knowledge item (DESIGN.md).
STATUSES: tuple[str, ...] = ("草稿", "征求意见", "已论证", "生效", "废弃")
ACTIVE = "生效"
DEPRECATED = "废弃"

# 第十一条: the cases argumentation must concentrate on.
FOCUS: tuple[Term, ...] = (
    Term("专业性强", "complex-clinical", "涉及专业性强、操作复杂的医学诊疗和临床路径知识与规则"),
    Term("存在争议", "disputed", "可能存在争议的规则"),
    Term("阈值复杂", "complex-threshold", "较为复杂的规则阈值设定"),
    Term("其他重点", "other", "其他需要专家重点论证的情形"),
)

# 第九条: 论证形式包括学术论证、业务论证、行业论证。
ARGUMENTATION_KINDS: tuple[str, ...] = ("学术论证", "业务论证", "行业论证")
CONCLUSIONS: tuple[str, ...] = ("通过", "修改后通过", "不通过")

# 第十条: who takes part in each kind, by professional field and by kind of unit.
FIELDS: tuple[str, ...] = (
    "医保管理",
    "经办",
    "医疗卫生",
    "临床医学",
    "药学",
    "中医药",
    "卫生健康管理",
    "法律",
    "信息技术",
    "其他",
)
AFFILIATION_TYPES: tuple[str, ...] = (
    "医保行政部门",
    "医保经办机构",
    "学会协会",
    "高等院校",
    "科研院所",
    "卫生健康部门",
    "中医药管理部门",
    "定点医药机构",
    "第三方技术信息服务机构",
    "其他",
)

# 第十三条 to 第十六条: two kinds of adjustment.
ADJUSTMENT_KINDS: tuple[Term, ...] = (
    Term("年度调整", "annual", "原则上每年组织一次（第十四条）"),
    Term("即时调整", "instant", "依据变化时启动，不晚于新依据执行之日完成（第十五、十六条）"),
)
ADJUSTMENT_STATUSES: tuple[str, ...] = ("进行中", "已完成")
# 第十五条: what makes an instant adjustment necessary.
INSTANT_TRIGGERS: tuple[str, ...] = ("法律法规政策调整", "技术更新升级", "其他")

# The audiences of 第十二条, from the most to the least restricted.
DISCLOSURES: tuple[str, ...] = ("internal", "institutions", "society")


def labels(terms: tuple[Term, ...] | tuple[RuleClass, ...]) -> list[str]:
    return [t.label for t in terms]


def slug_of(terms: tuple[Term, ...] | tuple[RuleClass, ...], label: str) -> str | None:
    for term in terms:
        if term.label == label:
            return term.slug
    return None


def rule_class(label: str) -> RuleClass | None:
    for rc in RULE_CATEGORIES:
        if rc.label == label:
            return rc
    return None
