"""The claim line: one line of a settlement list (结算清单费用明细), the data rules run on.

The fields are those a national rule needs to decide (patient, admission, diagnosis,
item, quantity and amount, institution); their code formats follow the national
医保信息业务编码 standards (shared/domain/framework-codes.md).  ``schema/claim.schema.json``
is generated from this table, the DuckDB engine types its input columns from it, and a
rule's condition may name only these fields.  No real patient data ever enters the
repository: examples and benchmarks use synthetic lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEXES: tuple[str, ...] = ("男", "女", "未知", "未说明")  # GB/T 2261.1 性别
INSURANCE_TYPES: tuple[str, ...] = ("职工基本医疗保险", "城乡居民基本医疗保险", "工伤保险", "生育保险")
VISIT_TYPES: tuple[str, ...] = (
    "普通门诊",
    "急诊",
    "门诊慢特病",
    "住院",
    "定点药店购药",
    "互联网诊疗",
    "生育门诊",
    "生育住院",
)
INSTITUTION_LEVELS: tuple[str, ...] = ("一级", "二级", "三级", "未定级")
DISCHARGE_MODES: tuple[str, ...] = ("医嘱离院", "转院", "转社区卫生服务机构", "非医嘱离院", "死亡", "其他")
ITEM_CATEGORIES: tuple[str, ...] = ("西药", "中成药", "中药饮片", "医疗服务项目", "医用耗材")
# 医疗保障基金结算清单“住院医疗收费”一节的收费项目类别（费用明细的医疗收费项目类别）
FEE_CATEGORIES: tuple[str, ...] = (
    "床位费",
    "诊察费",
    "检查费",
    "化验费",
    "治疗费",
    "手术费",
    "护理费",
    "卫生材料费",
    "西药费",
    "中药饮片费",
    "中成药费",
    "一般诊疗费",
    "挂号费",
    "其他费",
)
IMAGING_TYPES: tuple[str, ...] = ("CT", "MR")  # DICOM Modality (0008,0060): 计算机体层、磁共振

# 西药 | 中成药 | 中药饮片 | 医疗服务项目 | 医用耗材 (CN-K-0030 … CN-K-0034)
ITEM_CODE_PATTERN = (
    r"^(X[A-Z][0-9]{2}[A-Z]{3}[0-9]{3}[A-Z][0-9]{12}|Z[A-Z][0-9]{2}[A-Z]{3}[0-9]{13}|T[0-9]{9}"
    r"|[0-9]{15}|C[0-9]{19}([0-9]{7})?)$"
)


@dataclass(frozen=True)
class ClaimField:
    name: str
    type: str  # JSON type: string | integer | number | boolean; "date" is a string of format date
    title: str
    description: str
    pattern: str | None = None
    enum: tuple[str, ...] | None = None


CLAIM_FIELDS: tuple[ClaimField, ...] = (
    ClaimField("line_id", "string", "明细流水号", "费用明细的唯一流水号；命中结果以它指明明细"),
    ClaimField("settlement_id", "string", "结算流水号", "该明细所属结算的流水号"),
    ClaimField("visit_id", "string", "就诊流水号", "一次门诊就诊或一次住院的流水号；同一次住院的明细相同"),
    ClaimField("patient_id", "string", "人员编号", "参保人的医保人员编号（合成数据中为假名）"),
    ClaimField("sex", "string", "性别", "参保人性别（GB/T 2261.1）", enum=SEXES),
    ClaimField("age", "integer", "年龄", "费用发生日参保人的周岁年龄"),
    ClaimField("birth_date", "date", "出生日期", "参保人出生日期"),
    ClaimField(
        "death_date",
        "date",
        "参保人死亡日期",
        "医保系统登记的参保人死亡日期（来自死亡出院记录、民政殡葬、公安户籍等共享数据，核实后）；未登记死亡的为空",
    ),
    ClaimField("insurance_type", "string", "险种", "结算所用险种", enum=INSURANCE_TYPES),
    ClaimField(
        "visit_type",
        "string",
        "医疗类别",
        "普通门诊、急诊、门诊慢特病、住院、定点药店购药、互联网诊疗，或生育医疗费用的生育门诊、生育住院",
        enum=VISIT_TYPES,
    ),
    ClaimField(
        "institution_code",
        "string",
        "定点医药机构编码",
        "国家医保定点医疗机构代码；合成数据用 H999999 开头的代码（GB/T 2260 无 999999），如 H99999900001",
        r"^H[0-9]{11}$",
    ),
    ClaimField("institution_level", "string", "机构级别", "定点医疗机构的级别", enum=INSTITUTION_LEVELS),
    ClaimField("department", "string", "科室", "开单或执行科室名称"),
    ClaimField(
        "doctor_code",
        "string",
        "医保医师代码",
        "国家医保医师代码；合成数据用 D999999 开头的代码，如 D999999000001",
        r"^D[0-9]{12}$",
    ),
    ClaimField("admission_date", "date", "入院日期", "住院的入院日期；同一次住院的明细相同"),
    ClaimField("discharge_date", "date", "出院日期", "住院的出院日期；同一次住院的明细相同"),
    ClaimField("discharge_mode", "string", "离院方式", "结算清单的离院方式", enum=DISCHARGE_MODES),
    ClaimField(
        "main_diagnosis",
        "string",
        "主要诊断",
        "主要诊断代码（ICD-10 医保版 2.0），如 I63.900",
        r"^[A-Z][0-9]{2}\.[0-9x][0-9]{2}(x[0-9]{3})?$",
    ),
    ClaimField(
        "procedure_code",
        "string",
        "主要手术操作",
        "主要手术操作代码（ICD-9-CM-3 医保版），如 36.0700",
        r"^[0-9]{2}\.[0-9][0-9x][0-9]{2}(x[0-9]{3})?$",
    ),
    ClaimField(
        "item_code",
        "string",
        "医保目录编码",
        "药品、医疗服务项目或医用耗材的国家医保编码，如 XL02BBA326A001010102180、001102000030000",
        ITEM_CODE_PATTERN,
    ),
    ClaimField("item_name", "string", "项目名称", "医保目录名称"),
    ClaimField(
        "item_category", "string", "目录类别", "西药、中成药、中药饮片、医疗服务项目或医用耗材", enum=ITEM_CATEGORIES
    ),
    ClaimField("service_date", "date", "费用发生日期", "该明细费用发生的日期"),
    ClaimField("quantity", "number", "数量", "数量（按结算单位）"),
    ClaimField("unit_price", "number", "单价", "结算单价（元）"),
    ClaimField("amount", "number", "明细金额", "数量 × 单价（元）"),
    ClaimField("fund_amount", "number", "基金支付金额", "该明细由医保基金支付的金额（元）；全自费为 0"),
    ClaimField("supply_days", "integer", "用药天数", "按用法用量折算的该明细用药天数"),
    ClaimField("long_term_prescription", "boolean", "长期处方", "该明细是否按长期处方开具"),
    ClaimField("settlement_date", "date", "结算日期", "结算完成的日期"),
    ClaimField(
        "age_days",
        "integer",
        "年龄（天）",
        "年龄不足 1 周岁的参保人的日龄（医保结算清单“年龄不足1周岁的年龄（天）”）；满 1 周岁的为空",
    ),
    ClaimField(
        "upload_date",
        "date",
        "明细上传日期",
        "医保信息平台收到该费用明细的日期（明细上传时间的日期部分）；就诊数据实时上传类规则据此判断",
    ),
    # Appended for the indicators of 统计指标监测类 (ZB10000205001000 … ZB10000205008000):
    ClaimField(
        "fee_category",
        "string",
        "收费项目类别",
        "费用明细的医疗收费项目类别，即医疗保障基金结算清单“住院医疗收费”所列的类别（床位费、检查费、化验费、"
        "治疗费、卫生材料费、西药费……）；药费、检验检查、耗材、治疗占比按它归类",
        enum=FEE_CATEGORIES,
    ),
    ClaimField(
        "imaging_type",
        "string",
        "影像检查类别",
        "医学影像检查明细的设备类型，取 DICOM 设备类型（Modality，标签 0008,0060）的 CT 或 MR；"
        "由医保部门按医疗服务项目分类与代码把 CT、磁共振检查项目归类后写入，其他明细为空",
        enum=IMAGING_TYPES,
    ),
    ClaimField(
        "readmission_plan",
        "boolean",
        "出院31天内再住院计划",
        "本次住院出院时是否有出院31天内再住院计划（住院病案首页、医疗保障基金结算清单同名项）；"
        "下次住院是否为非计划再入院据此判断",
    ),
    ClaimField(
        "hospital_infection",
        "boolean",
        "发生医院感染",
        "本次住院是否发生医院感染（入院时不存在、住院期间发生的感染，来自医疗机构的医院感染病例报告）",
    ),
    ClaimField(
        "drg_group",
        "string",
        "病组",
        "本次住院的 DRG/DIP 病组编码（分组器按医疗保障基金结算清单分组的结果）；同一次住院的明细相同",
    ),
    ClaimField(
        "prescription_id",
        "string",
        "处方号",
        "费用明细所属处方（住院为医嘱）的编号；同一张处方的明细相同，中药饮片单方、复方据此归集",
    ),
)
FIELDS: dict[str, ClaimField] = {f.name: f for f in CLAIM_FIELDS}
REQUIRED: tuple[str, ...] = ("line_id", "patient_id", "item_code", "service_date")
DATE_FIELDS: frozenset[str] = frozenset(f.name for f in CLAIM_FIELDS if f.type == "date")
# The fields of one admission, the same on each of its lines: what “the previous admission” offers.
ADMISSION_FIELDS: tuple[str, ...] = (
    "admission_date",
    "discharge_date",
    "main_diagnosis",
    "discharge_mode",
    "readmission_plan",
)


def claim_properties(disclosure: str = "internal") -> dict[str, dict[str, Any]]:
    """The JSON Schema properties of a claim line, one per field (patient data: internal)."""
    out: dict[str, dict[str, Any]] = {}
    for f in CLAIM_FIELDS:
        prop: dict[str, Any] = {"title": f.title, "description": f.description, "x-twoku-disclosure": disclosure}
        if f.type == "date":
            prop.update(type="string", format="date")
        else:
            prop["type"] = f.type
        if f.pattern:
            prop["pattern"] = f.pattern
        if f.enum:
            prop["enum"] = list(f.enum)
        out[f.name] = prop
    return out
