"""The rule classes of the national framework (2025 edition), with their framework 1.0 codes.

From NHSA's 《医疗保障基金智能审核和监控规则库框架体系（1.0版）》 and 《医疗保障基金智能监管规则库、知识库
（2025年版）》 as summarised in the project's domain notes: 88 classes, 46 of them published with 知识点明细
(``points``).  The ten classes new in 2025 have no 1.0 code yet: ``code`` is None, never made up.
``twoku import nhsa --class`` takes a class by its name or its code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleKind:
    number: int  # its row in the 2025 edition's list
    name: str
    code: str | None  # framework 1.0 code (GZ…/ZB…), None where NHSA has published none
    category: str  # 二级 class (enums.RULE_CATEGORIES label)
    points: bool  # the 2025 edition publishes 知识点明细 for it


RULE_KINDS: tuple[RuleKind, ...] = (
    RuleKind(1, "药品限工伤保险", "GZ10000101001000", "药品政策限定类", True),
    RuleKind(2, "药品限生育保险", "GZ10000101002000", "药品政策限定类", True),
    RuleKind(3, "中药饮片单复方均不予支付", "GZ10000101003000", "药品政策限定类", True),
    RuleKind(4, "中药饮片单方使用不予支付", "GZ10000101004000", "药品政策限定类", True),
    RuleKind(5, "药品限二线使用", "GZ10000101005000", "药品政策限定类", True),
    RuleKind(6, "药品限新生儿使用", "GZ10000101006000", "药品政策限定类", False),
    RuleKind(7, "药品限儿童使用", "GZ10000101007000", "药品政策限定类", True),
    RuleKind(8, "药品限适应症", "GZ10000101008000", "药品政策限定类", True),
    RuleKind(9, "药品限最大开药天数/开药量", None, "药品政策限定类", False),
    RuleKind(10, "药品限支付疗程", "GZ10000101010000", "药品政策限定类", True),
    RuleKind(11, "药品超限定病种目录范围使用", "GZ10000101011000", "药品政策限定类", False),
    RuleKind(12, "药品限医疗机构级别", "GZ10000101012000", "药品政策限定类", True),
    RuleKind(13, "药品限就医方式", None, "药品政策限定类", True),
    RuleKind(14, "医疗服务项目超限定单价收费", "GZ10000102001000", "医疗服务项目政策限定类", False),
    RuleKind(15, "手术项目未按规定折价收费", "GZ10000102002000", "医疗服务项目政策限定类", True),
    RuleKind(16, "医疗服务项目限工伤保险", "GZ10000102003000", "医疗服务项目政策限定类", False),
    RuleKind(17, "医疗服务项目限生育保险", "GZ10000102004000", "医疗服务项目政策限定类", False),
    RuleKind(18, "医疗服务项目限新生儿使用", "GZ10000102005000", "医疗服务项目政策限定类", False),
    RuleKind(19, "医疗服务项目限儿童使用", "GZ10000102006000", "医疗服务项目政策限定类", False),
    RuleKind(20, "医疗服务项目限适应症", "GZ10000102007000", "医疗服务项目政策限定类", False),
    RuleKind(21, "医疗服务项目限科室使用", "GZ10000102008000", "医疗服务项目政策限定类", False),
    RuleKind(22, "医疗服务项目限就医方式", "GZ10000102009000", "医疗服务项目政策限定类", False),
    RuleKind(23, "医疗服务项目限支付疗程", "GZ10000102010000", "医疗服务项目政策限定类", True),
    RuleKind(24, "医疗服务项目限医疗机构级别", "GZ10000102011000", "医疗服务项目政策限定类", False),
    RuleKind(25, "医疗服务项目重复收费", "GZ10000102012000", "医疗服务项目政策限定类", True),
    RuleKind(26, "医疗服务项目分解收费", "GZ10000102013000", "医疗服务项目政策限定类", True),
    RuleKind(27, "医疗服务项目限定频次", "GZ10000102014000", "医疗服务项目政策限定类", True),
    RuleKind(28, "医疗服务项目超限定报销总额", "GZ10000102015000", "医疗服务项目政策限定类", False),
    RuleKind(29, "医疗服务项目限年龄", None, "医疗服务项目政策限定类", True),
    RuleKind(30, "医疗服务项目与医用耗材重复收费", None, "医疗服务项目政策限定类", False),
    RuleKind(31, "医疗服务项目周期超频次", None, "医疗服务项目政策限定类", True),
    RuleKind(32, "耗材限新生儿使用", "GZ10000103001000", "医用耗材政策限定类", True),
    RuleKind(33, "耗材限儿童使用", "GZ10000103002000", "医用耗材政策限定类", True),
    RuleKind(34, "耗材超限定报销总额", "GZ10000103003000", "医用耗材政策限定类", False),
    RuleKind(35, "医保结算清单信息异常", "GZ10000201001000", "信息数据监管类", False),
    RuleKind(36, "结算明细信息异常", "GZ10000201002000", "信息数据监管类", False),
    RuleKind(37, "疾病诊断编码异常", "GZ10000201003000", "信息数据监管类", False),
    RuleKind(38, "手术操作编码异常", "GZ10000201004000", "信息数据监管类", False),
    RuleKind(39, "手术操作编码与性别不符", "GZ10000201005000", "信息数据监管类", True),
    RuleKind(40, "诊断编码与手术操作编码不符", "GZ10000201006000", "信息数据监管类", True),
    RuleKind(41, "就诊数据非实时上传监管", "GZ10000201007000", "信息数据监管类", False),
    RuleKind(42, "计费日期与住院时间不符", "GZ10000201008000", "信息数据监管类", False),
    RuleKind(43, "药品进销存异常", "GZ10000202001000", "药品监管类", False),
    RuleKind(44, "围手术期抗菌药物预防性应用监管", "GZ10000202002000", "药品监管类", True),
    RuleKind(45, "抗菌药物分级使用管理", "GZ10000202003000", "药品监管类", False),
    RuleKind(46, "药品种类超标", "GZ10000202004000", "药品监管类", False),
    RuleKind(47, "超互联网医院药品支付范围", None, "药品监管类", True),
    RuleKind(48, "医用耗材进销存异常", "GZ10000203001000", "医用耗材监管类", False),
    RuleKind(49, "分解住院", "GZ10000204001000", "行为主体监管类", False),
    RuleKind(50, "频繁门诊", "GZ10000204002000", "行为主体监管类", False),
    RuleKind(51, "频繁购药", "GZ10000204003000", "行为主体监管类", False),
    RuleKind(52, "频繁住院", "GZ10000204004000", "行为主体监管类", False),
    RuleKind(53, "无指征住院（低标准入院）", "GZ10000204005000", "行为主体监管类", False),
    RuleKind(54, "诊断与患者性别不符", "GZ10000204006000", "行为主体监管类", True),
    RuleKind(55, "诊断与患者年龄不符", "GZ10000204007000", "行为主体监管类", True),
    RuleKind(56, "药费占比统计", "ZB10000205001000", "统计指标监测类", False),
    RuleKind(57, "检验检查占比统计", "ZB10000205002000", "统计指标监测类", False),
    RuleKind(58, "耗材占比统计", "ZB10000205003000", "统计指标监测类", False),
    RuleKind(59, "治疗占比统计", "ZB10000205004000", "统计指标监测类", False),
    RuleKind(60, "CT检查占比统计", "ZB10000205005000", "统计指标监测类", False),
    RuleKind(61, "核磁检查占比统计", "ZB10000205006000", "统计指标监测类", False),
    RuleKind(62, "院内感染发生率统计", "ZB10000205007000", "统计指标监测类", False),
    RuleKind(63, "非计划再入院率统计", "ZB10000205008000", "统计指标监测类", False),
    RuleKind(64, "药品与医疗服务项目不符", "GZ10000301001000", "药品合理使用类", False),
    RuleKind(65, "药品儿童专用", "GZ10000301002000", "药品合理使用类", True),
    RuleKind(66, "药品儿童禁用", "GZ10000301003000", "药品合理使用类", True),
    RuleKind(67, "药品区分性别使用", "GZ10000301004000", "药品合理使用类", True),
    RuleKind(68, "超说明书用量开药", "GZ10000301005000", "药品合理使用类", True),
    RuleKind(69, "重复开药", "GZ10000301006000", "药品合理使用类", True),
    RuleKind(70, "超说明书适应症用药", "GZ10000301007000", "药品合理使用类", True),
    RuleKind(71, "药品禁忌症", "GZ10000301008000", "药品合理使用类", True),
    RuleKind(72, "老年人用药安全", "GZ10000301009000", "药品合理使用类", True),
    RuleKind(73, "妊娠期及哺乳期用药安全", "GZ10000301010000", "药品合理使用类", True),
    RuleKind(74, "药品相互作用", "GZ10000301011000", "药品合理使用类", True),
    RuleKind(75, "中药饮片配伍禁忌", "GZ10000301012000", "药品合理使用类", True),
    RuleKind(76, "中药饮片超大处方", None, "药品合理使用类", True),
    RuleKind(77, "中药饮片超量上传", None, "药品合理使用类", True),
    RuleKind(78, "无指征检验检查", "GZ10000302001000", "医疗服务项目合理使用类", True),
    RuleKind(79, "无指征治疗", "GZ10000302002000", "医疗服务项目合理使用类", True),
    RuleKind(80, "医疗服务项目儿童专用", "GZ10000302003000", "医疗服务项目合理使用类", True),
    RuleKind(81, "医疗服务项目区分性别使用", "GZ10000302004000", "医疗服务项目合理使用类", True),
    RuleKind(82, "医疗服务项目禁忌症", "GZ10000302005000", "医疗服务项目合理使用类", True),
    RuleKind(83, "医疗服务项目超适应症使用", "GZ10000302006000", "医疗服务项目合理使用类", True),
    RuleKind(84, "医用耗材与医疗服务项目不符", "GZ10000303001000", "医用耗材合理使用类", False),
    RuleKind(85, "医用耗材与科室不符", "GZ10000303002000", "医用耗材合理使用类", False),
    RuleKind(86, "医用耗材数量超标", "GZ10000303003000", "医用耗材合理使用类", False),
    RuleKind(87, "医用耗材与性别不符", None, "医用耗材合理使用类", True),
    RuleKind(88, "医用耗材限疾病使用", None, "医用耗材合理使用类", True),
)


def find(text: str) -> RuleKind | None:
    """The class named by ``text``: its name or its framework code (spaces and case ignored)."""
    wanted = "".join(text.split())
    for kind in RULE_KINDS:
        if wanted == kind.name or (kind.code is not None and wanted.upper() == kind.code):
            return kind
    return None
