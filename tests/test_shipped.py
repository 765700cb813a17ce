"""The library this repository ships: real, complete enough to recognise, and valid."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import run_twoku
from twoku.cli import app
from twoku.model import enums, tables
from twoku.model.bounds import bounds_problem
from twoku.model.framework import RULE_KINDS
from twoku.ops.validate import load_store

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
# Public framework codes: those of the framework 1.0 classes as the 2025 edition lists them (twoku.model.framework,
# from shared/domain/framework-2025.md); a shipped rule may use no other, and none for the 10 classes new in 2025.
KNOWN_CODES = {kind.code for kind in RULE_KINDS if kind.code}
# The 1.0 codes framework-2025.md gives the 管理类 (except 统计指标监测类) and 医疗类 classes.
MANAGEMENT_MEDICAL_CODES = {
    "GZ10000201001000", "GZ10000201002000", "GZ10000201003000", "GZ10000201004000",
    "GZ10000201005000", "GZ10000201006000", "GZ10000201007000", "GZ10000201008000",
    "GZ10000202001000", "GZ10000202002000", "GZ10000202003000", "GZ10000202004000",
    "GZ10000203001000", "GZ10000204002000", "GZ10000204003000", "GZ10000204004000",
    "GZ10000204005000", "GZ10000204006000", "GZ10000204007000", "GZ10000301001000",
    "GZ10000301003000", "GZ10000301006000", "GZ10000301007000", "GZ10000301008000",
    "GZ10000301009000", "GZ10000301010000", "GZ10000301011000", "GZ10000301012000",
    "GZ10000302001000", "GZ10000302002000", "GZ10000302005000", "GZ10000302006000",
    "GZ10000303001000", "GZ10000303002000", "GZ10000303003000",
}  # fmt: skip


def _lib():  # type: ignore[no-untyped-def]
    return load_store(REPO, use_cache=False).library


def test_validate_on_a_clean_copy_is_green_with_counts_per_layer(shipped: Path) -> None:
    result = run_twoku("validate", cwd=shipped)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "全部通过" in result.stdout
    for layer in ("国家（CN）", "四川省（示例）（510000）", "成都市（示例）（510100）"):
        assert layer in result.stdout
    data = json.loads(run_twoku("validate", "--format", "json", "--strict", cwd=shipped).stdout)
    assert data["summary"] == {"ok": True, "errors": 0, "warnings": 0, "waived": 0}


def test_national_rules_cover_every_class_of_the_framework() -> None:
    rules = [r for r in _lib().of_kind("rule") if r.layer and r.layer.code == "CN"]
    assert len(rules) >= 30
    per_class = Counter(r.data["category"] for r in rules)
    assert set(per_class) == set(enums.labels(enums.RULE_CATEGORIES)), per_class


def test_every_rule_has_the_elements_of_article_8() -> None:
    for rule in _lib().of_kind("rule"):
        for key in ("name", "definition", "logic", "uses", "stages", "level", "violations", "basis"):
            assert rule.data.get(key), f"{rule.id} lacks {key}"


def test_framework_codes_are_only_the_public_ones() -> None:
    used = {r.data["framework_code"] for r in _lib().of_kind("rule") if "framework_code" in r.data}
    assert used <= KNOWN_CODES | MANAGEMENT_MEDICAL_CODES
    assert {"GZ10000204001000", "GZ10000102012000", "GZ10000301004000"} <= used


def test_national_knowledge_covers_the_five_categories_of_article_7() -> None:
    knowledge = [k for k in _lib().of_kind("knowledge") if k.layer and k.layer.code == "CN"]
    per_category = Counter(k.data["category"] for k in knowledge)
    assert set(per_category) == set(enums.labels(enums.KNOWLEDGE_CATEGORIES)), per_category
    titles = {k.data["title"] for k in knowledge}
    for law in ("中华人民共和国社会保险法", "中华人民共和国基本医疗卫生与健康促进法", "医疗保障基金使用监督管理条例"):
        assert law in titles
    regulation = next(k for k in knowledge if k.data["title"] == "医疗保障基金使用监督管理条例")
    assert regulation.data["doc_number"] == "国务院令第735号" and regulation.data["effective"] == "2021-05-01"
    assert regulation.data["articles"]


def test_each_national_code_system_has_a_pattern_and_a_matching_table() -> None:
    lib = _lib()
    codes = [k for k in lib.of_kind("knowledge") if k.data["category"] == "医保信息业务编码" and k.layer.code == "CN"]
    assert len(codes) >= 9
    seeded = []
    for item in codes:
        pattern = re.compile(item.data["pattern"], re.ASCII)
        spec = tables.spec_of(item.data)
        assert spec is not None and not spec.legacy and spec.digest, f"{item.id}: its table is declared and sealed"
        table = lib.tables[tables.table_path(item.path, spec)]
        # A table may be empty (no public code to seed it, e.g. 医用耗材、定点医疗机构、医保医师): its rows come
        # from twoku import codes. Whatever rows it has fit the pattern and none is a placeholder (issue #18).
        assert table is not None and table.readable, item.id
        assert all(pattern.fullmatch(row[0]) for row in table.rows), item.id
        assert not [row for row in table.rows if "占位" in ",".join(row)], f"{item.id}: a placeholder code"
        seeded += [item.id] if table.rows else []
    assert len(seeded) >= 6, seeded
    drugs = next(k for k in codes if "西药" in k.data["title"])
    drug_spec = tables.spec_of(drugs.data)
    assert drug_spec is not None
    drug_table = lib.tables[tables.table_path(drugs.path, drug_spec)]
    assert drug_table and "XL02BBA326A001010102180" in [row[0] for row in drug_table.rows]


def test_lifecycle_examples_exist() -> None:
    lib = _lib()
    deprecated = [r for r in lib.of_kind("rule") if r.deprecated]
    assert deprecated and all(lib.get(r.data["deprecated"]["replaced_by"]) for r in deprecated)
    assert any(r.data.get("focus") for r in lib.of_kind("rule"))
    assert any(k.deprecated and k.data.get("superseded_by") for k in lib.of_kind("knowledge"))


def test_overrides_stay_within_their_bounds_and_span_three_layers() -> None:
    lib = _lib()
    overrides = lib.of_kind("override")
    assert {o.layer.code for o in overrides} == {"510000", "510100"}
    assert sum(o.layer.code == "510000" for o in overrides) >= 2
    for override in overrides:
        target = lib.get(override.data["target"])
        for name, value in override.data.get("parameters", {}).items():
            assert bounds_problem(target.data["parameters"][name], value) is None, override.id
    for layer, minimum in (("510000", 3), ("510100", 1)):
        assert sum(r.layer.code == layer for r in lib.of_kind("rule")) >= minimum


def test_examples_are_marked_and_people_are_not_named() -> None:
    lib = _lib()
    for item in lib.items.values():
        if item.layer and item.layer.code != "CN" and item.kind in ("knowledge",):
            assert "示例" in item.data["title"], item.id
    for record in lib.of_kind("argumentation"):
        for person in record.data["participants"]:
            assert re.fullmatch(r"专家[甲乙丙丁戊己庚辛壬癸]", person["name"]), record.id


def test_show_in_the_city_labels_values_from_all_three_layers(shipped: Path) -> None:
    result = runner.invoke(app, ["show", "CN-R-0017", "--region", "510100", "--format", "json"])
    data = json.loads(result.stdout)
    layers = {p["layer"] for p in data["parameters"].values()} | {f["layer"] for f in data["fields"].values()}
    assert layers == {"CN", "510000", "510100"}
    assert data["parameters"]["readmission_days"] == {
        **data["parameters"]["readmission_days"],
        "value": 10,
        "layer": "510000",
    }
    text = runner.invoke(app, ["show", "CN-R-0017", "--region", "510100"]).output
    assert "四川省（示例）" in text and "成都市（示例）" in text
