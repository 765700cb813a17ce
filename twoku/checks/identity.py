"""TK3xx: identity — IDs unique, owned by the layer they sit in, at the path they dictate."""

from __future__ import annotations

from collections.abc import Iterator

from twoku.checks.registry import finding, item_check, store_check
from twoku.model import enums
from twoku.model.controls import shell_word
from twoku.model.findings import Finding
from twoku.model.ids import KINDS, id_problem, parse_id
from twoku.model.layout import classify, expected_path
from twoku.model.library import Item, Library

_LETTER = {v: k for k, v in KINDS.items()}


@store_check("TK301", "duplicate-id")
def duplicate_ids(lib: Library) -> Iterator[Finding]:
    """同一编号出现在多个文件中。编号在全库唯一（含所有层级）。

    常见于两人在不同分支上各自新建条目后合并。
    坏：两个文件都是 ``id: CN-R-0031``
    好：用 ``twoku renumber CN-R-0031 CN-R-0034`` 给后来者重新编号（会同时更新引用）。
    """
    for item_id, group in sorted(lib.duplicates.items()):
        paths = "、".join(i.path for i in group)
        for dup in group[1:]:
            yield finding(
                "TK301",
                f"编号 {item_id} 重复：{paths}",
                dup.path,
                ("id",),
                item_id,
                f"为其中之一重新编号：twoku renumber {item_id} <新编号>",
            )


@item_check("TK302", "id-layer", every=True)
def id_layer(item: Item) -> Iterator[Finding]:
    """编号格式不对，或编号所示层级与文件所在层级不一致。

    编号的前缀说明条目归哪一层所有：CN 为国家，六位代码为省或市。下级不能改写上级的编号
    （要调整上级规则，请写本地化 override）。
    坏：provincial/510000/rules/… 中的 ``id: CN-R-0007``
    好：``id: 510000-R-0004``，或写一个 override 指向 CN-R-0007
    """
    if item.kind in ("adjustment", "config"):
        return
    problem = id_problem(item.data.get("id"))
    if problem:
        yield finding("TK302", problem, item.path, ("id",), None)
        return
    parsed = parse_id(item.id)
    assert parsed is not None
    if parsed.kind != item.kind:
        want = _LETTER[item.kind]
        yield finding(
            "TK302",
            f"{item.id} 是{_word(parsed.kind)}编号，但文件位于{_word(item.kind)}目录",
            item.path,
            ("id",),
            item.id,
            f"{_word(item.kind)}编号的类别字母为 {want}",
        )
        return
    place = classify(item.path)
    if place.layer is None or place.layer == parsed.layer:
        return
    if parsed.layer.is_above(place.layer):
        message = (
            f"{place.layer.label}层（{place.layer}）的文件使用了上级 {parsed.layer} 的编号 {item.id}："
            "下级不能重新定义上级条目"
        )
        hint = f"要调整上级规则的参数，请用 twoku new override {item.id} --layer {place.layer}"
    else:
        message = f"编号 {item.id} 属于 {parsed.layer}，文件却在 {place.layer} 层"
        hint = f"把文件移到 {parsed.layer.root}/ 下，或按本层改用 {place.layer}-{_LETTER[item.kind]}-NNNN"
    yield finding("TK302", message, item.path, ("id",), item.id, hint)


@item_check("TK303", "path-follows-id", every=True)
def path_follows_id(item: Item) -> Iterator[Finding]:
    """文件路径与编号、类别不符。路径由编号和类别决定，便于查找和上报。

    坏：national/rules/drug-policy/CN-R-0025.yaml 而 ``category: 药品合理使用类``
    好：national/rules/drug-rational-use/CN-R-0025.yaml
    """
    parsed = parse_id(item.id)
    if item.layer is None or (item.kind != "adjustment" and (not parsed or parsed.kind != item.kind)):
        return  # TK302 says what is wrong with the ID
    place = classify(item.path)
    if place.layer is not None and place.layer != item.layer:
        return  # TK302 says it
    want = expected_path(item.kind, item.id, item.layer, item.data.get("category"))
    if want and item.path not in (want, want[: -len(".yaml")] + ".yml"):
        hint = f"git mv {shell_word(item.path)} {shell_word(want)}"  # a name may hold spaces, a newline, ESC
        yield finding("TK303", f"文件位置应为 {want}", item.path, ("id",), item.id, hint)


@item_check("TK305", "framework-code-class")
def framework_code_class(rule: Item) -> Iterator[Finding]:
    """框架编码所示的一级、二级分类与规则的 category 不一致。

    编码 GZ10000 后一位为一级分类（1 政策类、2 管理类、3 医疗类），再两位为二级分类。
    坏：``framework_code: GZ10000204001000`` 而 ``category: 药品政策限定类``（应为 101）
    好：``category: 行为主体监管类``
    """
    if rule.kind != "rule":
        return
    code = rule.data.get("framework_code")
    rc = enums.rule_class(str(rule.data.get("category")))
    if not isinstance(code, str) or rc is None or len(code) != 16:
        return
    klass = code[7] + code[9]
    if klass != rc.code[0] + rc.code[2] or code[8] != "0":
        yield finding(
            "TK305",
            f"框架编码 {code} 不属于“{rc.label}”（{rc.group}，编码段 {rc.code}）",
            rule.path,
            ("framework_code",),
            rule.id,
            "核对 category 或框架编码；不确知框架编码时不填",
        )


def _word(kind: str) -> str:
    return {
        "knowledge": "知识",
        "rule": "规则",
        "override": "本地化",
        "argumentation": "论证记录",
        "adjustment": "调整记录",
    }.get(kind, kind)
