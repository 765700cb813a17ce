"""Participants as typed on the command line: parsing and the 单位类型 a unit's name says."""

from __future__ import annotations

import pytest

from twoku.model.signoff import ParticipantProblem, infer_affiliation_type, parse_participant


@pytest.mark.parametrize(
    ("unit", "kind"),
    [
        ("中华医学会", "学会协会"),
        ("中国医院协会", "学会协会"),
        ("北京大学公共卫生学院", "高等院校"),
        ("四川大学华西医院", "定点医药机构"),
        ("中国医学科学院", "科研院所"),
        ("中国医疗保险研究院", "科研院所"),
        ("某省医疗保障局基金监管处", "医保行政部门"),
        ("某市医疗保障事务中心", "医保经办机构"),
        ("某县医保中心", "医保经办机构"),
        ("某省卫生健康委员会", "卫生健康部门"),
        ("某省中医药管理局", "中医药管理部门"),
        ("某镇卫生院", "定点医药机构"),
        ("某某大药房连锁有限公司", "定点医药机构"),
        ("某某科技有限公司", None),
    ],
)
def test_infer_affiliation_type(unit: str, kind: str | None) -> None:
    assert infer_affiliation_type(unit) == kind


def test_parse_participant() -> None:
    assert parse_participant(" 张三 | 某省医疗保障局 | 医保管理 ") == {
        "name": "张三",
        "affiliation": "某省医疗保障局",
        "affiliation_type": "医保行政部门",
        "field": "医保管理",
    }
    assert parse_participant("李四｜某某科技有限公司｜信息技术｜第三方技术信息服务机构")["affiliation_type"] == (
        "第三方技术信息服务机构"
    )
    for bad in ("张三|某局", "张三|某省医疗保障局|会计", "张三|某某公司|经办", "张三|某局|经办|单位"):
        with pytest.raises(ParticipantProblem):
            parse_participant(bad)
