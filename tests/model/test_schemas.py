"""The schema files are generated from the one set of enums, and say what they mean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from twoku.model import enums
from twoku.model.schemas import FILES, all_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


@pytest.mark.parametrize("kind", sorted(FILES))
def test_schema_files_match_the_code(kind: str) -> None:
    on_disk = json.loads((SCHEMA_DIR / FILES[kind]).read_text(encoding="utf-8"))
    assert on_disk == all_schemas()[kind], "run: python scripts/gen_schemas.py"


@pytest.mark.parametrize("kind", sorted(FILES))
def test_schemas_are_valid_draft_2020_12(kind: str) -> None:
    Draft202012Validator.check_schema(all_schemas()[kind])


def _properties(schema: object, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            yield f"{path}/{name}", sub
            yield from _properties(sub, f"{path}/{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                yield from _properties(schema[key], f"{path}/{key}")


@pytest.mark.parametrize("kind", sorted(FILES))
def test_every_property_has_a_chinese_title_description_and_disclosure(kind: str) -> None:
    for where, prop in _properties(all_schemas()[kind]):
        assert prop.get("title") and prop.get("description"), f"{kind}{where}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in prop["title"]), f"{kind}{where}"
        assert prop.get("x-twoku-disclosure") in enums.DISCLOSURES, f"{kind}{where}"


def test_enums_reach_the_schemas() -> None:
    rule = all_schemas()["rule"]["properties"]
    assert rule["category"]["enum"] == enums.labels(enums.RULE_CATEGORIES)
    assert rule["uses"]["items"]["enum"] == list(enums.USES)
    assert rule["level"]["enum"] == list(enums.LEVELS)
    assert rule["status"]["enum"] == list(enums.STATUSES)
    knowledge = all_schemas()["knowledge"]["properties"]
    assert knowledge["category"]["enum"] == enums.labels(enums.KNOWLEDGE_CATEGORIES)
    record = all_schemas()["argumentation"]["properties"]
    assert record["kind"]["enum"] == list(enums.ARGUMENTATION_KINDS)


def test_personal_data_is_internal() -> None:
    people = all_schemas()["argumentation"]["properties"]["participants"]
    assert people["x-twoku-disclosure"] == "internal"
    for prop in people["items"]["properties"].values():
        assert prop["x-twoku-disclosure"] == "internal"
