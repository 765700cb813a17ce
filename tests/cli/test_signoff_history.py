"""The history of argumentation on the shipped store: no rule in force before the record that argued it
(TK611) or before the adjustment that added it (TK612); records marked illustrative are shown as 示例 wherever
they are listed; what a real record holds (meeting, attendance, votes, dissent) is shown by signoff show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.storefactory import commit_all
from twoku.cli import app

runner = CliRunner()
CN_R_0024 = "national/rules/indicator-monitoring/CN-R-0024.yaml"


def _findings(code: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["validate", "--format", "json"])
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == code]


def _edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text, (path, old)
    file.write_text(text.replace(old, new), encoding="utf-8")


def test_the_shipped_history_is_consistent(shipped: Path) -> None:
    assert _findings("TK611") == [] and _findings("TK612") == []


def test_a_rule_in_force_before_its_first_record_is_found(shipped: Path) -> None:
    # CN-A-0004 is the record that brought the rules in force since 2024-01-01 into force; without it the
    # earliest record is the re-argumentation of the 2025 annual adjustment
    (shipped / "argumentation/CN-A-0004.yaml").unlink()
    found = _findings("TK611")
    assert len(found) == 18  # the 政策类 rules are argued by CN-A-0010 (2026-12-04) and in force from that day
    cn_r_0017 = next(f for f in found if f["item"] == "CN-R-0017")
    assert cn_r_0017["pointer"] == "/effective" and "CN-A-0002" in cn_r_0017["message"]  # 学术论证 2025-11-12
    assert "2025-11-12" in cn_r_0017["hint"]


def test_a_rule_in_force_before_the_adjustment_that_added_it_is_found(shipped: Path) -> None:
    _edit(shipped, CN_R_0024, "\neffective: 2026-01-01\n", "\neffective: 2025-01-01\n")
    (found,) = _findings("TK612")
    assert found["path"] == "adjustments/CN-annual-2025.yaml" and found["pointer"] == "/added/0"
    assert "CN-R-0024" in found["message"] and "2025-12-20" in found["message"]
    # and before the record that argued it (CN-A-0001, 2025-11-20)
    assert [f["item"] for f in _findings("TK611")] == ["CN-R-0024"]


def test_incremental_validate_follows_an_edit_of_the_adjustment(shipped: Path) -> None:
    commit_all(shipped, "基线")
    assert runner.invoke(app, ["validate"]).exit_code == 0  # fills the cache
    _edit(shipped, "adjustments/CN-annual-2025.yaml", "closed: 2025-12-20", "closed: 2026-02-01")
    (found,) = _findings("TK612")
    assert "2026-02-01" in found["message"]
    _edit(shipped, CN_R_0024, "\neffective: 2026-01-01\n", "\neffective: 2026-03-01\n")
    assert _findings("TK612") == []


def test_illustrative_records_are_shown_as_examples(shipped: Path) -> None:
    shown = json.loads(runner.invoke(app, ["signoff", "show", "CN-A-0002", "--format", "json"]).stdout)
    assert shown["illustrative"] is True
    assert shown["votes"] == {"for": 3, "against": 1, "abstain": 0}
    assert shown["attendance"]["invited"] == 5 and shown["attendance"]["present"] == 4
    assert shown["dissent"] and "15 天" in shown["dissent"][0]
    assert shown["meeting"]["reference"]
    text = runner.invoke(app, ["signoff", "show", "CN-A-0002"], env={"COLUMNS": "200"}).stdout
    for words in ("示例", "赞成 3，反对 1，弃权 0", "应到 5 人", "不同意见", "纪要编号", "缺席：专家戊"):
        assert words in text, words
    status = json.loads(runner.invoke(app, ["signoff", "status", "--format", "json"]).stdout)
    assert {"CN-A-0001", "CN-A-0004", "510000-A-0001"} <= set(status["illustrative_records"])
    listed = runner.invoke(app, ["signoff", "status"], env={"COLUMNS": "200"}).stdout
    table = listed.split("\n（示例）：")[0]  # the cells, before the note naming the illustrative records
    assert table.count("（示例）") >= 32 and "\n（示例）：" in listed


def test_a_real_record_is_not_marked(shipped: Path) -> None:
    _edit(shipped, "argumentation/CN-A-0003.yaml", "illustrative: true\n", "")
    shown = json.loads(runner.invoke(app, ["signoff", "show", "CN-A-0003", "--format", "json"]).stdout)
    assert shown["illustrative"] is False and shown["votes"] is None and shown["dissent"] == []
    text = runner.invoke(app, ["signoff", "show", "CN-A-0003"], env={"COLUMNS": "200"}).stdout
    assert "是：演示论证记录的结构" not in text and "行业论证  示例" not in text
    status = json.loads(runner.invoke(app, ["signoff", "status", "--format", "json"]).stdout)
    assert "CN-A-0003" not in status["illustrative_records"]


def test_votes_must_be_counts(shipped: Path) -> None:
    _edit(shipped, "argumentation/CN-A-0002.yaml", "votes: {for: 3,", "votes: {for: -3,")
    found = [f for f in json.loads(runner.invoke(app, ["validate", "--format", "json"]).stdout)["findings"]]
    assert any(f["code"].startswith("TK2") and f["path"] == "argumentation/CN-A-0002.yaml" for f in found)
