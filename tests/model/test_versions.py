"""model/versions.py: a file says by its values which schema wrote it; the digest and field diffs read through it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twoku.model import enums
from twoku.model.digest import content_digest
from twoku.model.fielddiff import field_changes
from twoku.model.versions import CURRENT, MIXED, V1, care_settings_of, scenarios_shape, upgraded, uses_of

RULE = {"id": "CN-R-0001", "name": "分解住院", "scenarios": ["支付审核", "稽核"], "level": "可疑", "status": "生效"}


def test_the_shape_of_a_file_by_its_values() -> None:
    assert scenarios_shape(RULE) == V1
    assert scenarios_shape({"scenarios": []}) == V1  # an override that added no use, in schema 1
    assert scenarios_shape({"uses": ["稽核"], "scenarios": ["住院"]}) == CURRENT
    assert scenarios_shape({"scenarios": ["住院", "门诊"]}) == CURRENT  # an override adding 就医场景 only
    assert scenarios_shape({"scenarios": ["稽核", "住院"]}) == MIXED
    assert scenarios_shape({"scenarios": "稽核"}) == MIXED  # not a list: no sure translation
    assert scenarios_shape({"name": "x"}) == CURRENT


def test_a_v1_rule_reads_as_schema_2_reads_it_key_order_kept() -> None:
    new = upgraded(RULE)
    assert list(new) == ["id", "name", "uses", "level", "status"] and new["uses"] == RULE["scenarios"]
    assert uses_of(RULE) == ["支付审核", "稽核"] and care_settings_of(RULE) == []
    assert upgraded(new) is new


@given(
    uses=st.lists(st.sampled_from(enums.USES), min_size=1, unique=True),
    settings=st.lists(st.sampled_from(enums.CARE_SETTINGS), unique=True),
)
def test_migration_changes_no_digest_and_no_field(uses: list[str], settings: list[str]) -> None:
    v1 = {**RULE, "scenarios": uses}
    v2 = upgraded(v1)
    assert content_digest(v2) == content_digest(v1)
    assert field_changes(v1, v2) == []
    if settings:  # 就医场景 are content: stating them changes the digest, whichever their order
        stated = {**v2, "scenarios": settings}
        assert content_digest(stated) != content_digest(v2)
        assert content_digest(stated) == content_digest({**v2, "scenarios": list(reversed(settings))})
        assert [(c.path, c.kind) for c in field_changes(v2, stated)] == [("scenarios", "added")]


def test_uses_and_care_settings_never_digest_alike() -> None:
    # the same word list under uses or under scenarios must not collide (their vocabularies differ anyway)
    assert content_digest({"uses": ["稽核"]}) != content_digest({"uses": ["稽核"], "scenarios": []})
    assert content_digest({"uses": ["稽核"]}) == content_digest({"scenarios": ["稽核"]})  # v1: the same uses
