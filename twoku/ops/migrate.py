"""``twoku migrate``: rewrite a store written for an older schema to the current one, in one commit.

Schema 1 → 2 (issue 18, model/versions.py): in every rule and override whose ``scenarios`` holds the
uses of 第十九条, the key becomes ``uses`` (same values, same place in the file); ``twoku.yaml``
says ``schema_version: 2``.  Files are translated by their shape, not by the version twoku.yaml
states, so the command is idempotent and converts the v1-shaped files merged into a v2 store.

An edit renames one key on its line and changes no other byte: ruamel.yaml's round-trip reading says
where the key stands (comments, quoting, layout and key order all stay), the file read back must be
the old one with the key renamed, or it is not written.  A file that cannot be translated for sure
(``scenarios`` mixing uses with other values, a file that does not parse) stops the whole migration
before anything is written: each is listed with its line.  The writes and the commit are all or
nothing (store/writes/faults.py).

The content digest reads ``uses`` under its schema-1 name (model/digest.py), so no digest changes: no
sign-off goes stale, no override drifts, here or in the stores below that bound to these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError
from twoku.model.enums import SCHEMA_VERSION
from twoku.model.layout import CONFIG_FILE, classify
from twoku.model.versions import MIXED, V1, scenarios_shape, upgraded
from twoku.ops.storeversion import stated
from twoku.store import files
from twoku.store.writes.faults import writes

KINDS = ("rule", "override")


@dataclass(frozen=True)
class Rewrite:
    """One file to translate: where the renamed key stands."""

    path: str
    kind: str  # rule | override
    id: str | None
    line: int
    change: str  # what changes, in words


@dataclass(frozen=True)
class Refusal:
    """Why a file cannot be translated, and where."""

    path: str
    line: int
    message: str
    hint: str


@dataclass(frozen=True)
class Migration:
    """What ``twoku migrate`` found, and did."""

    from_version: int
    to_version: int
    config: Rewrite | None  # twoku.yaml's schema_version, when it changes
    files: tuple[Rewrite, ...]
    refused: tuple[Refusal, ...] = ()
    dry_run: bool = False
    written: bool = False
    commit: str | None = None
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)  # kind → files translated

    @property
    def nothing_to_do(self) -> bool:
        return self.config is None and not self.files and not self.refused


def plan(root: Path) -> tuple[Migration, dict[str, bytes]]:
    """What a migration of the store would change (and the new content of each file); nothing is written."""
    at = stated(root)
    if at is None:
        raise TwokuError(
            f"读不出 {CONFIG_FILE} 的 schema_version",
            hint="twoku.yaml 应有一行 schema_version: <整数>；先运行 twoku validate 查看它的问题",
            path=CONFIG_FILE,
        )
    if at.version > SCHEMA_VERSION:
        raise TwokuError(
            f"本库按结构版本 {at.version} 书写，高于本 twoku 所支持的结构版本 {SCHEMA_VERSION}",
            hint="升级 twoku 后再运行",
            path=CONFIG_FILE,
            line=at.line,
        )
    texts: dict[str, bytes] = {}
    rewrites: list[Rewrite] = []
    refused: list[Refusal] = []
    for path in files.store_paths(root):
        kind = classify(path).kind
        if kind not in KINDS:
            continue
        try:
            raw = files.read_regular(root / path)
        except OSError:
            continue  # a link or an odd file: validate says what it is (TK109); there is nothing to translate
        outcome = _translate(path, kind, raw)
        if isinstance(outcome, Refusal):
            refused.append(outcome)
        elif outcome is not None:
            rewrites.append(outcome[0])
            texts[path] = outcome[1]
    config = None
    if at.version < SCHEMA_VERSION:
        config, texts[CONFIG_FILE] = _config(root, at.version, at.line)
    counts = {kind: sum(1 for r in rewrites if r.kind == kind) for kind in KINDS}
    migration = Migration(at.version, SCHEMA_VERSION, config, tuple(rewrites), tuple(refused), counts=counts)
    return migration, texts


def _translate(path: str, kind: str, raw: bytes) -> tuple[Rewrite, bytes] | Refusal | None:
    """The file with ``scenarios`` renamed ``uses`` when it is v1-shaped; a refusal when it cannot be sure."""
    from twoku.store.documents import yamlio

    try:
        data, _ = yamlio.load_json(raw)
    except yamlio.YamlProblem as problem:
        return Refusal(path, problem.line or 1, f"无法读取：{problem.message}", problem.hint or "修正后再运行")
    if not isinstance(data, dict):
        return None
    shape = scenarios_shape(data)
    if shape not in (V1, MIXED):
        return None
    text = yamlio.decode(raw)[0]
    line, column = yamlio.locator(text)(("scenarios",))
    item = data.get("id") if isinstance(data.get("id"), str) else None
    if shape == MIXED:
        return Refusal(
            path,
            line,
            "scenarios 中既有第十九条的应用场景，又有其他取值，无法确定哪些是应用场景（uses）、哪些是就医场景",
            "把应用场景写到 uses、就医场景写到 scenarios（或改正拼错的取值），再运行",
        )
    new = _renamed(text, line, column, "scenarios", "uses")
    if new is None or _items(_read_back(new)) != _items(upgraded(data)):
        return Refusal(path, line, "无法在原位改写 scenarios 这个键", "手工把这一行的 scenarios 改为 uses，再运行")
    head = raw[:3] if raw.startswith(b"\xef\xbb\xbf") else b""
    return Rewrite(path, kind, item, line, "scenarios → uses"), head + new.encode("utf-8")


def _renamed(text: str, line: int, column: int, old: str, new: str) -> str | None:
    """``text`` with the key ``old`` that starts at (line, column) spelled ``new``; quotes kept."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    row = lines[line - 1]
    at = column - 1
    found = re.compile(rf"""(["']?){re.escape(old)}\1[ \t]*:""").match(row, at)
    if found is None:
        return None
    quote = found.group(1)
    lines[line - 1] = row[:at] + quote + new + row[at + len(quote) + len(old) :]
    return "\n".join(lines)


def _items(data: Any) -> list[tuple[Any, Any]] | None:
    """A mapping's keys and values in their order (a renamed key must keep its place)."""
    return list(data.items()) if isinstance(data, dict) else None


def _read_back(text: str) -> Any:
    from twoku.store.documents import yamlio

    try:
        return yamlio.load_json(text.encode("utf-8"))[0]
    except yamlio.YamlProblem:
        return None


def _config(root: Path, version: int, line: int) -> tuple[Rewrite, bytes]:
    raw = files.read_regular(root / CONFIG_FILE)
    lines = raw.split(b"\n")
    row = lines[line - 1]
    found = re.compile(rb"""^(["']?schema_version["']?[ \t]*:[ \t]*)([0-9]+)""").match(row)
    assert found is not None and int(found.group(2)) == version  # storeversion.stated read it so
    lines[line - 1] = row[: found.start(2)] + str(SCHEMA_VERSION).encode("ascii") + row[found.end(2) :]
    said = f"schema_version: {version} → {SCHEMA_VERSION}"
    return Rewrite(CONFIG_FILE, "config", None, line, said), b"\n".join(lines)


def message(m: Migration) -> str:
    """The commit's message: from → to, what was translated, and why no sign-off goes stale."""
    rules, overrides = m.counts.get("rule", 0), m.counts.get("override", 0)
    head = f"schema v{m.to_version}: twoku migrate 结构版本 {m.from_version} → {m.to_version}"
    if m.config is None:
        head = f"schema v{m.to_version}: twoku migrate 把按结构版本 1 书写的文件改写为结构版本 {m.to_version}"
    head += f"（规则 {rules} 条、本地化 {overrides} 条：scenarios → uses）"
    body = [
        "结构版本 2（issue 18）：规则的第十九条应用场景写作 uses，scenarios 改为就医场景（门诊、住院、购药…）。",
        f"改写 {rules} 条规则、{overrides} 条本地化：scenarios 这个键改名为 uses，取值和在文件中的位置不变。",
    ]
    if m.config is not None:
        body.append(f"twoku.yaml：schema_version {m.from_version} → {m.to_version}。")
    body += [
        "",
        "内容摘要不变：摘要按结构版本 1 的键名读 uses（model/digest.py），",
        "所以论证记录不会因这次改写而过时，下级的本地化也不必重新绑定。",
        "",
        "Files:",
        *(f"  {r.path}:{r.line}  {r.change}" for r in (*((m.config,) if m.config else ()), *m.files)),
    ]
    return head + "\n\n" + "\n".join(body) + "\n"


def migrate(root: Path, dry_run: bool = False) -> Migration:
    """Plan the migration; unless ``dry_run``, write it and commit it (in a git store), or refuse it whole."""
    if dry_run:
        migration, texts = plan(root)
        return replace(migration, dry_run=True, message=message(migration) if texts else "")
    return _migrate(root)


@writes
def _migrate(root: Path) -> Migration:
    from twoku.store.documents.edit import atomic_write
    from twoku.store.repo import gitio, gitwork

    migration, texts = plan(root)  # with the write lock held: no other writer in between
    if migration.refused or migration.nothing_to_do:
        return migration
    paths = sorted(texts)
    repo = gitwork.is_repo(root)
    if repo:
        dirty = gitio.uncommitted(root, paths)
        if dirty:
            raise TwokuError(
                f"要改写的文件有未提交的修改：{'、'.join(dirty)}",
                hint="迁移单独成一次提交：先提交（或撤销）这些修改，再运行 twoku migrate",
            )
    for path in paths:
        atomic_write(root / path, texts[path])
    text = message(migration)
    sha = gitio.commit_files(root, paths, text) if repo else None
    return replace(migration, written=True, commit=sha, message=text)
