"""``twoku init``: a new store, or — in a clone of an upper store — this fork's own region.

A new store gets ``twoku.yaml``, the packaged JSON Schemas in ``schema/``, the folders
of each layer of its chain (kept in git by ``.gitkeep``), a README in Chinese, a
``.gitignore`` and an initial commit.  In a clone of an upper store (a province forking
the national one, a city its province's), only ``twoku.yaml`` changes: its ``region``
becomes the fork's own, keeping the file's comments and layout.

With ``--upstream`` a new store starts as a clone of the upper store (a URL, a local
repository, or a ``git bundle`` file carried across a segregated network): it holds the
upper layers and shares their history, so the upper level's later releases apply here
(``twoku release`` there, ``twoku intake`` here; or ``git pull upstream`` where the
networks connect).  A store of unrelated history could take neither: the bundle of a
release needs the commits it builds on, and git refuses to merge unrelated histories.
The store's own layer gets a README saying so (``<layer>/README.md``: a file no upper
release ever touches).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError, UsageError
from twoku.model.findings import Pointer
from twoku.model.layout import CONFIG_FILE
from twoku.model.regions import PROVINCES, Layer, layer_name, parse_layer
from twoku.model.schemas import FILES
from twoku.model.templates import GITIGNORE, config_template, layer_readme, store_readme
from twoku.store.writes.faults import writes

KEEP = ".gitkeep"


@dataclass(frozen=True)
class Initialised:
    root: str
    region: str
    created: bool  # a new store (False: a fork's region registered in an existing one)
    files: list[str]
    commit: str | None


def _region(code: str) -> Layer:
    try:
        return parse_layer(code)
    except ValueError as exc:
        raise UsageError(f"--region {code}：{exc}", hint="国家写 CN，省如 510000，市如 510100") from None


def _names(region: Layer, name: str | None) -> dict[str, str]:
    """Names of the regional layers of the chain: GB/T 2260 for provinces, ``name`` for this one."""
    names = {}
    for layer in region.chain:
        if layer.kind == "national":
            continue
        if layer == region and name:
            names[layer.code] = name
        elif layer.kind == "provincial":
            names[layer.code] = PROVINCES[layer.code]
        else:
            names[layer.code] = f"{PROVINCES[layer.code[:2] + '0000']}{layer.code}"
    return names


def folders(region: Layer) -> list[str]:
    """Where the items of each layer of the chain go, and the shared record folders."""
    out = []
    for layer in region.chain:
        kinds = ("knowledge", "rules") if layer.kind == "national" else ("knowledge", "rules", "overrides")
        out += [f"{layer.root}/{kind}" for kind in kinds]
    return [*out, "argumentation", "adjustments"]


def init(target: Path, region: str, upstream: str | None = None, name: str | None = None) -> Initialised:
    layer = _region(region)
    root = target.resolve()
    if (root / CONFIG_FILE).is_file():
        return _register(root, layer, upstream, name)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(
            f"{target} 已存在且不是空目录，也不是 twoku 库",
            hint="指定一个新目录或空目录；要在上级库的克隆中登记本库层级，请在含 twoku.yaml 的目录中运行",
        )
    created_dir = not root.exists()
    try:
        if upstream:
            return _from_upstream(root, layer, upstream, name)
        return _create(root, layer, upstream, name)
    except BaseException:
        # never a half-made store: remove what was made
        if created_dir:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for child in root.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise


def _create(root: Path, layer: Layer, upstream: str | None, name: str | None) -> Initialised:
    from twoku.store.documents import yamlio
    from twoku.store.documents.edit import atomic_write
    from twoku.store.documents.scaffold import to_yaml
    from twoku.store.repo import gitwork
    from twoku.store.schema.schemas import schema_dir, validator

    names = _names(layer, name)
    title = f"{layer_name(layer, names)}两库"
    config = config_template(layer, title, names, upstream)
    errors = [e.message for e in validator("config").iter_errors(config.data)]
    if errors:
        raise UsageError(f"库配置无效：{'；'.join(errors)}", hint="检查 --upstream 与 --name")
    root.mkdir(parents=True, exist_ok=True)
    text = to_yaml(config)
    assert yamlio.to_json(yamlio.load(text.encode("utf-8"))[0]) == config.data
    from twoku.render import markdown as md

    readme = store_readme(layer, md.line(title), md.line(upstream) if upstream else None)
    written = {CONFIG_FILE: text, "README.md": readme, ".gitignore": GITIGNORE}
    for folder in folders(layer):
        written[f"{folder}/{KEEP}"] = ""
    for rel, content in written.items():
        atomic_write(root / rel, content.encode("utf-8"), exclusive=True)
    (root / "schema").mkdir()
    for file in sorted(FILES.values()):
        atomic_write(root / "schema" / file, (schema_dir() / file).read_bytes(), exclusive=True)
        written[f"schema/{file}"] = ""
    gitwork.init(root)
    sha = gitwork.commit_everything(root, f"初始化{title}（本库层级 {layer.code}）")
    return Initialised(str(root), layer.code, True, sorted(written), sha)


def _from_upstream(root: Path, layer: Layer, upstream: str, name: str | None) -> Initialised:
    """A clone of the upper store with this layer registered as its own, and the layer's README."""
    from twoku.store.documents.edit import atomic_write
    from twoku.store.repo import gitwork

    source = Path(upstream).expanduser()
    where = str(source.resolve()) if source.exists() else upstream
    gitwork.clone(where, root)
    if not (root / CONFIG_FILE).is_file():
        raise UsageError(f"{upstream} 不是 twoku 库（没有 {CONFIG_FILE}）", hint="--upstream 给出上级的两库仓库")
    done = _register(root, layer, where, name)
    names = {**_names(layer, name)}
    readme = f"{layer.root}/README.md"
    atomic_write(root / readme, layer_readme(layer, layer_name(layer, names), where).encode("utf-8"))
    gitwork.stage(root, [readme])
    sha = gitwork.commit_only(root, [readme], f"本层说明：{layer_name(layer, names)}（{layer.code}）如何接收上级的更新")
    return Initialised(str(root), layer.code, True, sorted([*done.files, readme]), sha)


@writes
def _register(root: Path, layer: Layer, upstream: str | None, name: str | None) -> Initialised:
    """In a clone of an upper store: make ``layer`` this store's own region."""
    from twoku.store import files
    from twoku.store.documents.edit import atomic_write, update_values
    from twoku.store.repo import gitwork

    config = files.load_config(root)
    current = str(config.get("region") or "")
    if current == layer.code and not upstream:
        raise UsageError(f"本库层级已是 {layer.code}", hint="无需再次登记")
    try:
        mine = parse_layer(current)
    except ValueError:
        raise TwokuError(f"{CONFIG_FILE} 中的 region “{current}” 无效", hint="先修正 twoku.yaml 再登记") from None
    if mine != layer and not mine.is_above(layer):
        raise UsageError(
            f"{layer.code} 不在本库层级 {current} 之下，不能作为它的分支",
            hint="省只能分出国家库，市只能分出国家或本省的库",
        )
    changes: dict[Pointer, Any] = {("region",): layer.code}
    if upstream:
        changes[("upstream",)] = upstream
    known = config.get("regions") if isinstance(config.get("regions"), dict) else None
    for code, label in _names(layer, name).items():
        if known is None:
            changes[("regions",)] = _names(layer, name)
            break
        if code not in known:
            changes[("regions", code)] = label
    path = root / CONFIG_FILE
    update_values(path, changes)
    made = []
    for folder in folders(layer):
        if not (root / folder).is_dir():
            (root / folder).mkdir(parents=True)
            atomic_write(root / folder / KEEP, b"")
            made.append(f"{folder}/{KEEP}")
    sha = None
    if gitwork.is_repo(root):
        gitwork.stage(root, [CONFIG_FILE, *made])
        label = layer_name(layer, {**_names(layer, name), **(known or {})})
        sha = gitwork.commit_only(root, [CONFIG_FILE, *made], f"登记本库层级 {layer.code}（{label}）")
    return Initialised(str(root), layer.code, False, [CONFIG_FILE, *made], sha)
