"""twoku new rule / knowledge / override on real temporary git stores, each followed by validate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.storefactory import RULE, commit_all, digest_of, git, write_files
from twoku.cli import app
from twoku.errors import TwokuError
from twoku.model.regions import Layer
from twoku.model.templates import PLACEHOLDER, knowledge_template, rule_template
from twoku.ops.new import _create
from twoku.store.documents import yamlio
from twoku.store.documents.edit import _yaml

runner = CliRunner()


def new(*args: str, input: str | None = None) -> object:
    return runner.invoke(app, ["new", *args], input=input)


def created(result: object) -> dict[str, object]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = result.stdout  # type: ignore[attr-defined]
    # CliRunner echoes the answers fed to the prompts onto stdout, as a terminal would show them
    out: dict[str, object] = json.loads(text[text.index("{\n") :])
    return out


def data_of(root: Path, path: str) -> dict[str, object]:
    parsed = yamlio.to_json(yamlio.load((root / path).read_bytes())[0])
    assert isinstance(parsed, dict)
    return parsed


def only_placeholder_warnings(root: Path) -> list[dict[str, object]]:
    """Validate the store: no errors, and every finding a TK607 placeholder warning."""
    result = runner.invoke(app, ["validate", "--format", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert report["summary"]["errors"] == 0
    assert {f["code"] for f in report["findings"]} <= {"TK607"}, report["findings"]
    findings: list[dict[str, object]] = report["findings"]
    return findings


def round_trips(text: str) -> bool:
    yaml = _yaml()
    out = io.StringIO()
    yaml.dump(yaml.load(text), out)
    return out.getvalue() == text


def staged(root: Path) -> list[str]:
    return [line[3:] for line in git(root, "status", "--porcelain").splitlines() if line.startswith("A ")]


def test_new_rule_from_flags_is_valid_staged_and_round_trips(store: Path) -> None:
    result = new(
        "rule", "--layer", "CN", "--category", "drug-policy", "--name", "限性别用药", "--level", "明确违规",
        "--scenario", "支付审核", "--scenario", "事前提醒", "--basis", "CN-K-0002:说明书【适应症】",
        "--no-input", "--format", "json",
    )  # fmt: skip
    out = created(result)
    path = "national/rules/drug-policy/CN-R-0002.yaml"
    assert (out["id"], out["path"]) == ("CN-R-0002", path)
    text = (store / path).read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../../schema/rule.schema.json\n")
    assert round_trips(text)
    data = data_of(store, path)
    assert data["status"] == "草稿" and data["level"] == "明确违规" and data["name"] == "限性别用药"
    assert data["uses"] == ["支付审核", "事前提醒"]
    assert data["basis"] == [{"id": "CN-K-0002", "article": "说明书【适应症】"}]
    assert PLACEHOLDER in str(data["definition"]) and "name" not in out["to_fill"]  # type: ignore[operator]
    assert staged(store) == [path]
    findings = only_placeholder_warnings(store)
    assert {f["path"] for f in findings} == {path}
    assert len(findings) == 4  # definition, monitoring point, logic, violations


def test_new_rule_interactive_prompts(store: Path) -> None:
    # name, category (7 = 行为主体监管类), level (default 可疑), scenarios, basis with an article
    answers = "挂床住院\n7\n\n4, 5\n1:第十五条\n"
    out = created(new("rule", "--layer", "510000", "--format", "json", input=answers))
    assert out["path"] == "provincial/510000/rules/actor-supervision/510000-R-0001.yaml"
    data = data_of(store, str(out["path"]))
    assert data["name"] == "挂床住院" and data["category"] == "行为主体监管类" and data["level"] == "可疑"
    assert data["uses"] == ["协议考核", "稽核"]
    assert data["basis"] == [{"id": "CN-K-0001", "article": "第十五条"}]
    only_placeholder_warnings(store)


def test_interactive_prompts_offer_knowledge_and_retry_bad_answers(store: Path) -> None:
    answers = "\n99\n行为主体监管类\n1\n\nCN-K-0009\nCN-K-0001\n"
    result = new("rule", "--layer", "CN", input=answers)
    assert result.exit_code == 0, result.output
    assert "CN-K-0001  医疗保障基金使用监督管理条例（法律法规）" in result.output
    assert "“99”不在列表中" in result.output and "无法识别：CN-K-0009" in result.output
    data = data_of(store, "national/rules/actor-supervision/CN-R-0002.yaml")
    assert data["level"] == "明确违规" and data["uses"] == ["支付审核"]  # the default scenario
    assert str(data["name"]).startswith(PLACEHOLDER)
    only_placeholder_warnings(store)


def test_new_knowledge_interactive_and_not(store: Path) -> None:
    out = created(new("knowledge", "--layer", "510000", "--format", "json", input="4\n四川省医保药品编码\n"))
    assert out["path"] == "provincial/510000/knowledge/codes/510000-K-0001.yaml"
    data = data_of(store, str(out["path"]))
    assert data["category"] == "医保信息业务编码" and data["title"] == "四川省医保药品编码" and "pattern" in data
    out = created(new("knowledge", "--layer", "CN", "--category", "laws", "--no-input", "--format", "json"))
    assert out["id"] == "CN-K-0003"
    text = (store / str(out["path"])).read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../../schema/knowledge.schema.json\n")
    assert round_trips(text)
    assert sorted(staged(store)) == sorted([out["path"], "provincial/510000/knowledge/codes/510000-K-0001.yaml"])
    only_placeholder_warnings(store)


def test_new_override_is_prefilled_with_values_bounds_and_digest(store: Path) -> None:
    out = created(new("override", "CN-R-0001", "--layer", "510100", "--no-input", "--format", "json"))
    path = "provincial/510000/municipal/510100/overrides/510100-O-0001.yaml"
    assert out["path"] == path
    text = (store / path).read_text(encoding="utf-8")
    assert round_trips(text)
    # the city starts from the province's setting (10), with the national bounds beside it
    assert "readmission_days: 10  # 7～30天，CN-R-0001 取值 15；再入院间隔\n" in text
    assert "same_diagnosis_only" not in text  # not localisable upstream
    data = data_of(store, path)
    assert data["base_digest"] == digest_of(RULE) and data["target"] == "CN-R-0001"
    only_placeholder_warnings(store)


def test_new_override_interactive_reason_and_next_id(store: Path) -> None:
    existing = store / "provincial/510000/overrides/510000-O-0001.yaml"
    existing.write_text(
        existing.read_text(encoding="utf-8").replace(
            "status: 生效", "status: 废弃\ndeprecated: {date: 2026-01-01, reason: 另起一个}"
        ),
        encoding="utf-8",
    )
    commit_all(store)
    out = created(new("override", "CN-R-0001", "--layer", "510000", "--format", "json", input="本省协议\n"))
    assert out["id"] == "510000-O-0002"  # 510000-O-0001 exists
    assert data_of(store, str(out["path"]))["reason"] == "本省协议"
    assert out["to_fill"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["override", "CN-R-0001", "--layer", "CN"], "国家层没有上级"),
        (["override", "CN-R-0009", "--layer", "510000"], "没有编号为 CN-R-0009 的规则"),
        (["override", "CN-K-0001", "--layer", "510000"], "没有编号为 CN-K-0001 的规则"),
        (["rule", "--layer", "CN", "--category", "行为主体监管类", "--no-input"], "至少有一条依据"),
        (["rule", "--layer", "CN", "--category", "x", "--basis", "CN-K-0001", "--no-input"], "不是有效类别"),
        (["rule", "--layer", "CN", "--category", "药品监管类", "--basis", "CN-K-0404", "--no-input"], "没有这条知识"),
        (["rule", "-l", "CN", "-c", "药品监管类", "-b", "CN-K-0001", "--level", "轻微", "--no-input"], "不是判断等级"),
        (["knowledge", "--layer", "520199", "--category", "laws", "--no-input"], "县级代码"),
        (["knowledge", "--layer", "CN", "--no-input"], "须给出 --category"),
        (["rule", "--layer", "CN"], "没有读到输入"),  # a script that forgot --no-input
    ],
)
def test_refusals_write_nothing(store: Path, args: list[str], message: str) -> None:
    result = new(*args, input="")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert git(store, "status", "--porcelain") == ""


def test_a_second_override_in_a_layer_is_refused_naming_the_first(store: Path) -> None:
    """Issue #21.2: `new override` ignored the layer's existing override of the rule."""
    result = new("override", "CN-R-0001", "--layer", "510000", "--no-input")
    assert result.exit_code == 2, result.output
    assert "已有 CN-R-0001 的本地化 510000-O-0001" in result.output
    assert "provincial/510000/overrides/510000-O-0001.yaml" in result.output
    assert git(store, "status", "--porcelain") == ""
    # asked before any prompt: nothing is read from the terminal
    result = new("override", "CN-R-0001", "--layer", "510000", input="")
    assert result.exit_code == 2 and "已有" in result.output and "本地化理由" not in result.output


def test_a_rule_with_nothing_localisable_gets_no_empty_override(store: Path) -> None:
    """Issue #21.10: an override of a rule with no localisable parameter would change nothing."""
    fixed = RULE.replace("CN-R-0001", "CN-R-0002").replace("framework_code: GZ10000204001000\n", "")
    fixed = fixed.replace("    localisable:\n      min: 7\n      max: 30\n", "")
    assert "localisable" not in fixed
    write_files(store, {"national/rules/actor-supervision/CN-R-0002.yaml": fixed})
    commit_all(store)
    result = new("override", "CN-R-0002", "--layer", "510100", "--no-input")
    assert result.exit_code == 2 and "没有可本地化的参数" in result.output
    assert git(store, "status", "--porcelain") == ""


def test_two_active_overrides_in_a_layer_fail_validate_also_after_an_edit(store: Path) -> None:
    """Issue #21.2: a second active override was accepted and `show` let it win quietly (TK507)."""
    first = (store / "provincial/510000/overrides/510000-O-0001.yaml").read_text(encoding="utf-8")
    second = store / "provincial/510000/overrides/510000-O-0002.yaml"
    second.write_text(
        first.replace("510000-O-0001", "510000-O-0002").replace("status: 生效", "status: 草稿"), encoding="utf-8"
    )
    assert runner.invoke(app, ["validate"]).exit_code == 0  # a draft beside the active one: fine (and cached)
    second.write_text(second.read_text(encoding="utf-8").replace("status: 草稿", "status: 生效"), encoding="utf-8")
    result = runner.invoke(app, ["validate", "--format", "json"])  # the cache re-checks the edited file only
    assert result.exit_code == 1
    found = {(f["code"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {
        ("TK507", "provincial/510000/overrides/510000-O-0001.yaml"),
        ("TK507", "provincial/510000/overrides/510000-O-0002.yaml"),
    }
    second.unlink()
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["findings"] == []


def test_override_refused_outside_the_chain(store: Path) -> None:
    province_rule = RULE.replace("CN-R-0001", "510000-R-0001").replace("framework_code: GZ10000204001000\n", "")
    write_files(store, {"provincial/510000/rules/actor-supervision/510000-R-0001.yaml": province_rule})
    commit_all(store)
    for layer, why in (("510000", "本层自己的规则"), ("CN", "国家层没有上级")):
        result = new("override", "510000-R-0001", "--layer", layer, "--no-input")
        assert result.exit_code == 2 and why in result.output
    # 510100 lies under 510000: allowed
    assert new("override", "510000-R-0001", "--layer", "510100", "--no-input").exit_code == 0


def test_ids_allocate_per_layer_and_skip_numbers_on_disk(store: Path) -> None:
    # a broken file still holds its number; a duplicate's number too
    write_files(store, {"national/rules/drug-policy/CN-R-0007.yaml": "id: [\n"})
    first = created(new("knowledge", "--layer", "510100", "--category", "laws", "--no-input", "--format", "json"))
    second = created(new("knowledge", "--layer", "510100", "--category", "policies", "--no-input", "--format", "json"))
    rule = created(
        new("rule", "--layer", "CN", "--category", "drug-policy", "--basis", "CN-K-0001", "--no-input", "-f", "json")
    )
    assert (first["id"], second["id"], rule["id"]) == ("510100-K-0001", "510100-K-0002", "CN-R-0008")


def test_commit_makes_a_commit_with_only_the_new_file(store: Path) -> None:
    write_files(store, {"notes.txt": "someone else's work\n"})
    git(store, "add", "notes.txt")
    result = new("knowledge", "--layer", "CN", "--category", "laws", "--title", "社会保险法", "--no-input", "--commit")
    assert result.exit_code == 0, result.output
    assert git(store, "log", "-1", "--format=%s").strip() == "新建知识 CN-K-0003（草稿）：社会保险法"
    assert git(store, "show", "--name-only", "--format=", "HEAD").split() == ["national/knowledge/laws/CN-K-0003.yaml"]
    assert staged(store) == ["notes.txt"]  # what was staged stays staged


def test_never_overwrites(store: Path) -> None:
    template = knowledge_template("CN-K-0001", Layer("CN"), "法律法规")
    before = (store / template.path).read_bytes()
    with pytest.raises(TwokuError, match="已存在"):
        _create(store, template, commit=False)
    assert (store / template.path).read_bytes() == before


@pytest.mark.parametrize("category", ["药品政策限定类", "统计指标监测类", "医用耗材合理使用类"])
def test_templates_round_trip_byte_for_byte(category: str) -> None:
    from twoku.store.documents.scaffold import to_yaml

    template = rule_template("510100-R-0001", Layer("510100"), category, [("CN-K-0001", None)], uses=["稽核"])
    assert round_trips(to_yaml(template))


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_honour_the_umask(store: Path, umask: int, mode: int) -> None:
    """Issue #21.10: new files were written 0600 whatever the umask."""
    import os
    import stat

    old = os.umask(umask)
    try:
        out = created(new("knowledge", "--layer", "CN", "--category", "laws", "--no-input", "--format", "json"))
        path = store / str(out["path"])
        assert stat.S_IMODE(path.stat().st_mode) == mode
        # a file rewritten in place keeps the permissions it had
        os.chmod(path, 0o640)
        from twoku.store.documents.edit import update_values

        update_values(path, {("title",): "改过的标题"})
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)
