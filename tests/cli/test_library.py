"""twoku ls and twoku show: the effective library of a region, values with their layer."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.storefactory import write_files
from twoku.cli import app

runner = CliRunner()

CITY_OVERRIDE = (
    "id: 510100-O-0001\ntarget: CN-R-0001\nbase_digest: '{d}'\nparameters:\n"
    "  readmission_days: 7\nuses: [协议考核]\nreason: 本市要求\nstatus: 生效\n"
)


def test_ls_rules_json(store: Path) -> None:
    result = runner.invoke(app, ["ls", "rules", "--format", "json"])
    assert result.exit_code == 0
    assert [r["id"] for r in json.loads(result.stdout)] == ["CN-R-0001"]


def test_ls_filters_by_category_and_status(store: Path) -> None:
    out = json.loads(runner.invoke(app, ["ls", "knowledge", "--category", "laws", "--format", "json"]).stdout)
    assert [k["id"] for k in out] == ["CN-K-0001"]
    out = json.loads(runner.invoke(app, ["ls", "knowledge", "--status", "草稿", "--format", "json"]).stdout)
    assert out == []
    assert runner.invoke(app, ["ls", "knowledge", "--status", "有效"]).exit_code == 2


def test_ls_region_shows_only_its_chain(store: Path) -> None:
    write_files(
        store,
        {
            "provincial/520000/knowledge/laws/520000-K-0001.yaml": "id: 520000-K-0001\ncategory: 法律法规\ntitle: 贵州某规\nstatus: 生效\n"
        },
    )
    ids = [
        k["id"]
        for k in json.loads(runner.invoke(app, ["ls", "knowledge", "--region", "510100", "--format", "json"]).stdout)
    ]
    assert "520000-K-0001" not in ids and "CN-K-0001" in ids
    ids = [
        k["id"]
        for k in json.loads(runner.invoke(app, ["ls", "knowledge", "--region", "520000", "--format", "json"]).stdout)
    ]
    assert "520000-K-0001" in ids


def test_show_labels_each_value_with_its_layer(store: Path) -> None:
    from tests.storefactory import RULE, digest_of

    write_files(
        store,
        {
            "provincial/510000/municipal/510100/overrides/510100-O-0001.yaml": CITY_OVERRIDE.replace(
                "{d}", digest_of(RULE)
            ).replace("readmission_days: 7\n", "same_diagnosis_only: false\n")
        },
    )
    # the city may not change same_diagnosis_only (not localisable) — validate says so …
    assert runner.invoke(app, ["validate"]).exit_code == 1
    write_files(
        store,
        {
            "provincial/510000/municipal/510100/overrides/510100-O-0001.yaml": CITY_OVERRIDE.replace(
                "{d}", digest_of(RULE)
            )
        },
    )
    data = json.loads(runner.invoke(app, ["show", "CN-R-0001", "--region", "510100", "--format", "json"]).stdout)
    params = data["parameters"]
    assert params["readmission_days"]["value"] == 7
    assert params["readmission_days"]["layer"] == "510100"
    assert params["same_diagnosis_only"]["layer"] == "CN"
    assert data["fields"]["uses"]["value"] == ["支付审核", "稽核", "协议考核"]
    assert data["fields"]["uses"]["layer"] == "510100"
    assert data["overrides"] == ["510000-O-0001", "510100-O-0001"]
    province = json.loads(runner.invoke(app, ["show", "CN-R-0001", "--region", "510000", "--format", "json"]).stdout)
    assert province["parameters"]["readmission_days"] == {
        **province["parameters"]["readmission_days"],
        "value": 10,
        "layer": "510000",
    }
    national = json.loads(runner.invoke(app, ["show", "CN-R-0001", "--format", "json"]).stdout)
    assert national["parameters"]["readmission_days"]["value"] == 15


def test_show_text_and_yaml(store: Path) -> None:
    result = runner.invoke(app, ["show", "CN-R-0001", "--region", "510000"])
    assert result.exit_code == 0
    assert "readmission_days" in result.output and "四川省（测试）" in result.output
    yaml_out = runner.invoke(app, ["show", "CN-K-0001", "--format", "yaml"]).stdout
    assert "医疗保障基金使用监督管理条例" in yaml_out


def test_show_unknown_id_and_foreign_region(store: Path) -> None:
    result = runner.invoke(app, ["show", "CN-R-0999"])
    assert result.exit_code == 2 and "CN-R-0999" in result.output
    write_files(
        store,
        {
            "provincial/520000/knowledge/laws/520000-K-0001.yaml": "id: 520000-K-0001\ncategory: 法律法规\ntitle: 贵州某规\nstatus: 生效\n"
        },
    )
    assert runner.invoke(app, ["show", "520000-K-0001", "--region", "510100"]).exit_code == 2
