"""The JSON Schemas of every kind of store file, built from the domain vocabularies.

``scripts/gen_schemas.py`` writes them to ``schema/``; a test keeps the files and this
module in step, so the enums of ``model/enums.py`` are the one source of every list.
Each property has a Chinese ``title`` and a ``description`` (editors that read
``# yaml-language-server: $schema=`` show them) and an ``x-twoku-disclosure``
annotation: who may see the value when the library is published (第十二条).
"""

from __future__ import annotations

from typing import Any

from twoku.model import claim, condition_schema, enums, tables
from twoku.model.enums import SCHEMA_VERSION as SCHEMA_VERSION  # defined with the vocabularies: the cache reads it
from twoku.model.ids import ADJUSTMENT_ID_PATTERN

BASE_URI = "https://twoku.example.org/schema/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
FRAMEWORK_CODE_PATTERN = r"^(GZ|ZB)10000[123]0[1-5][0-9]{3}000$"
REGION_PATTERN = r"^(CN|[0-9]{6})$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
PARAM_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

Schema = dict[str, Any]
# Patterns spell digits [0-9]: Python's \d also matches full-width ０-９, ECMA-262's does not.

FILES: dict[str, str] = {
    "knowledge": "knowledge.schema.json",
    "rule": "rule.schema.json",
    "override": "override.schema.json",
    "argumentation": "argumentation.schema.json",
    "adjustment": "adjustment.schema.json",
    "config": "store.schema.json",
    "claim": "claim.schema.json",
}


def _p(title: str, description: str, disclosure: str = "society", **schema: Any) -> Schema:
    return {"title": title, "description": description, "x-twoku-disclosure": disclosure, **schema}


def _id(letter: str, what: str) -> Schema:
    return _p(
        "编号",
        f"{what}编号：<层级>-{letter}-<四位序号>。层级为 CN（国家）或所属地区的六位 GB/T 2260 代码，"
        f"如 CN-{letter}-0001、510000-{letter}-0001。文件路径由编号决定。",
        type="string",
        pattern=rf"^(CN|[0-9]{{6}})-{letter}-[0-9]{{4}}$",
    )


def _date(title: str, description: str, disclosure: str = "society") -> Schema:
    return _p(title, description, disclosure, type="string", format="date")


def _text(title: str, description: str, disclosure: str = "society", **extra: Any) -> Schema:
    return _p(title, description, disclosure, type="string", minLength=1, **extra)


def _enum(title: str, description: str, values: list[str], disclosure: str = "society") -> Schema:
    return _p(title, description, disclosure, type="string", enum=values)


def _enum_set(title: str, description: str, values: list[str], disclosure: str = "society", **extra: Any) -> Schema:
    return _p(
        title,
        description,
        disclosure,
        type="array",
        items={"type": "string", "enum": values},
        uniqueItems=True,
        **extra,
    )


def _status() -> Schema:
    return _enum(
        "状态",
        "生命周期：草稿 → 征求意见 → 已论证 → 生效 → 废弃。规则须具备所需且现行的论证记录方可生效；"
        "废弃时保留文件并填写 deprecated。",
        list(enums.STATUSES),
    )


def _basis() -> Schema:
    return _p(
        "依据",
        "所依据的知识条目及条款（第八条：规则库基于知识库产生）。只能引用本层级或上级的知识。",
        type="array",
        items={
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {
                "id": _p(
                    "知识编号",
                    "所引用知识条目的编号，如 CN-K-0003",
                    type="string",
                    pattern=r"^(CN|[0-9]{6})-K-[0-9]{4}$",
                ),
                "article": _text("条款", "所依据的条款或段落，如 第八十七条"),
            },
        },
    )


def _deprecated(replacement_letter: str) -> Schema:
    return _p(
        "废弃信息",
        "状态为废弃时必填：何时、为何废弃，由谁替代。历史不改写，文件保留。",
        type="object",
        additionalProperties=False,
        required=["date", "reason"],
        properties={
            "date": _date("废弃日期", "自该日起不再适用"),
            "reason": _text("废弃原因", "为何废弃，如 依据文件已被替代"),
            "replaced_by": _p(
                "替代条目",
                "替代本条目的编号（如有）",
                type="string",
                pattern=rf"^(CN|[0-9]{{6}})-{replacement_letter}-[0-9]{{4}}$",
            ),
        },
    )


def _notes() -> Schema:
    return _text("内部备注", "仅供内部使用的备注，不对外公开。", "internal")


def _obj(
    schema_id: str, title: str, description: str, required: list[str], properties: dict[str, Schema], **extra: Any
) -> Schema:
    return {
        "$schema": DRAFT,
        "$id": BASE_URI + schema_id,
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
        **extra,
    }


def knowledge_schema() -> Schema:
    return _obj(
        FILES["knowledge"],
        "知识条目",
        "知识库中的一条知识（第七条）：法律法规、政策规范、医药学知识、医保信息业务编码或管理规范。",
        ["id", "category", "title", "status"],
        {
            "id": _id("K", "知识"),
            "category": _enum("知识类别", "第七条所列五类之一", enums.labels(enums.KNOWLEDGE_CATEGORIES)),
            "title": _text("标题", "文件或知识的正式名称"),
            "issuer": _text("发布机关", "制定或发布机关，如 国家医疗保障局"),
            "doc_number": _text("文号", "发文字号，如 医保发〔2022〕12号；无法核实时不填"),
            "issued": _date("发布日期", "发布或通过日期"),
            "effective": _date("施行日期", "开始施行或适用的日期"),
            "expires": _date("失效日期", "不再适用的日期（如有）"),
            "status": _status(),
            "superseded_by": _p(
                "被替代为", "替代本条目的知识编号（如有）", type="string", pattern=r"^(CN|[0-9]{6})-K-[0-9]{4}$"
            ),
            "deprecated": _deprecated("K"),
            "summary": _text("摘要", "一两句话说明这条知识讲什么、规则如何使用它"),
            "articles": _p(
                "条款",
                "规则所依据的条款或段落原文",
                type="array",
                items={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["ref"],
                    "properties": {
                        "ref": _text("条款号", "如 第八十七条、说明书【用法用量】"),
                        "text": _text("原文", "条款或段落原文，照录不改；无法核实原文时不填"),
                        "gist": _text("要点", "用自己的话概括的要点（不是原文引用）"),
                    },
                },
            ),
            "facts": _p(
                "要点",
                "医药学知识等的结构化要点：名称到取值，如 适用性别: 男",
                type="object",
                additionalProperties={"type": ["string", "number", "integer", "boolean", "array"]},
            ),
            "pattern": _text("编码规则", "医保信息业务编码的正则表达式，如 ^H\\d{11}$", format="regex"),
            "table": _table(),
            "basis": _basis(),
            "source": _text("来源", "原文出处，如 发布机关网站栏目或公报期号"),
            "notes": _notes(),
        },
    )


_CSV_FILE = r"^[A-Za-z0-9._-]+\.csv$"


def _table() -> Schema:
    """A knowledge item's table (知识点明细, model/tables.py): the shorthand file name or the declaration."""
    column = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "type"],
        "properties": {
            "name": _text(
                "列名", "英文列名（小写字母、数字、下划线），CSV 表头可写列名或中文标题", pattern=PARAM_NAME_PATTERN
            ),
            "title": _text("中文标题", "列的中文标题，如 药品代码、限定性别"),
            "type": _enum(
                "类型",
                "text 文本、integer 整数、number 数值、date 日期（YYYY-MM-DD）、enum 枚举（values 列出取值）、"
                "code 某编码体系的代码（system，适用其 pattern）、code_prefix 代码前缀（如 ICD-10 类目）、"
                f"codes 以 {tables.LIST_SEPARATOR} 分隔的代码列表",
                list(tables.COLUMN_TYPES),
            ),
            "values": _p(
                "取值", "enum 列的可选取值", type="array", items={"type": "string", "minLength": 1}, minItems=1
            ),
            "system": _p(
                "编码体系",
                "code、code_prefix、codes 列所属的医保信息业务编码知识条目，如 CN-K-0030",
                type="string",
                pattern=r"^(CN|[0-9]{6})-K-[0-9]{4}$",
            ),
            "required": _p("必填", "该列不能为空（键列总是必填）", type="boolean"),
            "disclosure": _enum(
                "公开范围",
                "发布时该列给谁看：society 社会公众、institutions 仅定点医药机构、internal 不公开；缺省随条目",
                ["society", "institutions", "internal"],
            ),
        },
    }
    declared = {
        "type": "object",
        "additionalProperties": False,
        "required": ["file", "columns", "key"],
        "properties": {
            "file": _text("文件", "同目录下的 CSV 文件名（UTF-8，首行表头，每行一条，按键排序）", pattern=_CSV_FILE),
            "columns": _p("列", "表格各列的名称、中文标题和类型", type="array", items=column, minItems=1),
            "key": _p(
                "键",
                "唯一确定一行的列（一列或多列），如 [code] 或 [point, code]",
                type="array",
                items={"type": "string", "pattern": PARAM_NAME_PATTERN},
                minItems=1,
                uniqueItems=True,
            ),
            "lower": _p(
                "下级可否增删",
                "省、市本地化时可否增加行（add）、删除行（remove）；缺省均为否",
                "institutions",
                type="object",
                additionalProperties=False,
                properties={"add": {"type": "boolean"}, "remove": {"type": "boolean"}},
            ),
            "rows": _p("行数", "封存时的行数（twoku table seal 写入）", type="integer", minimum=0),
            "digest": _p(
                "内容摘要",
                "封存时各行的规范摘要（twoku table seal 写入）；表格内容改变而摘要未更新时 validate 报错",
                type="string",
                pattern=DIGEST_PATTERN,
            ),
        },
    }
    return _p(
        "知识点明细表",
        "同目录下的 CSV 表格：写文件名为旧式代码表（列 code,name,note），或写出完整声明（文件、列、键、摘要）",
        oneOf=[{"type": "string", "minLength": 1, "pattern": _CSV_FILE}, declared],
    )


def _reasoned_rows(title: str, description: str) -> Schema:
    """Rows an override adds to or removes from an upper table: each a mapping with its reason."""
    return _p(
        title, description, "institutions", type="array", minItems=1, items={"type": "object", "required": ["reason"]}
    )


def _parameter() -> Schema:
    value_types = ["string", "number", "integer", "boolean", "array"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "description"],
        "properties": {
            "value": _p("取值", "参数的建议值或取值", type=value_types),
            "unit": _text("单位", "取值的单位，如 天、岁、次、元、%"),
            "description": _text("说明", "参数的含义"),
            "localisable": _p(
                "可本地化范围",
                "下级可在此范围内调整取值：数值用 min/max，枚举用 choices；{} 表示可改为任意同类取值。"
                "缺省表示不可本地化。",
                "institutions",
                type="object",
                additionalProperties=False,
                properties={
                    "min": _p("下限", "可设定的最小值", type="number"),
                    "max": _p("上限", "可设定的最大值", type="number"),
                    "choices": _p("可选值", "可选取值列表", type="array", minItems=1),
                },
            ),
        },
    }


# What the rule's words say of its parameters (model/prose.py): the region's values, never a number written in.
_PROSE = (
    "。引用参数时写占位符 {{param:参数名}}（如 {{param:readmission_days}}），显示和公开时代入地区的生效取值"
    "及单位（如 10天；是否类参数为 是/否）；不要把参数的取值直接写成数字（TK409）"
)


def _period() -> Schema:
    counted = list(enums.PERIOD_COUNTED)
    schema = _p(
        "时间区间",
        f"规则据以判断的时间窗口：unit 为 {'、'.join(enums.PERIOD_UNITS)}；{'、'.join(counted)} 须写 length，"
        "如 同一住院期间 {unit: 住院}，30 天内 {unit: 天数, length: 30}；note 补充说明",
        type="object",
        additionalProperties=False,
        required=["unit"],
        properties={
            "unit": _enum(
                "区间单位", "明细、日、就诊、住院为一个自然区间；天数、月、年须写 length", list(enums.PERIOD_UNITS)
            ),
            "length": _p("区间长度", "天数、月或年的个数，如 30", type="integer", minimum=1),
            "note": _text("说明", "时间区间的补充说明，如 自出院之日起算"),
        },
    )
    schema["if"] = {"required": ["unit"], "properties": {"unit": {"enum": counted}}}
    schema["then"] = {"required": ["length"]}
    schema["else"] = {
        "not": {"required": ["length"]},
        "description": f"length 只用于 {'、'.join(counted)}：明细、日、就诊、住院本身就是一个区间",
    }
    return schema


def _rule_scope() -> dict[str, Schema]:
    """Where a rule applies, as the published rule books state it for every rule (issue 18)."""
    return {
        "scenarios": _enum_set(
            "就医场景",
            f"规则适用的就医场景：{'、'.join(enums.CARE_SETTINGS)}；不填表示未写明",
            list(enums.CARE_SETTINGS),
        ),
        "period": _period(),
        "institutions": _p(
            "医疗机构级别/类型",
            "规则适用的定点医药机构：levels 级别、types 类型；不填表示不限",
            type="object",
            additionalProperties=False,
            minProperties=1,
            properties={
                "levels": _enum_set("机构级别", "适用的机构级别", list(claim.INSTITUTION_LEVELS), minItems=1),
                "types": _enum_set("机构类型", "适用的机构类型", list(enums.INSTITUTION_TYPES), minItems=1),
            },
        ),
        "insurance_types": _enum_set(
            "参保险种", "规则适用的险种；不填表示不限", list(claim.INSURANCE_TYPES), minItems=1
        ),
        "supervised": _enum_set(
            "监管对象", f"规则判断谁的行为：{'、'.join(enums.SUPERVISED)}", list(enums.SUPERVISED), minItems=1
        ),
        "suggested_threshold": _text(
            "建议阈值", "规则书给出的建议阈值，如 同一住院期间不超过{{param:max_times}}次" + _PROSE, "institutions"
        ),
    }


def rule_schema() -> Schema:
    return _obj(
        FILES["rule"],
        "规则",
        "规则库中的一条规则（第三条、第八条）：名称、定义、逻辑、参数、应用场景、判断等级及具体违规情形，"
        "以及规则书给每条规则写明的就医场景、时间区间、医疗机构级别与类型、参保险种、监管对象和建议阈值。",
        ["id", "name", "category", "definition", "logic", "uses", "level", "violations", "basis", "status"],
        {
            "id": _id("R", "规则"),
            "name": _text("规则名称", "规则的名称，如 分解住院" + _PROSE),
            "category": _enum("规则分类", "国家规则框架的二级分类", enums.labels(enums.RULE_CATEGORIES)),
            "framework_code": _p(
                "框架编码",
                "国家智能监管规则框架编码（确知时才填），如 GZ10000204001000",
                type="string",
                pattern=FRAMEWORK_CODE_PATTERN,
            ),
            "definition": _text("定义", "规则监控的是什么行为" + _PROSE),
            "monitoring_point": _text("监控要点", "用平实语言写给定点医药机构的监控要点" + _PROSE),
            # 第十二条: 监控要点、标准 go to the institutions and may go to society; how a rule judges in
            # detail (logic, machine condition, test cases, argued focus, bounds for lower levels) only to the
            # institutions, who must be able to check a flagged claim against it (第二十条 申诉).
            "logic": _text("逻辑", "判断逻辑，审核人员能据以核对的清楚文字" + _PROSE, "institutions"),
            "condition": _p(
                "可执行条件",
                "与 logic 一致的机器条件，可编译为 SQL 在结算明细上运行（语言见 twoku/model/condition.py）",
                "institutions",
                **{"$ref": "#/$defs/condition"},
            ),
            "examples": {**condition_schema.examples_schema(), "x-twoku-disclosure": "institutions"},
            "parameters": _p(
                "参数",
                "阈值等参数：名称（英文小写加下划线）到 取值、单位、说明、可本地化范围",
                type="object",
                propertyNames={"pattern": PARAM_NAME_PATTERN},
                additionalProperties=_parameter(),
            ),
            "uses": _enum_set(
                "应用场景",
                "第十九条所列的应用场景（结构版本 1 中写作 scenarios）：" + "、".join(enums.USES),
                list(enums.USES),
                minItems=1,
            ),
            **_rule_scope(),
            "stages": _enum_set("监管环节", "事前、事中、事后", list(enums.STAGES)),
            "level": _enum("判断等级", "明确违规 或 可疑", list(enums.LEVELS)),
            "violations": _p(
                "具体违规情形",
                "能据以判断的具体违规情形" + _PROSE,
                type="array",
                minItems=1,
                items={"type": "string", "minLength": 1},
            ),
            "basis": {**_basis(), "minItems": 1},
            "focus": _enum_set(
                "论证重点", "第十一条所列论证重点情形（如有）", enums.labels(enums.FOCUS), disclosure="institutions"
            ),
            "status": _status(),
            "effective": _date("生效日期", "规则开始适用的日期"),
            "expires": _date("失效日期", "规则停止适用的日期（如有）"),
            "deprecated": _deprecated("R"),
            "notes": _notes(),
        },
        **{"$defs": condition_schema.schema_defs()},
    )


def override_schema() -> Schema:
    return _obj(
        FILES["override"],
        "本地化参数",
        "下级对上级规则的本地化：在上级给出的范围内调整参数、增加应用场景、就医场景或本地依据，从不修改上级文件。",
        ["id", "target", "base_digest", "reason", "status"],
        {
            "id": _id("O", "本地化"),
            "target": _p(
                "目标",
                "被本地化的上级规则编号，或带知识点明细表的上级知识编号（增删表格行）",
                type="string",
                pattern=r"^(CN|[0-9]{6})-(R|K)-[0-9]{4}$",
            ),
            "rows": _p(
                "增删的表格行",
                "本地化上级知识的知识点明细表：add 增加的行（各列取值，须写 reason），remove 删除的行（键列取值，"
                "须写 reason）；须在上级表格声明的 lower 允许范围内",
                "institutions",
                type="object",
                additionalProperties=False,
                properties={
                    "add": _reasoned_rows("增加的行", "每行写出各列的取值（列名: 取值）和理由 reason"),
                    "remove": _reasoned_rows("删除的行", "每行写出键列的取值和理由 reason"),
                },
            ),
            "base_digest": _p(
                "基准摘要",
                "编写时目标规则的内容摘要；上级修改规则后不再相符，须复核",
                "internal",
                type="string",
                pattern=DIGEST_PATTERN,
            ),
            "parameters": _p(
                "本地参数",
                "参数名到本地取值，须在上级给出的可本地化范围内",
                type="object",
                propertyNames={"pattern": PARAM_NAME_PATTERN},
            ),
            "uses": _enum_set(
                "增加的应用场景", "本地增加的第十九条应用场景（结构版本 1 中写作 scenarios）", list(enums.USES)
            ),
            "scenarios": _enum_set("增加的就医场景", "本地增加的就医场景", list(enums.CARE_SETTINGS)),
            "basis": _basis(),
            "reason": _text("本地化理由", "为何需要本地化，如 本省协议管理要求"),
            "status": _status(),
            "effective": _date("生效日期", "本地化开始适用的日期"),
            "expires": _date("失效日期", "本地化停止适用的日期（如有）"),
            "deprecated": _deprecated("O"),
            "notes": _notes(),
        },
    )


def argumentation_schema() -> Schema:
    participant = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "affiliation", "affiliation_type", "field"],
        "properties": {
            "name": _text("姓名", "参加人员姓名（个人信息，仅存于内部记录）", "internal"),
            "affiliation": _text("单位", "参加人员所在单位", "internal"),
            "affiliation_type": _enum(
                "单位类型", "第十条据以判断参加单位是否适当", list(enums.AFFILIATION_TYPES), "internal"
            ),
            "field": _enum("专业领域", "参加人员的专业领域", list(enums.FIELDS), "internal"),
        },
    }
    return _obj(
        FILES["argumentation"],
        "论证记录",
        "学术论证、业务论证或行业论证的记录（第九条至第十一条），以内容摘要绑定所论证的条目。",
        ["id", "kind", "date", "organizer", "subjects", "participants", "conclusion"],
        {
            "id": _id("A", "论证记录"),
            "kind": _enum("论证形式", "学术论证、业务论证或行业论证", list(enums.ARGUMENTATION_KINDS)),
            "date": _date("论证日期", "论证会议或书面论证完成的日期"),
            "organizer": _text("组织单位", "组织论证的单位"),
            "subjects": _p(
                "论证对象",
                "所论证的条目及论证时的内容摘要；条目此后的规范性修改使本记录过时",
                type="array",
                minItems=1,
                items={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "digest"],
                    "properties": {
                        "id": _p(
                            "条目编号",
                            "规则、知识或本地化的编号",
                            type="string",
                            pattern=r"^(CN|[0-9]{6})-(K|R|O)-[0-9]{4}$",
                        ),
                        "digest": _p(
                            "内容摘要", "论证时该条目的内容摘要", "internal", type="string", pattern=DIGEST_PATTERN
                        ),
                        "tables": _p(
                            "所依据的表格",
                            "规则所依据的知识点明细表（带表格的知识条目）及论证时的内容摘要；表格此后的修改使本记录过时",
                            "internal",
                            type="array",
                            items={
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["id", "digest"],
                                "properties": {
                                    "id": _p(
                                        "知识编号",
                                        "带表格的知识条目",
                                        "internal",
                                        type="string",
                                        pattern=r"^(CN|[0-9]{6})-K-[0-9]{4}$",
                                    ),
                                    "digest": _p(
                                        "内容摘要",
                                        "论证时该条目（含表格各行）的内容摘要",
                                        "internal",
                                        type="string",
                                        pattern=DIGEST_PATTERN,
                                    ),
                                },
                            },
                        ),
                    },
                },
            ),
            "participants": _p(
                "参加人员",
                "参加论证的专家或人员（内部记录，不公开）",
                "internal",
                type="array",
                minItems=1,
                items=participant,
            ),
            "conclusion": _enum("论证结论", "通过、修改后通过或不通过", list(enums.CONCLUSIONS)),
            "opinions": _p(
                "主要意见", "论证中提出的主要意见", "internal", type="array", items={"type": "string", "minLength": 1}
            ),
            "minutes": _text("会议纪要", "纪要文件的路径（相对库根目录）", "internal"),
            "illustrative": _p(
                "示例记录",
                "true：本记录是演示记录结构的示例，不是真实召开的论证（组织单位、日期、人员和意见均为演示用）；"
                "列出论证记录之处标为“示例”",
                type="boolean",
            ),
            "meeting": _p(
                "会议",
                "论证会议的纪要编号（文号）和地点",
                "internal",
                type="object",
                additionalProperties=False,
                minProperties=1,
                properties={
                    "reference": _text("纪要编号", "会议纪要的编号或文号，照纪要所载填写"),
                    "place": _text("地点", "会议地点", "internal"),
                },
            ),
            "attendance": _p(
                "出席情况",
                "应到、实到和缺席：人数，或按专业领域列出",
                "internal",
                type="object",
                additionalProperties=False,
                minProperties=1,
                properties={
                    "invited": _p("应到人数", "受邀参加论证的人数", "internal", type="integer", minimum=0),
                    "present": _p("实到人数", "实际参加论证的人数", "internal", type="integer", minimum=0),
                    "absent": _p("缺席人数", "受邀而未参加的人数", "internal", type="integer", minimum=0),
                    "by_field": _p(
                        "按领域",
                        "各专业领域的实到和缺席人数（可另列缺席人员姓名）",
                        "internal",
                        type="array",
                        items={
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["field"],
                            "properties": {
                                "field": _enum("专业领域", "参加人员的专业领域", list(enums.FIELDS), "internal"),
                                "present": _p("实到", "该领域实到人数", "internal", type="integer", minimum=0),
                                "absent": _p("缺席", "该领域缺席人数", "internal", type="integer", minimum=0),
                                "absent_names": _p(
                                    "缺席人员",
                                    "该领域缺席人员姓名（个人信息，仅存于内部记录）",
                                    "internal",
                                    type="array",
                                    items={"type": "string", "minLength": 1},
                                ),
                            },
                        },
                    ),
                },
            ),
            "votes": _p(
                "表决",
                "表决结果：赞成、反对、弃权票数",
                "internal",
                type="object",
                additionalProperties=False,
                required=["for", "against", "abstain"],
                properties={
                    "for": _p("赞成", "赞成票数", "internal", type="integer", minimum=0),
                    "against": _p("反对", "反对票数", "internal", type="integer", minimum=0),
                    "abstain": _p("弃权", "弃权票数", "internal", type="integer", minimum=0),
                },
            ),
            "dissent": _p(
                "不同意见",
                "持不同意见者的意见原文（第十一条：存在争议的规则尤须记录）",
                "internal",
                type="array",
                items={"type": "string", "minLength": 1},
            ),
            "notes": _notes(),
        },
    )


def adjustment_schema() -> Schema:
    return _obj(
        FILES["adjustment"],
        "调整记录",
        "年度调整或即时调整的记录（第十三条至第十六条）。记录文件为准，标签只是便利。",
        ["id", "kind", "region", "opened", "status"],
        {
            "id": _p(
                "编号",
                "<层级>-annual-<年份> 或 <层级>-instant-<YYYYMMDD>-<简称>",
                type="string",
                pattern=ADJUSTMENT_ID_PATTERN,
            ),
            "kind": _enum("调整类型", "年度调整或即时调整", enums.labels(enums.ADJUSTMENT_KINDS)),
            "region": _p("层级", "发起调整的层级：CN 或地区代码", type="string", pattern=REGION_PATTERN),
            "year": _p("年度", "年度调整所属年份", type="integer", minimum=2000, maximum=2100),
            "title": _text("标题", "调整的名称"),
            "trigger": _p(
                "触发知识",
                "引起即时调整的知识条目编号（如新法规）",
                type="string",
                pattern=r"^(CN|[0-9]{6})-K-[0-9]{4}$",
            ),
            "trigger_kind": _enum("触发情形", "第十五条所列情形", list(enums.INSTANT_TRIGGERS)),
            "deadline": _date("完成时限", "第十六条：不晚于相关法律法规、政策文件的执行起始时间"),
            "opened": _date("启动日期", "启动调整的日期"),
            "closed": _date("完成日期", "调整完成的日期"),
            "status": _enum("状态", "进行中或已完成", list(enums.ADJUSTMENT_STATUSES)),
            "plan": _text("调整计划", "调整前征求意见形成的计划（第十四条）"),
            "scope": _p(
                "调整范围",
                "涉及的知识与规则编号",
                type="array",
                items={"type": "string", "pattern": r"^(CN|[0-9]{6})-(K|R|O)-[0-9]{4}$"},
            ),
            "added": _p(
                "新增条目",
                "本次调整新增的知识与规则编号（也列在 scope 中）；新增的规则不得早于调整完成生效（TK612）",
                type="array",
                uniqueItems=True,
                items={"type": "string", "pattern": r"^(CN|[0-9]{6})-(K|R|O)-[0-9]{4}$"},
            ),
            "changes": _p("调整内容", "逐条说明的调整内容", type="array", items={"type": "string", "minLength": 1}),
            "notes": _notes(),
        },
    )


def config_schema() -> Schema:
    waiver = {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "id", "reason", "expires"],
        "properties": {
            "code": _p("检查代码", "被豁免的检查代码，如 TK403", type="string", pattern=r"^TK[0-9]{3}$"),
            "id": _p("条目编号", "被豁免的条目编号", type="string"),
            "reason": _text("豁免理由", "为何暂时接受这一问题"),
            "expires": _date("到期日期", "豁免到期的日期；到期后豁免本身成为问题"),
        },
    }
    policy = _p(
        "论证要求",
        "规则生效前须具备的论证形式",
        type="object",
        additionalProperties=False,
        properties={
            "default": _enum_set("一般规则", "每条规则均须具备的论证形式", list(enums.ARGUMENTATION_KINDS)),
            "focus": _enum_set(
                "论证重点规则", "标注了第十一条论证重点的规则须具备的论证形式", list(enums.ARGUMENTATION_KINDS)
            ),
        },
    )
    return _obj(
        FILES["config"],
        "库配置",
        "twoku.yaml：本库的结构版本、本库所属层级、上游地址、论证要求与豁免。",
        ["schema_version", "region"],
        {
            "schema_version": _p("结构版本", "本库文件所遵循的 twoku 结构版本", type="integer", const=SCHEMA_VERSION),
            "name": _text("库名称", "本库的名称"),
            "region": _p("本库层级", "本库自身拥有的层级：CN 或六位地区代码", type="string", pattern=REGION_PATTERN),
            "upstream": _text("上游", "上级库的地址或名称（如有）"),
            "regions": _p(
                "地区名称",
                "地区代码到名称，如 510000: 四川省（示例）",
                type="object",
                propertyNames={"pattern": r"^[0-9]{6}$"},
                additionalProperties={"type": "string", "minLength": 1},
            ),
            "argumentation": policy,
            "disclosure": _p(
                "公开范围",
                "第十二条：监控要点和标准向定点医药机构公开，鼓励向社会公开监控要点",
                type="object",
                additionalProperties=False,
                properties={
                    "parameters": _enum(
                        "参数取值",
                        "规则参数（阈值）的取值向谁公开：institutions 只向定点医药机构（缺省），society 也向社会公众；"
                        "不向社会公开时，公开摘要的文字写“阈值向定点医药机构公开”",
                        ["institutions", "society"],
                    ),
                },
            ),
            "waivers": _p("豁免", "暂时接受的问题：检查代码、条目、理由、到期日期", type="array", items=waiver),
        },
    )


def claim_schema() -> Schema:
    return _obj(
        FILES["claim"],
        "结算明细",
        "结算清单的一条费用明细：规则在其上运行（twoku run）。只用于合成数据与脱敏数据，不入库。",
        list(claim.REQUIRED),
        claim.claim_properties(),
    )


def all_schemas() -> dict[str, Schema]:
    """Kind → schema, for every kind of store file."""
    return {
        "knowledge": knowledge_schema(),
        "rule": rule_schema(),
        "override": override_schema(),
        "argumentation": argumentation_schema(),
        "adjustment": adjustment_schema(),
        "config": config_schema(),
        "claim": claim_schema(),
    }
