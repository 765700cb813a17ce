"""git questions about many paths at once: no command line may grow with the store."""

from __future__ import annotations

from pathlib import Path

from twoku.store.repo import gitio


def test_uncommitted_answers_for_more_paths_than_a_command_line_holds(store: Path) -> None:
    # 200,000 long names would overflow any ARG_MAX if passed to git one by one.
    wanted = [f"national/knowledge/none/{'x' * 60}-{i}.yaml" for i in range(200_000)]
    edited = next(p for p in sorted(store.rglob("*.yaml")) if ".git" not in p.parts)
    edited.write_text(edited.read_text(encoding="utf-8") + "# 改\n", encoding="utf-8")
    name = edited.relative_to(store).as_posix()
    assert gitio.uncommitted(store, [*wanted, name]) == [name]
    assert gitio.uncommitted(store, [name]) == [name]
    assert gitio.uncommitted(store, wanted[:3]) == []
