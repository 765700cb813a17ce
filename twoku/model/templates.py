"""The one source of the files ``twoku new`` and ``twoku init`` write.

A template is ordered data plus the comments that guide its author; ``store/scaffold``
turns it into YAML.  Where the author must write something, the value is a
placeholder marked with :data:`PLACEHOLDER` — the marker TK607 warns about — so a new
file passes ``twoku validate`` at once and still says what is left to fill in.  Values
a schema constrains (category, level, uses, basis IDs, status) are never
placeholders: they are chosen when the file is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twoku.model import enums
from twoku.model.bounds import describe_bounds
from twoku.model.findings import Pointer
from twoku.model.layout import expected_path, schema_ref
from twoku.model.regions import Layer, layer_name
from twoku.model.schemas import FILES, SCHEMA_VERSION

# The marker of text the author must still write (checks/lifecycle.py TK607 looks for it).
PLACEHOLDER = "【待填写"
DRAFT = enums.STATUSES[0]  # 草稿: a new item is never in force until argued (第九条)
DEFAULT_LEVEL = "可疑"  # the weaker judgement until the author decides (第三条)
DEFAULT_USES: tuple[str, ...] = ("支付审核",)


def placeholder(what: str) -> str:
    """``【待填写：what】``: text the author must replace."""
    return f"{PLACEHOLDER}：{what}】"


@dataclass(frozen=True)
class Template:
    """A file to write: where, against which schema, its data and its comments."""

    kind: str
    path: str
    data: dict[str, Any]
    comments: dict[Pointer, str] = field(default_factory=dict)  # end-of-line comments
    note: str = ""  # comment lines under the schema line

    @property
    def header(self) -> str:
        lines = [f"# yaml-language-server: $schema={schema_ref(self.path, FILES[self.kind])}"]
        lines += [f"# {line}" for line in self.note.splitlines()]
        return "\n".join(lines) + "\n"


NOTE = "由 twoku new 生成：把所有“【待填写：…】”换成实际内容（twoku validate 会逐条提示），再删除本行。"


def rule_template(
    rule_id: str,
    layer: Layer,
    category: str,
    basis: Sequence[tuple[str, str | None]],
    name: str | None = None,
    level: str | None = None,
    uses: Sequence[str] = (),
    settings: Sequence[str] = (),
) -> Template:
    """A draft rule (第三条, 第八条): every required field, placeholders where prose is due."""
    path = expected_path("rule", rule_id, layer, category)
    assert path is not None, category
    chosen = list(dict.fromkeys(uses)) or list(DEFAULT_USES)
    data: dict[str, Any] = {
        "id": rule_id,
        "name": name or placeholder("规则名称，如 分解住院"),
        "category": category,
        "definition": placeholder("规则监控的是什么行为"),
        "monitoring_point": placeholder("用平实语言写给定点医药机构的监控要点"),
        "logic": placeholder("判断逻辑：数据范围、判断步骤、排除情形，审核人员能据以核对"),
        "uses": chosen,
        **({"scenarios": list(dict.fromkeys(settings))} if settings else {}),
        "level": level or DEFAULT_LEVEL,
        "violations": [placeholder("能据以判断的具体违规情形，一条一项")],
        "basis": [{"id": k, "article": article or placeholder("所依据的条款，如 第十五条")} for k, article in basis],
        "status": DRAFT,
    }
    comments: dict[Pointer, str] = {
        ("category",): f"{_group(category)}；分类决定文件所在目录",
        ("uses",): "应用场景，第十九条："
        + "、".join(enums.USES)
        + "；就医场景写在 scenarios（"
        + "、".join(enums.CARE_SETTINGS)
        + "），另可写 period、institutions、insurance_types、supervised、suggested_threshold",
        ("level",): "判断等级：" + " 或 ".join(enums.LEVELS),
        ("basis",): "第八条：规则基于知识库产生，列出所依据的知识编号及条款",
        ("status",): " → ".join(enums.STATUSES) + "；生效前须具备现行的论证记录",
    }
    return Template("rule", path, data, comments, NOTE)


def _group(category: str) -> str:
    rc = enums.rule_class(category)
    return f"{rc.group}（框架编码段 {rc.code}）" if rc else ""


def knowledge_template(knowledge_id: str, layer: Layer, category: str, title: str | None = None) -> Template:
    """A draft knowledge item (第七条) of one of the five categories."""
    path = expected_path("knowledge", knowledge_id, layer, category)
    assert path is not None, category
    data: dict[str, Any] = {
        "id": knowledge_id,
        "category": category,
        "title": title or placeholder("文件或知识的正式名称"),
        "issuer": placeholder("制定或发布机关，如 国家医疗保障局"),
        "doc_number": placeholder("发文字号，如 医保发〔2022〕12号；无法核实时删除此行"),
        "status": DRAFT,
        "summary": placeholder("一两句话说明这条知识讲什么、规则如何使用它"),
        "articles": [
            {"ref": placeholder("条款号，如 第十五条"), "gist": placeholder("用自己的话概括的要点；照录原文请写 text")}
        ],
        "source": placeholder("原文出处，如 发布机关网站栏目或公报期号"),
    }
    if category == "医保信息业务编码":
        data["pattern"] = placeholder("代码的正则表达式，如 ^H[0-9]{11}$")
    comments: dict[Pointer, str] = {
        ("category",): "第七条：" + "、".join(enums.labels(enums.KNOWLEDGE_CATEGORIES)),
        ("status",): " → ".join(enums.STATUSES),
    }
    return Template(
        "knowledge", path, data, comments, NOTE + "\n发布日期、施行日期写作 issued: / effective: YYYY-MM-DD。"
    )


def override_template(
    override_id: str,
    layer: Layer,
    rule_id: str,
    base_digest: str,
    parameters: Mapping[str, Mapping[str, Any]],
    current: Mapping[str, Any],
    reason: str | None = None,
) -> Template:
    """A draft localisation of an upper rule: its localisable parameters at their current values.

    ``parameters`` are the upper rule's parameter specs; ``current`` the values in force
    just above ``layer`` (the upper rule's, or an intermediate layer's override).
    """
    path = expected_path("override", override_id, layer)
    assert path is not None
    local = {name: current.get(name, spec.get("value")) for name, spec in parameters.items() if _localisable(spec)}
    data: dict[str, Any] = {"id": override_id, "target": rule_id, "base_digest": base_digest}
    comments: dict[Pointer, str] = {("base_digest",): f"{rule_id} 现行内容的摘要；上级修改后 validate 会提示复核"}
    if local:
        data["parameters"] = local
        for name in local:
            spec = parameters[name]
            upper = f"，{rule_id} 取值 {_word(spec.get('value'))}" if spec.get("value") != local[name] else ""
            comments[("parameters", name)] = f"{describe_bounds(spec)}{upper}；{spec.get('description', '')}".rstrip(
                "；"
            )
    data["reason"] = reason or placeholder("为何需要本地化，如 本省协议管理要求")
    data["status"] = DRAFT
    note = f"{NOTE}\n只保留要调整的参数，取值须在注释所示范围内；不调整的参数删除即沿用上级取值。"
    return Template("override", path, data, comments, note)


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _localisable(spec: Mapping[str, Any]) -> bool:
    return isinstance(spec.get("localisable"), Mapping)


def config_template(region: Layer, name: str, region_names: Mapping[str, str], upstream: str | None) -> Template:
    """twoku.yaml of a new store owned by ``region``."""
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "name": name, "region": region.code}
    if upstream:
        data["upstream"] = upstream
    if region_names:
        data["regions"] = dict(region_names)
    data["argumentation"] = {"default": ["业务论证"], "focus": list(enums.ARGUMENTATION_KINDS)}
    comments: dict[Pointer, str] = {
        ("region",): "本库自身拥有的层级",
        ("argumentation",): "第九至十一条：规则生效前须具备的论证形式",
    }
    note = f"{layer_name(region, dict(region_names))}两库（twoku 库配置）"
    return Template("config", "twoku.yaml", data, comments, note)


def store_readme(region: Layer, name: str, upstream: str | None) -> str:
    """The README of a new store, in Chinese for the bureau staff who keep it."""
    own = region.root
    up = "\n" + UPDATES.format(upstream=upstream) + "\n"
    folders = "knowledge/ 知识，rules/ 规则" + ("" if region.kind == "national" else "，overrides/ 对上级规则的本地化")
    return f"""# {name}

本仓库是医疗保障基金智能审核和监控知识库、规则库（“两库”）的 twoku 库，按《医疗保障基金智能审核和监控
知识库、规则库管理办法（试行）》（医保发〔2022〕12号）建设和管理。本库自身拥有的层级是
**{layer_name(region)}（{region.code}）**，本层的文件放在 `{own}/` 下（{folders}）。
{up if upstream else ("" if region.kind == "national" else START)}
## 常用操作

```bash
twoku validate                                   # 检查全部文件
twoku new rule --layer {region.code}             # 新建一条规则（草稿），按提示填写
twoku new knowledge --layer {region.code}        # 新建一条知识（第七条五类之一）
twoku ls rules --region {region.code}            # 本地生效的规则
```

新建的文件中“【待填写：…】”处须换成实际内容；`twoku validate` 会逐条提示。规则须经论证（第九至十一条）
方可生效。

## 目录

```
twoku.yaml      库配置：结构版本、本库层级、地区名称、论证要求、豁免
schema/         JSON Schema：编辑器据此给出中文提示和补全
{own}/     本层的知识、规则与本地化
argumentation/  论证记录
adjustments/    年度调整与即时调整记录
```
"""


START = """
本库是独立新建的，不含上级的两库，也不能接收上级的发布。市、省的库应从上级库起步：
`twoku init 目录 --region 本地代码 --upstream 上级库`（上级库的 git 地址、本机克隆或上级提供的 git bundle 文件），
新库含上级各层级并与上级共享历史，此后用 `twoku intake` 接收上级 `twoku release` 的归档。
"""

UPDATES = """\
## 接收上级的更新

上级库：{upstream}。本库由上级库克隆而来（`twoku init 目录 --region 代码 --upstream 上级库`），
含上级各层级的两库，并与上级共享 git 历史，所以上级此后的调整可以直接接收：

- **隔离网络（医保专网）**：上级运行 `twoku release --out 上级发布.tar.gz` 把调整打成归档，拷贝过来后
  在本库运行 `twoku intake 上级发布.tar.gz`。归档先整体校验，再放到待审阅的分支 `intake/<上级>/<日期>`
  上并列出本库须复核的本地化；审阅后 `git merge intake/<上级>/<日期>`，再运行 `twoku validate`。
- **网络互通时**：`git pull upstream main`（远程 `upstream` 即上级库），再运行 `twoku validate`。

起步时若连不到上级的 git 服务器，请上级运行 `git bundle create 上级库.bundle --all`，把该文件拷贝过来，
用 `--upstream 上级库.bundle` 初始化。不要把另起炉灶的库与上级库合并：历史不相关，git 会拒绝或产生冲突。
"""


def layer_readme(region: Layer, name: str, upstream: str) -> str:
    """The README of a store's own layer (``<layer>/README.md``) in a store cloned from its upper store."""
    return f"""# {name}（{region.code}）

本目录是本库自己的层级：本层的知识（knowledge/）、规则（rules/）和对上级规则的本地化（overrides/）。
上级的文件不要改动；需要不同取值时写本地化：`twoku new override 规则编号 --layer {region.code}`。

{UPDATES.format(upstream=upstream)}"""


GITIGNORE = """\
# twoku 写文件时的临时文件（写入中断时可能残留）
.*.tmp
# twoku 命令的缺省输出（公开材料、报送和发布的归档）：是产物，不是库的内容
/public-summary-*/
/twoku-report-*.tar.gz
/twoku-release-*.tar.gz
# 编辑器与系统文件
.DS_Store
Thumbs.db
~$*
"""
