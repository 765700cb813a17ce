"""Property-based tests (hypothesis): validate never crashes, the digest ignores formatting,
twoku's own YAML round-trips byte for byte."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.storefactory import RULE, RULE_PATH, load_text, make_store
from twoku.model import enums
from twoku.model.digest import content_digest
from twoku.ops.validate import validate
from twoku.store.documents import yamlio
from twoku.store.documents.edit import dump

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")), max_size=30)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False), text)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)

rules = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["CN-R-0002", "CN-R-0003"]),
        "name": text.filter(bool),
        "category": st.sampled_from(enums.labels(enums.RULE_CATEGORIES)),
        "definition": text.filter(bool),
        "logic": text.filter(bool),
        "parameters": st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
            st.fixed_dictionaries(
                {"value": st.integers(0, 365), "unit": st.just("天"), "description": text.filter(bool)}
            ),
            max_size=3,
        ),
        "uses": st.lists(st.sampled_from(enums.USES), min_size=1, max_size=4, unique=True),
        "level": st.sampled_from(enums.LEVELS),
        "violations": st.lists(text.filter(bool), min_size=1, max_size=3),
        "basis": st.just([{"id": "CN-K-0001"}]),
        "status": st.sampled_from(["草稿", "征求意见"]),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=rules,
    noise=st.dictionaries(text, value, max_size=3),
    drop=st.sets(st.sampled_from(["name", "logic", "uses", "level", "basis"])),
)
def test_validate_never_crashes_on_generated_or_mutated_rules(
    tmp_path_factory: Any, data: dict[str, Any], noise: dict[str, Any], drop: set[str]
) -> None:
    root = tmp_path_factory.mktemp("p")
    mutated = {**{k: v for k, v in data.items() if k not in drop}, **noise}
    make_store(root, {"national/rules/drug-policy/X.yaml": dump(mutated)}, commit=False)
    report = validate(root, use_cache=False)
    for found in report.findings:
        assert found.code.startswith("TK") and found.line is not None and found.path
    shutil.rmtree(root)


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=400))
def test_the_reader_answers_any_bytes_with_data_or_a_located_problem(data: bytes) -> None:
    try:
        yamlio.load(data)
    except yamlio.YamlProblem as problem:
        assert problem.code.startswith("TK1")


def _styles(data: dict[str, Any]) -> list[str]:
    block = YAML(typ="rt")
    block.allow_unicode = True
    quoted = YAML(typ="rt")
    quoted.default_style = '"'
    quoted.allow_unicode = True
    out = []
    for yaml in (block, quoted):
        buf = io.StringIO()
        yaml.dump(dict(reversed(list(data.items()))), buf)
        out.append(buf.getvalue())
    out.append(json.dumps(data, ensure_ascii=False))  # JSON is YAML too
    return out


@settings(max_examples=30, deadline=None)
@given(data=rules)
def test_the_digest_ignores_formatting(data: dict[str, Any]) -> None:
    digests = {content_digest(yamlio.to_json(yamlio.load(t.encode("utf-8"))[0])) for t in _styles(data)}
    assert digests == {content_digest(data)}


@settings(max_examples=30, deadline=None)
@given(data=rules)
def test_twoku_yaml_round_trips_byte_for_byte(data: dict[str, Any]) -> None:
    first = dump(data)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    again = dump(yaml.load(first))
    assert again == first


def test_the_base_rule_digest_is_stable_across_loaders() -> None:
    fast = yamlio.to_json(yamlio.load(RULE.encode("utf-8"))[0])
    assert content_digest(fast) == content_digest(json.loads(json.dumps(load_text(RULE), default=str)))
    assert Path(RULE_PATH).suffix == ".yaml"
