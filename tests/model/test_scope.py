"""The compact index of a store that a re-check after an edit works from (model/scope.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twoku.model.scope import Index


@given(st.lists(st.sampled_from(["", "CN-K-0001", "CN-K-0002", "CN-R-0001", "510000-R-0001"]), max_size=30))
def test_holders_are_every_position_of_each_id_in_path_order(ids: list[str]) -> None:
    paths = [f"p/{n:03d}.yaml" for n in range(len(ids))]
    holders = Index(paths, ids, [""] * len(ids), [""] * len(ids)).holders()
    expected: dict[str, list[int]] = {}
    for n, item_id in enumerate(ids):
        if item_id:
            expected.setdefault(item_id, []).append(n)
    assert dict(holders) == expected
    assert holders.get("CN-O-0009", ()) == ()
    assert all(holders[i] == positions for i, positions in expected.items())


def test_positions_are_each_path_s_place() -> None:
    index = Index(["a.yaml", "b.yaml"], ["", ""], ["", ""], ["", ""])
    assert index.positions() == {"a.yaml": 0, "b.yaml": 1}
