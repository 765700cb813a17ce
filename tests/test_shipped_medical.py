"""The shipped national library's 管理类 and 医疗类 rules (framework-2025.md Nos. 35-55 and 64-88, the 统计指标监测类
56-63 aside): one rule per class, with its 1.0 code where the class has one and none where it is new in 2025; the
knowledge-point classes joined to a table in their basis; ages read from each table row, never a store-wide
parameter; and every executable rule passes its examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_twoku
from twoku.model import condition as cond
from twoku.ops.validate import load_store

REPO = Path(__file__).resolve().parents[1]

# No.: (二级 class, name, 1.0 code or "" when new in 2025, knowledge points published) — framework-2025.md
CLASSES: dict[int, tuple[str, str, str, bool]] = {
    35: ("信息数据监管类", "医保结算清单信息异常", "GZ10000201001000", False),
    36: ("信息数据监管类", "结算明细信息异常", "GZ10000201002000", False),
    37: ("信息数据监管类", "疾病诊断编码异常", "GZ10000201003000", False),
    38: ("信息数据监管类", "手术操作编码异常", "GZ10000201004000", False),
    39: ("信息数据监管类", "手术操作编码与性别不符", "GZ10000201005000", True),
    40: ("信息数据监管类", "诊断编码与手术操作编码不符", "GZ10000201006000", True),
    41: ("信息数据监管类", "就诊数据非实时上传监管", "GZ10000201007000", False),
    42: ("信息数据监管类", "计费日期与住院时间不符", "GZ10000201008000", False),
    43: ("药品监管类", "药品进销存异常", "GZ10000202001000", False),
    44: ("药品监管类", "围手术期抗菌药物预防性应用监管", "GZ10000202002000", True),
    45: ("药品监管类", "抗菌药物分级使用管理", "GZ10000202003000", False),
    46: ("药品监管类", "药品种类超标", "GZ10000202004000", False),
    47: ("药品监管类", "超互联网医院药品支付范围", "", True),
    48: ("医用耗材监管类", "医用耗材进销存异常", "GZ10000203001000", False),
    49: ("行为主体监管类", "分解住院", "GZ10000204001000", False),
    50: ("行为主体监管类", "频繁门诊", "GZ10000204002000", False),
    51: ("行为主体监管类", "频繁购药", "GZ10000204003000", False),
    52: ("行为主体监管类", "频繁住院", "GZ10000204004000", False),
    53: ("行为主体监管类", "无指征住院（低标准入院）", "GZ10000204005000", False),
    54: ("行为主体监管类", "诊断与患者性别不符", "GZ10000204006000", True),
    55: ("行为主体监管类", "诊断与患者年龄不符", "GZ10000204007000", True),
    64: ("药品合理使用类", "药品与医疗服务项目不符", "GZ10000301001000", False),
    65: ("药品合理使用类", "药品儿童专用", "GZ10000301002000", True),
    66: ("药品合理使用类", "药品儿童禁用", "GZ10000301003000", True),
    67: ("药品合理使用类", "药品区分性别使用", "GZ10000301004000", True),
    68: ("药品合理使用类", "超说明书用量开药", "GZ10000301005000", True),
    69: ("药品合理使用类", "重复开药", "GZ10000301006000", True),
    70: ("药品合理使用类", "超说明书适应症用药", "GZ10000301007000", True),
    71: ("药品合理使用类", "药品禁忌症", "GZ10000301008000", True),
    72: ("药品合理使用类", "老年人用药安全", "GZ10000301009000", True),
    73: ("药品合理使用类", "妊娠期及哺乳期用药安全", "GZ10000301010000", True),
    74: ("药品合理使用类", "药品相互作用", "GZ10000301011000", True),
    75: ("药品合理使用类", "中药饮片配伍禁忌", "GZ10000301012000", True),
    76: ("药品合理使用类", "中药饮片超大处方", "", True),
    77: ("药品合理使用类", "中药饮片超量上传", "", True),
    78: ("医疗服务项目合理使用类", "无指征检验检查", "GZ10000302001000", True),
    79: ("医疗服务项目合理使用类", "无指征治疗", "GZ10000302002000", True),
    80: ("医疗服务项目合理使用类", "医疗服务项目儿童专用", "GZ10000302003000", True),
    81: ("医疗服务项目合理使用类", "医疗服务项目区分性别使用", "GZ10000302004000", True),
    82: ("医疗服务项目合理使用类", "医疗服务项目禁忌症", "GZ10000302005000", True),
    83: ("医疗服务项目合理使用类", "医疗服务项目超适应症使用", "GZ10000302006000", True),
    84: ("医用耗材合理使用类", "医用耗材与医疗服务项目不符", "GZ10000303001000", False),
    85: ("医用耗材合理使用类", "医用耗材与科室不符", "GZ10000303002000", False),
    86: ("医用耗材合理使用类", "医用耗材数量超标", "GZ10000303003000", False),
    87: ("医用耗材合理使用类", "医用耗材与性别不符", "", True),
    88: ("医用耗材合理使用类", "医用耗材限疾病使用", "", True),
}


def _national_rules() -> list:  # type: ignore[type-arg]
    lib = load_store(REPO, use_cache=False).library
    return [r for r in lib.of_kind("rule") if r.layer and r.layer.code == "CN"]


@pytest.mark.parametrize("number", sorted(CLASSES))
def test_each_class_has_one_national_rule_with_its_code_and_category(number: int) -> None:
    category, name, code, kp = CLASSES[number]
    found = [r for r in _national_rules() if r.data["name"] == name]
    assert len(found) == 1, f"No. {number} {name}: {[r.id for r in found]}"
    rule = found[0]
    assert rule.data["category"] == category
    assert rule.data.get("framework_code", "") == code
    if kp:  # a knowledge-point class reads its table, and the table is in its basis
        assert "condition" in rule.data, f"{rule.id} has no condition"
        tables = {m.table for m in cond.matches(cond.parse(rule.data["condition"], rule.data.get("parameters")))}
        assert tables, f"{rule.id} joins no table"
        assert tables <= {b["id"] for b in rule.data["basis"]}


def test_a_rule_without_a_condition_says_why_and_is_not_new_in_force() -> None:
    for rule in _national_rules():
        if rule.data["name"] in {c[1] for c in CLASSES.values()} and "condition" not in rule.data:
            assert "不可执行" in rule.data["logic"] + rule.data.get("notes", ""), rule.id


def test_ages_come_from_table_rows_not_a_store_wide_parameter() -> None:
    by_name = {r.data["name"]: r for r in _national_rules()}
    for name in ("药品儿童专用", "医疗服务项目儿童专用", "药品儿童禁用", "诊断与患者年龄不符"):
        rule = by_name[name]
        assert not rule.data.get("parameters"), f"{rule.id} keeps an age parameter"
        assert "row: age_below_years" in json.dumps(rule.data["condition"]).replace('"', "").replace("{", "") or (
            "row: min_age_years" in json.dumps(rule.data["condition"]).replace('"', "").replace("{", "")
        )


def test_every_declared_parameter_of_an_executable_rule_is_used() -> None:
    for rule in _national_rules():
        if "condition" not in rule.data or rule.id == "CN-R-0019":  # CN-R-0019 says which part is manual
            continue
        text = json.dumps(rule.data["condition"], ensure_ascii=False)
        for param in rule.data.get("parameters") or {}:
            assert f'"param": "{param}"' in text, f"{rule.id} declares {param} and never uses it"


def test_the_shipped_rules_pass_their_examples(shipped: Path) -> None:
    names = {c[1] for c in CLASSES.values()}
    ids = sorted(r.id for r in _national_rules() if r.data["name"] in names and "condition" in r.data)
    assert len(ids) >= 38
    result = run_twoku("test", *ids, "--format", "json", cwd=shipped)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CN-R-0203" in result.stdout and "CN-R-0232" in result.stdout
