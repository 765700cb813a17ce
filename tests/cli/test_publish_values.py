"""第十二条: exact thresholds are disclosed to the designated institutions; society reads the monitoring points
with the values withheld, unless the store's twoku.yaml says ``disclosure: {parameters: society}``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_publish import all_text, data_of, publish, rules_by_id
from tests.storefactory import commit_all
from twoku.model.disclosure import WITHHELD

ARGS = ("--region", "510100", "--as-of", "2026-06-30")


def _society(root: Path, out: Path) -> dict[str, Any]:
    return publish(*ARGS, "--audience", "society", out=out)


def test_society_reads_the_points_without_the_thresholds_by_default(shipped: Path, tmp_path: Path) -> None:
    society = _society(shipped, tmp_path / "s")
    institutions = publish(*ARGS, out=tmp_path / "i")
    rule = rules_by_id(data_of(society))["CN-R-0017"]
    # the local value (10 天, set by the province) and the national one (15 天) are both withheld
    assert all(p["value"] == WITHHELD and p["withheld"] and p["unit"] is None for p in rule["parameters"])
    assert all(p["suggested"] is None for p in rule["parameters"])
    assert rule["monitoring_point"].startswith(f"同一患者从本院出院后（{WITHHELD}）内")
    assert {p["layer_name"] for p in rule["parameters"]} == {"四川省（示例）", "成都市（示例）"}  # who set it stays
    for fmt, text in all_text(society).items():
        assert "出院后10天" not in text and "出院后15天" not in text, fmt  # (prose written with a number is TK409's)
        assert WITHHELD in text, fmt
    seen = rules_by_id(data_of(institutions))["CN-R-0017"]
    assert {p["name"]: p["value"] for p in seen["parameters"]}["readmission_days"] == 10
    assert seen["monitoring_point"].startswith("同一患者从本院出院后10天内")


def test_a_store_may_publish_the_thresholds_to_society(shipped: Path, tmp_path: Path) -> None:
    config = shipped / "twoku.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "disclosure:\n  parameters: society\n", encoding="utf-8")
    commit_all(shipped, "阈值向社会公开")
    society = _society(shipped, tmp_path / "s")
    rule = rules_by_id(data_of(society))["CN-R-0017"]
    params = {p["name"]: p for p in rule["parameters"]}
    assert (params["readmission_days"]["value"], params["readmission_days"]["unit"]) == (10, "天")
    assert not params["readmission_days"]["withheld"]
    assert "10天" in society["md"].decode("utf-8") and WITHHELD not in society["md"].decode("utf-8")


def test_a_bad_setting_is_a_finding(shipped: Path) -> None:
    from typer.testing import CliRunner

    from twoku.cli import app

    config = shipped / "twoku.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "disclosure:\n  parameters: public\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--format", "json"])
    found = [f for f in json.loads(result.stdout)["findings"] if f["path"] == "twoku.yaml"]
    assert result.exit_code == 1 and found and found[0]["code"].startswith("TK")


def test_the_change_notice_withholds_a_changed_threshold(shipped: Path, tmp_path: Path) -> None:
    publish(*ARGS, "--audience", "society", out=tmp_path / "first")
    override = shipped / "provincial/510000/overrides/510000-O-0001.yaml"
    text = override.read_text(encoding="utf-8")
    assert "readmission_days: 10" in text
    override.write_text(text.replace("readmission_days: 10", "readmission_days: 12"), encoding="utf-8")
    commit_all(shipped, "再入院间隔改为 12 天")
    later = ("--region", "510100", "--as-of", "2026-07-01")
    society = publish(*later, "--audience", "society", out=tmp_path / "s")
    institutions = publish(*later, out=tmp_path / "i")
    assert "12" not in json.dumps(data_of(society)["changes"], ensure_ascii=False)
    assert "12" in json.dumps(data_of(institutions)["changes"], ensure_ascii=False)
