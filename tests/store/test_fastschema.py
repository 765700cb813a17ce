"""The compiled fast path accepts a file exactly when jsonschema finds nothing wrong with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from twoku.model.layout import classify
from twoku.store.documents import yamlio
from twoku.store.files import store_paths
from twoku.store.schema import fastschema
from twoku.store.schema.schemas import validator

REPO = Path(__file__).resolve().parents[2]


def _agree(kind: str, data: Any, where: str) -> bool:
    slow = not any(True for _ in validator(kind).iter_errors(data))
    assert fastschema.valid(kind, data) == slow, where
    return slow


def _files_of_cases() -> list[tuple[str, str]]:
    out = []
    for path in sorted((REPO / "tests" / "checks" / "cases").glob("*.yaml")):
        for case in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")):
            for name, text in (case.get("files") or {}).items():
                if isinstance(text, str):
                    out.append((name, text))
    return out


def test_every_shipped_file_is_judged_alike() -> None:
    judged = 0
    for path in store_paths(REPO):
        kind = classify(path).kind
        if kind:
            data = yamlio.to_json(yamlio.load((REPO / path).read_bytes())[0])
            assert _agree(kind, data, path), f"{path} is shipped and valid"
            judged += 1
    assert judged > 50


def test_every_case_file_is_judged_alike() -> None:
    invalid = 0
    for name, text in _files_of_cases():
        kind = classify(name).kind
        try:
            data = yamlio.to_json(yamlio.load(text.encode("utf-8"))[0])
        except yamlio.YamlProblem:
            continue
        if kind and isinstance(data, dict):
            invalid += not _agree(kind, data, name)
    assert invalid >= 5, "the TK2xx cases should include files the schema refuses"


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (
            "knowledge",
            {"id": "CN-K-0001", "category": "法律法规", "title": "某法", "status": "生效", "effective": "2021-02-30"},
        ),
        (
            "knowledge",
            {"id": "CN-K-0001", "category": "法律法规", "title": "某法", "status": "生效", "pattern": "^[A-"},
        ),
        (
            "rule",
            {
                "id": "CN-R-0001",
                "name": "x",
                "category": "药品政策限定类",
                "definition": "d",
                "logic": "l",
                "uses": ["稽核"],
                "level": "可疑",
                "violations": ["v"],
                "basis": [{"id": "CN-K-0001"}],
                "status": "草稿",
                "parameters": {"days": {"value": True, "description": "d", "localisable": {"min": 1}}},
            },
        ),
        (
            "rule",
            {
                "id": "CN-R-0001",
                "name": "x",
                "category": "药品政策限定类",
                "definition": "d",
                "logic": "l",
                "uses": ["稽核", "稽核"],
                "level": "可疑",
                "violations": ["v"],
                "basis": [{"id": "CN-K-0001"}],
                "status": "草稿",
            },
        ),
        (
            "override",
            {
                "id": "510000-O-0001",
                "target": "CN-R-0001",
                "base_digest": "sha256:00",
                "reason": "r",
                "status": "生效",
                "parameters": {"days": 1.5},
            },
        ),
    ],
)
def test_edge_values_are_judged_alike(kind: str, data: dict[str, Any]) -> None:
    _agree(kind, data, repr(data))


@pytest.mark.parametrize(
    "value",
    [
        *("2024-02-29", "2023-02-29", "2021-02-30", "2021-13-01", "0000-01-01", "9999-12-31", "2021-1-01"),
        *("2021-01-01\n", "20210101", "2021-01-01T00:00:00", "２０２１-01-01", "2021-01-01 ", "", "2021/01/01"),
    ],
)
def test_dates_are_judged_as_jsonschema_judges_them(value: str) -> None:
    data = {"id": "CN-K-0001", "category": "法律法规", "title": "某法", "status": "生效", "effective": value}
    _agree("knowledge", data, repr(value))


@pytest.mark.parametrize("value", ["^[A-Z]\\d{3}$", "^[A-", "(?P<x>a)(?P=x)", "a{2,1}", "\\", "(?<=a+)b", ""])
def test_patterns_are_judged_as_jsonschema_judges_them(value: str) -> None:
    data = {"id": "CN-K-0001", "category": "医保信息业务编码", "title": "代码", "status": "生效", "pattern": value}
    _agree("knowledge", data, repr(value))


@pytest.mark.parametrize("kind", ["knowledge", "rule", "override", "argumentation", "adjustment", "config", "claim"])
def test_the_shipped_code_of_each_schema_is_for_that_schema(kind: str) -> None:
    # A schema changed without running scripts/gen_schemas.py is still checked (its code made at run time),
    # only more slowly; this keeps the shipped code in step.
    from twoku.store.schema.schemas import load_schema

    shipped = REPO / "twoku" / "store" / "schema" / "schemacode" / f"{kind}.py"
    assert fastschema._shipped(kind, load_schema(kind)) is not None, "run: python scripts/gen_schemas.py"
    import fastjsonschema

    if f'VERSION = "{fastjsonschema.VERSION}"' in shipped.read_text(encoding="utf-8"):  # written by this version
        assert shipped.read_text(encoding="utf-8") == fastschema.code_for(kind), "run: python scripts/gen_schemas.py"


def test_a_schema_without_its_shipped_code_is_compiled_and_judged_alike() -> None:
    import copy

    from twoku.store.schema.schemas import load_schema

    changed = copy.deepcopy(load_schema("knowledge"))
    changed["properties"]["title"]["maxLength"] = 5
    assert fastschema._shipped("knowledge", changed) is None  # not the schema its code was made of
    scope: dict[str, Any] = {}
    exec(compile(fastschema.code_for("knowledge", changed), "<changed>", "exec"), scope)
    check = scope["validate"]
    law = {"id": "CN-K-0001", "category": "法律法规", "title": "中华人民共和国社会保险法", "status": "生效"}
    with pytest.raises(Exception, match="title"):
        check(law, custom_formats={"date": lambda _: True})
    check({**law, "title": "社会保险法"}, custom_formats={"date": lambda _: True})
