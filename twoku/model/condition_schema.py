"""The JSON Schema of a rule's ``condition`` and ``examples`` (the language is model/condition.py)."""

from __future__ import annotations

from typing import Any

from twoku.model import claim
from twoku.model.condition import MEASURES, OPS

KNOWLEDGE_ID = r"^(CN|[0-9]{6})-K-[0-9]{4}$"


def _doc(title: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"title": title, "description": description, "x-twoku-disclosure": "society", **schema}


def schema_defs() -> dict[str, Any]:
    """``$defs`` of the rule schema for the condition language (recursive, hence by reference)."""
    ref = {"$ref": "#/$defs/condition"}
    fields = {"type": "string", "enum": [f.name for f in claim.CLAIM_FIELDS]}
    per = _doc(
        "分组字段", "按这些字段的相同取值分组，如 [patient_id, visit_id]", type="array", minItems=1, items=fields
    )
    where = _doc("组内条件", "只计组内满足此条件的明细（只能比较 field 或 param）", **ref)

    def group(title: str, description: str, **extra: Any) -> dict[str, Any]:
        props = {"per": per, "where": where, **extra}
        return _doc(title, description, type="object", additionalProperties=False, required=["per"], properties=props)

    measures = {
        "field": _doc("字段", "比较明细自身的字段", **fields),
        "param": _doc("参数", "比较规则参数（按地区本地化后的取值）", type="string"),
        "count": group("组内明细数", "同组中满足 where 的明细条数，如同一天同一项目的次数"),
        "sum": group("组内合计", "同组中满足 where 的明细某字段之和", field=_doc("合计字段", "被合计的字段", **fields)),
        "days_since_first": group("距首次天数", "本明细费用发生日期距同组首次（满足 where）的天数"),
        "days_since_previous": group("距上次天数", "本明细费用发生日期距同组上一次（满足 where）的天数"),
        "other_lines": group(
            "其他明细数",
            "同组中（不含本明细）满足 where 的其他明细条数；where 中 {line: 字段} 指本明细，"
            "{row: 列名} 指 match 找到的表格行，如 同一次就诊中另有表格所列的项目 B",
        ),
        "previous_admission": _doc(
            "上次住院",
            "同组（如同一参保人同一机构）上一次住院的某字段",
            type="object",
            additionalProperties=False,
            required=["per", "field"],
            properties={"per": per, "field": {"type": "string", "enum": list(claim.ADMISSION_FIELDS)}},
        ),
        "admission_gap": _doc(
            "再入院间隔",
            "上一次住院出院日期至本次入院日期的天数",
            type="object",
            additionalProperties=False,
            required=["per"],
            properties={"per": per},
        ),
        "admissions_spanning": _doc(
            "所在住院次数",
            "本明细费用发生日期落在同组（如同一参保人同一机构）其他住院的入院至出院期间的次数",
            type="object",
            additionalProperties=False,
            required=["per"],
            properties={
                "per": per,
                "strict": _doc(
                    "不含入出院当日",
                    "true（缺省）：入院日期 < 费用发生日期 < 出院日期；false：含入院当日和出院当日；或 {param: 参数名}",
                    anyOf=[
                        {"type": "boolean"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["param"],
                            "properties": {"param": {"type": "string"}},
                        },
                    ],
                ),
            },
        ),
    }
    scalar = {"type": ["string", "number", "boolean"]}
    value = _doc(
        "比较值",
        "字面值、列表、{param: 参数名}、{field: 字段名, chars: N}、代码集 {codes: 知识编号, names: [名称…]}、"
        "编码规则 {pattern_of: 知识编号}（用于 matches、not_matches）、match 找到的表格行的列 {row: 列名}，"
        "或 other_lines 中本明细的字段 {line: 字段名}",
        anyOf=[
            scalar,
            {"type": "array", "items": scalar},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["param"],
                "properties": {"param": {"type": "string"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["field"],
                "properties": {"field": fields, "chars": {"type": "integer", "minimum": 1}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["codes"],
                "properties": {
                    "codes": {"type": "string", "pattern": KNOWLEDGE_ID},
                    "names": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["row"],
                "properties": {"row": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["line"],
                "properties": {"line": fields},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["pattern_of"],
                "properties": {"pattern_of": {"type": "string", "pattern": KNOWLEDGE_ID}},
            },
        ],
    )
    comparison = _doc(
        "比较",
        "一个度量（field、param、count …）与 op、value 的比较",
        type="object",
        additionalProperties=False,
        required=["op"],
        properties={
            **measures,
            "op": _doc(
                "运算",
                "eq 等于、ne 不等于、lt/le/gt/ge 大小、in/not_in 属于、starts_with 前缀、is_null/not_null、"
                "matches/not_matches 符合/不符合正则表达式",
                type="string",
                enum=list(OPS),
            ),
            "value": {"$ref": "#/$defs/value"},
            "chars": _doc("前几位", "只比较前 N 个字符，如诊断类目取 3", type="integer", minimum=1),
        },
        oneOf=[{"required": [m]} for m in MEASURES],
    )
    column = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
    match = _doc(
        "匹配表格",
        "明细与知识点明细表的行匹配：table 为带表格的知识编号，on 为 明细字段: 表格列（或 {column: 列名, prefix: true} "
        "表示明细取值以该列开头），where 为对匹配行的条件（可用 {row: 列名}）；存在满足的行即成立",
        type="object",
        additionalProperties=False,
        required=["table", "on"],
        properties={
            "table": {"type": "string", "pattern": KNOWLEDGE_ID},
            "on": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": [f.name for f in claim.CLAIM_FIELDS]},
                "additionalProperties": {
                    "anyOf": [
                        column,
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["column"],
                            "properties": {"column": column, "prefix": {"type": "boolean"}},
                        },
                    ]
                },
            },
            "where": ref,
        },
    )
    condition = _doc(
        "条件",
        "all（全部满足）、any（任一满足）、not（不满足）、match（与表格行匹配）或一个比较",
        oneOf=[
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["all"],
                "properties": {"all": {"type": "array", "minItems": 1, "items": ref}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["any"],
                "properties": {"any": {"type": "array", "minItems": 1, "items": ref}},
            },
            {"type": "object", "additionalProperties": False, "required": ["not"], "properties": {"not": ref}},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["match"],
                "properties": {"match": match},
            },
            {"$ref": "#/$defs/comparison"},
        ],
    )
    return {"condition": condition, "comparison": comparison, "value": value}


def examples_schema() -> dict[str, Any]:
    """The rule's ``examples``: synthetic claim lines, and which of them must hit."""
    # An example may carry a code of the wrong format: that is what a code-format rule (CN-R-0013)
    # must be shown to catch, so the lines keep the fields' types and vocabularies but not their patterns.
    props = {
        name: {k: v for k, v in prop.items() if k != "pattern"}
        for name, prop in claim.claim_properties("society").items()
    }
    line = {"type": "object", "additionalProperties": False, "required": ["line_id"], "properties": props}
    example = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "lines"],
        "anyOf": [{"required": ["hits"]}, {"required": ["flags"]}],
        "properties": {
            "name": _doc("用例名称", "这组明细说明的情形，如 女性参保人结算阿帕他胺片", type="string", minLength=1),
            "lines": _doc("结算明细", "合成的结算明细（不得使用真实患者数据）", type="array", minItems=1, items=line),
            "tables": _doc(
                "示例知识点",
                "本用例中这些知识点明细表只有这里列出的行（库中和各地区的行都不用）；未列出的表格用其生效的行。"
                "每行写出各列的取值（列名: 取值），按表格的列检查；表格须是本规则条件读取的表格。"
                "只用于 twoku test，run、compile、publish 不使用",
                type="object",
                propertyNames={"pattern": KNOWLEDGE_ID},
                additionalProperties={
                    "type": "array",
                    "items": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    },
                },
            ),
            "hits": _doc(
                "应命中明细",
                "必须命中的明细流水号；未列出的明细必须不命中（空列表表示全部不得命中）",
                type="array",
                uniqueItems=True,
                items={"type": "string", "minLength": 1},
            ),
            "flags": flags_schema(),
            "parameters": _doc(
                "用例参数",
                "本用例按这些参数取值运行（缺省为规则本层或 --region 地区的取值），"
                "如 {min_discharges: 1} 使用例不必写满样本量",
                type="object",
                propertyNames={"pattern": "^[a-z][a-z0-9_]*$"},
            ),
        },
    }
    return _doc(
        "规则用例",
        "可执行条件的测试用例：合成的结算明细及其中应命中的明细；twoku test 运行它们",
        type="array",
        minItems=1,
        items=example,
    )


def indicator_schema() -> dict[str, Any]:
    """A rule's ``indicator`` (统计指标监测类): a ratio per institution and period, its baseline and threshold
    (model/indicator.py)."""
    from twoku.model.indicator import COMPARES, DATE_FIELDS, FLAG_OPS, PERIODS, PREVIOUS, PREVIOUS_YEAR

    fields = {"type": "string", "enum": [f.name for f in claim.CLAIM_FIELDS]}
    param = {
        "type": "object",
        "additionalProperties": False,
        "required": ["param"],
        "properties": {"param": {"type": "string"}},
    }
    number = {"anyOf": [{"type": "number"}, param]}
    empty = {"type": "object", "maxProperties": 0}
    where = {
        **_doc(
            "计入条件",
            "只计满足此条件的明细（条件语言同 condition，可用组内度量和表格匹配）",
            **{"$ref": "#/$defs/condition"},
        ),
        "x-twoku-disclosure": "institutions",  # as a rule's condition: the detail of the judgement
    }
    kinds = {
        "sum": _doc("合计字段", "满足 where 的明细该字段之和，如 amount（金额）", **fields),
        "visits": _doc("人次", "有满足 where 的明细的就诊（visit_id）个数；写作 {}", **empty),
        "bed_days": _doc("床日", "这些住院的住院天数之和（出院日期 − 入院日期，当日入出院计 1 天）；写作 {}", **empty),
    }

    def measure(title: str, description: str, titled: bool = True, **extra: Any) -> dict[str, Any]:
        props = {
            "title": _doc(
                "名称", "度量的中文名称，如 药品费用、出院人次；公开时用它说明公式", type="string", minLength=1
            ),
            **kinds,
            "where": where,
            **extra,
        }
        return _doc(
            title,
            description,
            type="object",
            additionalProperties=False,
            required=["title"] if titled else [],
            properties=props,
            oneOf=[{"required": [k]} for k in kinds],
        )

    return _doc(
        "监测指标",
        "统计指标监测类规则的指标：按机构、按统计期计算 分子 ÷ 分母，与基准值比较，超过阈值的机构-统计期列为疑点"
        "（语言见 twoku/model/indicator.py）",
        type="object",
        additionalProperties=False,
        required=["numerator", "denominator", "period", "flag"],
        properties={
            "numerator": measure("分子", "如 药品费用：{title: 药品费用, sum: amount, where: …}"),
            "denominator": measure("分母", "如 医疗总费用：{title: 医疗总费用, sum: amount}"),
            "scale": _doc(
                "倍数", "比值乘以此数：100 为百分比，1000 为千分比；缺省 1", type="number", exclusiveMinimum=0
            ),
            "per": _doc(
                "统计单位",
                "按这些字段分组统计，须含 institution_code；缺省 [institution_code]，可加 drg_group 等",
                type="array",
                minItems=1,
                uniqueItems=True,
                items=fields,
                contains={"const": "institution_code"},
            ),
            "period": _doc("统计期", "month 月、quarter 季度、year 年", type="string", enum=list(PERIODS)),
            "date": _doc(
                "归期日期", "按明细的哪个日期归入统计期；缺省 service_date", type="string", enum=list(DATE_FIELDS)
            ),
            "baseline": _doc(
                "基准",
                "{previous: 上期|上年同期|{param: …}} 同一机构的前期，"
                "{peers: [字段…]} 同一统计期这些字段相同的机构的合计比值，"
                "或 {param: 参数名} 固定值；缺省无基准（直接比较指标值）",
                type="object",
                additionalProperties=False,
                minProperties=1,
                maxProperties=1,
                properties={
                    "previous": _doc(
                        "前期",
                        "同一机构的 上期（上一统计期）或 上年同期，或 {param: 参数名} 由参数选择",
                        anyOf=[{"type": "string", "enum": [*PREVIOUS, *PREVIOUS_YEAR]}, param],
                    ),
                    "peers": _doc(
                        "同类机构",
                        "这些字段相同的机构为同类（如 [institution_level]）；空列表为全部机构",
                        type="array",
                        items=fields,
                        uniqueItems=True,
                    ),
                    "param": _doc("固定基准", "作为基准值的参数名", type="string"),
                },
            ),
            "flag": _doc(
                "标记阈值",
                "compare（" + "、".join(f"{k} {v}" for k, v in COMPARES.items()) + "）与 value 的比较，"
                "op 为 " + "、".join(f"{k} {v}" for k, v in FLAG_OPS.items()),
                type="object",
                additionalProperties=False,
                required=["op", "value"],
                properties={
                    "compare": _doc(
                        "比较对象",
                        "、".join(f"{k} {v}" for k, v in COMPARES.items()),
                        type="string",
                        enum=list(COMPARES),
                    ),
                    "op": _doc(
                        "运算", "、".join(f"{k} {v}" for k, v in FLAG_OPS.items()), type="string", enum=list(FLAG_OPS)
                    ),
                    "value": _doc("阈值", "数值或 {param: 参数名}", **number),
                },
            ),
            "minimum": measure(
                "最少样本",
                "该度量少于 value 的机构-统计期不判断，如 {visits: {}, value: {param: min_discharges}}",
                titled=False,
                value=_doc("下限", "数值或 {param: 参数名}", **number),
            ),
        },
    )


def flags_schema() -> dict[str, Any]:
    """An indicator rule's example expectation: the institution-periods that must be flagged."""
    return _doc(
        "应标记的机构-统计期",
        "指标规则的用例：必须被标记的机构和统计期（月 2025-03、季度 2025-Q1、年 2025）；未列出的必须不标记",
        type="array",
        items={
            "type": "object",
            "additionalProperties": False,
            "required": ["institution", "period"],
            "properties": {
                "institution": _doc("机构", "定点医药机构编码，如 H99999900001", type="string", minLength=1),
                "period": _doc(
                    "统计期",
                    "2025-03（月）、2025-Q1（季度）或 2025（年）",
                    type="string",
                    pattern=r"^[0-9]{4}(-[0-9]{2}|-Q[1-4])?$",
                ),
                "group": _doc("细分", "per 含机构以外的字段时的分组，如 drg_group=DG01", type="string"),
            },
        },
    )
