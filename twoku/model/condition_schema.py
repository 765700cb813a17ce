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
        "required": ["name", "lines", "hits"],
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
        },
    }
    return _doc(
        "规则用例",
        "可执行条件的测试用例：合成的结算明细及其中应命中的明细；twoku test 运行它们",
        type="array",
        minItems=1,
        items=example,
    )
