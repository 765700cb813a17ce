"""``twoku ls`` and ``twoku show``."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import typer

from twoku.cli.application import Format, app, emit, guarded, stdout


class ShowFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


@app.command("ls")
@guarded
def ls(
    what: str = typer.Argument(..., help="rules（规则）、knowledge（知识）或 overrides（本地化）"),
    region: str = typer.Option(None, "--region", "-r", help="地区代码：列出 国家 + 本省 + 本市 的生效库"),
    status: str = typer.Option(None, "--status", "-s", help="只列出该状态，如 生效"),
    category: str = typer.Option(None, "--category", "-c", help="只列出该类别，如 药品合理使用类 或 drug-rational-use"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="输出格式"),
) -> None:
    """列出一个地区生效库（国家 + 本省 + 本市）中的规则或知识。

    示例：

      twoku ls rules --region 510100

      twoku ls knowledge --category 法律法规

      twoku ls rules --status 生效 --format json
    """
    from twoku.model.regions import layer_name
    from twoku.ops.library import list_items
    from twoku.store.files import find_root

    listing = list_items(find_root(), what, region, status, category)
    if fmt is Format.json:
        emit(
            json.dumps(
                [
                    {
                        "id": i.id,
                        "layer": i.layer.code if i.layer else None,
                        "title": i.title,
                        "category": i.data.get("category"),
                        "status": i.status,
                        "path": i.path,
                        **({"target": i.data.get("target")} if i.kind == "override" else {}),
                    }
                    for i in listing.items
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    from rich.table import Table

    from twoku.render.tables import Prose, add_id_column, add_text_column

    title = f"{layer_name(listing.region, listing.names)}（{listing.region}）生效库 · {len(listing.items)} 条"
    table = Table(title=title, title_justify="left", box=None, show_edge=False, expand=True, pad_edge=False)
    add_id_column(table, "编号", (i.id for i in listing.items))
    table.add_column("层级", no_wrap=True)
    if listing.kind == "override":  # an override reads as the rule it localises and the values it sets
        add_text_column(table, "目标规则", ratio=1)
        add_text_column(table, "本地取值")  # as wide as a parameter's name: it is read, not folded
    else:
        add_text_column(table, "名称", ratio=3)
        add_text_column(table, "类别", ratio=1)
    table.add_column("状态", no_wrap=True)
    for i in listing.items:
        layer = i.layer.label if i.layer else ""
        if listing.kind == "override":
            name, values = listing.localised.get(i.id, ("", ""))
            cells: list[Any] = [Prose(f"{i.data.get('target', '')} {name}".strip()), Prose(values)]
        else:
            cells = [Prose(i.title), Prose(str(i.data.get("category", "")))]
        table.add_row(i.id, layer, *cells, _status(i.status))
    stdout().print(table)


def _status(status: str | None) -> Any:
    from twoku.render.terminal import styled

    styles = {"生效": "green", "废弃": "dim", "草稿": "yellow", "征求意见": "yellow"}
    return styled(status or "", styles.get(status or "", "cyan"))


@app.command()
@guarded
def show(
    item_id: str = typer.Argument(..., metavar="ID", help="条目编号，如 CN-R-0017"),
    region: str = typer.Option(None, "--region", "-r", help="在该地区生效的取值（含本地化），如 510100"),
    fmt: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f", help="输出格式"),
    everything: bool = typer.Option(False, "--all", help="也显示规则的可执行条件（condition）和用例（examples）"),
) -> None:
    """显示一个条目在某地区生效时的样子，每个取值标明由哪一层设定。

    规则文字中的参数按该地区的生效取值显示；可执行条件和用例只在 --all 时显示。

    示例：

      twoku show CN-R-0017 --region 510100

      twoku show CN-R-0030 --region 510100 --all

      twoku show CN-K-0003

      twoku show CN-R-0017 --region 510000 --format json
    """
    from twoku.ops.library import effective_dict, show_item
    from twoku.render.show import show_text, show_yaml
    from twoku.store.files import find_root

    shown = show_item(find_root(), item_id, region)
    if fmt is ShowFormat.json:
        emit(json.dumps(effective_dict(shown), ensure_ascii=False, indent=2))
    elif fmt is ShowFormat.yaml:
        emit(show_yaml(effective_dict(shown)))
    else:
        show_text(shown, stdout(), everything)
