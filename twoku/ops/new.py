"""``twoku new rule|knowledge|override``: a new draft file that passes ``validate`` at once.

The ID is the next free one of the layer (never one the store or the disk already
has); the file is written exclusively at the path the ID dictates, so ``new`` never
overwrites; it is staged in git, and committed with ``commit=True``.  Two people who
allocate the same ID on two branches meet TK301 after the merge, and ``twoku
renumber`` resolves it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model import enums
from twoku.model.ids import KINDS, parse_id
from twoku.model.library import Item, Library, effective_rule
from twoku.model.regions import Layer, parse_layer
from twoku.model.templates import PLACEHOLDER, Template, knowledge_template, override_template, rule_template
from twoku.ops.validate import load_store
from twoku.store import files
from twoku.store.writes.faults import writes

LETTERS = {kind: letter for letter, kind in KINDS.items()}
FIND_KNOWLEDGE = "用 twoku ls knowledge --region <层级> 查找编号"
COMMIT_WORDS = {"rule": "规则", "knowledge": "知识", "override": "本地化"}


@dataclass(frozen=True)
class Offer:
    """A knowledge item an author may cite as basis."""

    id: str
    title: str
    category: str


@dataclass(frozen=True)
class Context:
    """What the prompts need: the layer, the ID the file will get, the knowledge in reach."""

    root: Path
    library: Library
    layer: Layer
    knowledge: list[Offer] = field(default_factory=list)


@dataclass(frozen=True)
class Created:
    kind: str
    id: str
    path: str
    data: dict[str, Any]
    to_fill: list[str]  # fields still holding a placeholder
    commit: str | None = None


def _layer(code: str | None, lib: Library) -> Layer:
    chosen = code or str(lib.config.get("region") or "CN")
    try:
        return parse_layer(chosen)
    except ValueError as exc:
        raise UsageError(f"--layer {chosen}：{exc}", hint="国家写 CN，省如 510000，市如 510100") from None


def context(root: Path, layer: str | None = None) -> Context:
    """Load the store once and gather what an author chooses from."""
    lib = load_store(root).library
    chosen = _layer(layer, lib)
    reach = [i for i in lib.of_kind("knowledge") if lib.in_region(i, chosen) and not i.deprecated]
    reach.sort(key=lambda i: (i.layer.depth if i.layer else 0, i.id))
    offers = [Offer(i.id, i.title, str(i.data.get("category", ""))) for i in reach]
    return Context(root, lib, chosen, offers)


def next_id(root: Path, lib: Library, layer: Layer, kind: str) -> str:
    """The next free ``<LAYER>-<K|R|O>-NNNN``: above every number the store or the disk has."""
    letter = LETTERS[kind]
    pattern = re.compile(rf"^{re.escape(layer.code)}-{letter}-(\d{{4}})\.ya?ml$")
    taken = set()
    for path in files.store_paths(root):
        match = pattern.match(path.rsplit("/", 1)[-1])
        if match:
            taken.add(int(match[1]))
    everything = [*lib.items.values(), *(i for group in lib.duplicates.values() for i in group)]
    for item in everything:
        parsed = parse_id(item.id)
        if parsed and parsed.layer == layer and parsed.kind == kind:
            taken.add(parsed.number)
    number = max(taken, default=0) + 1
    if number > 9999:
        raise TwokuError(f"{layer} 的{COMMIT_WORDS[kind]}编号已用尽（9999）")
    return f"{layer.code}-{letter}-{number:04d}"


def _choice(value: str, terms: Sequence[enums.Term] | Sequence[enums.RuleClass], option: str) -> str:
    for term in terms:
        if value in (term.label, term.slug):
            return term.label
    raise UsageError(f"{option} {value} 不是有效类别", hint="可选：" + "、".join(t.label for t in terms))


def rule_category(value: str) -> str:
    return _choice(value, enums.RULE_CATEGORIES, "--category")


def knowledge_category(value: str) -> str:
    return _choice(value, enums.KNOWLEDGE_CATEGORIES, "--category")


def parse_basis(text: str) -> tuple[str, str | None]:
    """``CN-K-0003`` or ``CN-K-0003:第十五条`` (a full-width colon works too)."""
    ref, _, article = text.replace("：", ":").partition(":")
    return ref.strip(), article.strip() or None


def _basis(ctx: Context, basis: Sequence[str]) -> list[tuple[str, str | None]]:
    out: dict[str, str | None] = {}
    for text in basis:
        ref, article = parse_basis(text)
        item = ctx.library.get(ref)
        if item is None or item.kind != "knowledge":
            raise UsageError(f"--basis {ref}：库中没有这条知识", hint=FIND_KNOWLEDGE)
        if not ctx.library.in_region(item, ctx.layer):
            raise UsageError(f"--basis {ref} 属于 {item.layer}，不在 {ctx.layer} 的层级链中", hint=FIND_KNOWLEDGE)
        if item.deprecated:
            successor = item.data.get("superseded_by")
            hint = f"改为引用替代它的 {successor}" if successor else FIND_KNOWLEDGE
            raise UsageError(f"--basis {ref}（{item.title}）已废弃", hint=hint)
        out[ref] = article or out.get(ref)
    if not out:
        raise UsageError(
            "规则须至少有一条依据（第八条：规则库基于知识库产生）",
            hint="加上 --basis 知识编号[:条款]，如 --basis CN-K-0003:第十五条；" + FIND_KNOWLEDGE,
        )
    return list(out.items())


def new_rule(
    ctx: Context,
    category: str,
    basis: Sequence[str],
    name: str | None = None,
    level: str | None = None,
    scenarios: Sequence[str] = (),
    commit: bool = False,
) -> Created:
    if level is not None and level not in enums.LEVELS:
        raise UsageError(f"--level {level} 不是判断等级", hint="可选：" + "、".join(enums.LEVELS))
    # --scenario keeps its spelling (bureaus script against it): a use of 第十九条, or a 就医场景 since schema 2.
    for scenario in scenarios:
        if scenario not in enums.USES and scenario not in enums.CARE_SETTINGS:
            raise UsageError(
                f"--scenario {scenario} 不是应用场景，也不是就医场景",
                hint="应用场景（第十九条）：" + "、".join(enums.USES) + "；就医场景：" + "、".join(enums.CARE_SETTINGS),
            )
    refs = _basis(ctx, basis)
    rule_id = next_id(ctx.root, ctx.library, ctx.layer, "rule")
    uses = [s for s in scenarios if s in enums.USES]
    settings = [s for s in scenarios if s in enums.CARE_SETTINGS]
    template = rule_template(rule_id, ctx.layer, rule_category(category), refs, _text(name), level, uses, settings)
    return _create(ctx.root, template, commit)


def new_knowledge(ctx: Context, category: str, title: str | None = None, commit: bool = False) -> Created:
    knowledge_id = next_id(ctx.root, ctx.library, ctx.layer, "knowledge")
    template = knowledge_template(knowledge_id, ctx.layer, knowledge_category(category), _text(title))
    return _create(ctx.root, template, commit)


def upper_rule(ctx: Context, rule_id: str) -> Item:
    """The rule an override in ``ctx.layer`` may localise, or a refusal saying why not."""
    rule = ctx.library.get(rule_id)
    if rule is None or rule.kind != "rule":
        raise UsageError(f"库中没有编号为 {rule_id} 的规则", hint="用 twoku ls rules --region <上级层级> 查找编号")
    if ctx.layer.kind == "national":
        raise UsageError("国家层没有上级，不能写本地化", hint="用 --layer 指定省或市，如 --layer 510000")
    if rule.layer is None or not rule.layer.is_above(ctx.layer):
        where = "本层自己的规则，直接修改即可" if rule.layer == ctx.layer else f"属于 {rule.layer}"
        raise UsageError(
            f"{rule_id} {where}，不是 {ctx.layer} 的上级规则",
            hint=f"{ctx.layer} 只能本地化其上级链（{' → '.join(str(x) for x in ctx.layer.chain[:-1])}）中的规则",
        )
    if rule.deprecated:
        raise UsageError(f"{rule_id}（{rule.title}）已废弃，不能再本地化", hint="本地化替代它的规则")
    _refuse_second_override(ctx, rule)
    _refuse_nothing_localisable(rule)
    return rule


def new_override(ctx: Context, rule_id: str, reason: str | None = None, commit: bool = False) -> Created:
    rule = upper_rule(ctx, rule_id)
    parent = ctx.layer.parent
    assert parent is not None
    # The values in force just above this layer: a city starts from its province's setting.
    effective = effective_rule(ctx.library, rule, parent)
    current = {name: spec["value"].value for name, spec in effective.parameters.items()}
    specs = rule.data.get("parameters") or {}
    override_id = next_id(ctx.root, ctx.library, ctx.layer, "override")
    template = override_template(override_id, ctx.layer, rule.id, rule.digest, specs, current, _text(reason))
    return _create(ctx.root, template, commit)


def _refuse_second_override(ctx: Context, rule: Item) -> None:
    """One override of a rule per layer (TK507): a change goes into the one this layer already has."""
    existing = [
        o
        for o in ctx.library.of_kind("override")
        if o.data.get("target") == rule.id and o.layer == ctx.layer and not o.deprecated
    ]
    if existing:
        first = existing[0]
        raise UsageError(
            f"{ctx.layer} 已有 {rule.id} 的本地化 {first.id}（{first.status or '无状态'}，{first.path}），未新建",
            hint=f"在 {first.path} 中修改取值；确要另起一个，先把 {first.id} 改为 废弃",
        )


def _refuse_nothing_localisable(rule: Item) -> None:
    """An override changes only what the upper rule lets a lower layer set: with nothing, it would be empty."""
    specs = rule.data.get("parameters")
    if isinstance(specs, Mapping) and any(
        isinstance(spec, Mapping) and isinstance(spec.get("localisable"), Mapping) for spec in specs.values()
    ):
        return
    raise UsageError(
        f"{rule.id}（{rule.title}）没有可本地化的参数，本地化无可调整，未新建",
        hint="需要不同的口径时，写本层自己的规则（twoku new rule），或向上级建议（twoku report-upstream --propose）",
    )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _check(template: Template) -> str:
    """The file's text, proven to read back as the template's data and to fit its schema."""
    from twoku.store.documents import yamlio
    from twoku.store.documents.scaffold import to_yaml
    from twoku.store.schema.schemas import validator

    text = to_yaml(template)
    parsed, _ = yamlio.load(text.encode("utf-8"))
    assert yamlio.to_json(parsed) == template.data, "a template must read back as written"
    errors = [e.message for e in validator(template.kind).iter_errors(template.data)]
    assert not errors, f"a template must fit its schema: {errors}"
    return text


@writes
def _create(root: Path, template: Template, commit: bool) -> Created:
    from twoku.store.documents.edit import atomic_write
    from twoku.store.repo import gitio, gitwork

    text = _check(template)
    target = root / template.path
    try:
        atomic_write(target, text.encode("utf-8"), exclusive=True)
    except FileExistsError:
        raise TwokuError(
            f"{template.path} 已存在，未覆盖", hint="有人同时在新建条目；重新运行即可取得下一个编号"
        ) from None
    sha = None
    item_id = template.data["id"]
    try:
        if gitwork.is_repo(root):
            gitwork.stage(root, [template.path])
        if commit:
            title = template.data.get("name") or template.data.get("title") or template.data.get("target")
            title = "" if PLACEHOLDER in str(title) else f"：{title}"
            message = f"新建{COMMIT_WORDS[template.kind]} {item_id}（草稿）{title}"
            sha = gitio.commit_files(root, [template.path], message)
    except TwokuError:
        target.unlink(missing_ok=True)
        raise
    to_fill = [key for key, value in template.data.items() if PLACEHOLDER in str(value)]
    return Created(template.kind, item_id, template.path, template.data, to_fill, sha)
