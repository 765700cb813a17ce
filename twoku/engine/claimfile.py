"""A claim file as a bureau saves it, made readable for DuckDB: its path, its encoding, its column titles.

* The path is read literally: DuckDB expands ``*``, ``?`` and ``[…]`` in a path as a glob (``m[1].csv``
  would read ``m1.csv``), so a name holding them is linked under a plain name first.
* Excel on Chinese Windows saves CSV as GBK/GB18030 (「CSV（逗号分隔）」) or as UTF-8 with a BOM
  (「CSV UTF-8」).  UTF-8, with or without a BOM, is read as it is; anything else is transcoded to
  UTF-8 beside a scratch copy first.  ``auto`` tells them apart from the first megabyte.
* A column is named by the claim field's English name (``line_id``) or its Chinese title (明细流水号,
  model/claim.py), so a table exported with Chinese headers needs no renaming.
"""

from __future__ import annotations

import codecs
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from twoku.errors import TwokuError, UsageError
from twoku.model import claim

GLOB_CHARS = frozenset("*?[]")
ENCODINGS = ("auto", "utf-8", "gb18030", "gbk")
_SAMPLE = 1 << 20


@dataclass(frozen=True)
class Columns:
    """How a file's columns name the claim fields."""

    fields: dict[str, str]  # claim field → the file's column
    unknown: tuple[str, ...]  # columns that name no claim field (ignored)


def literal_path(path: Path, scratch: Path) -> Path:
    """``path`` itself, or a link to it under a plain name in ``scratch`` when DuckDB would glob it."""
    if not GLOB_CHARS & set(str(path)):
        return path
    if GLOB_CHARS & set(str(scratch)):
        raise UsageError(
            f"临时目录 {scratch} 的名称含 * ? [ ]，无法安全读取 {path.name}", hint="设置 TMPDIR 为普通名称的目录"
        )
    target = scratch / f"source{path.suffix.lower()}"
    try:
        os.symlink(path.resolve(), target)
    except OSError:  # no symlinks here (some Windows set-ups): a copy reads the same
        shutil.copyfile(path, target)
    return target


def check_encoding(name: str) -> str:
    """The encoding named by ``--encoding``, normalised; a usage error for an unknown one."""
    wanted = (name or "auto").strip().lower()
    if wanted == "auto":
        return wanted
    try:
        codec = codecs.lookup(wanted).name
    except LookupError:
        raise UsageError(
            f"--encoding {name}：不认识这种编码", hint="可选 auto（自动识别）、utf-8、gb18030、gbk"
        ) from None
    # GB18030 contains GBK and GB2312: reading with it accepts every file saved in either.
    return "gb18030" if codec in ("gbk", "gb2312", "gb18030") else codec


def detect_encoding(path: Path, given: str = "auto") -> str:
    """``utf-8`` (a BOM is skipped by the readers) or the encoding the file must be transcoded from."""
    wanted = check_encoding(given)
    if wanted in ("utf-8", "utf-8-sig"):
        return "utf-8"
    if wanted != "auto":
        return wanted
    if _is_utf8(path):
        return "utf-8"
    sample = _sample(path)
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        raise TwokuError(
            f"{path.name} 既不是 UTF-8 也不是 GBK/GB18030 编码，无法识别",
            hint="在 Excel 中另存为「CSV UTF-8（逗号分隔）」，或用 --encoding 指明编码",
            path=str(path),
        ) from None
    return "gb18030"


def _sample(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(_SAMPLE)


def _is_utf8(path: Path) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(_sample(path), final=False)
    except UnicodeDecodeError:
        return False
    return True


def transcode(path: Path, encoding: str, scratch: Path) -> Path:
    """A UTF-8 copy of a CSV file saved in ``encoding``; a located message at the first undecodable line."""
    target = scratch / "source-utf8.csv"
    line = 0
    try:
        with (
            path.open(encoding=encoding, newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            for line, text in enumerate(src, 1):  # noqa: B007 (the line is reported on failure)
                dst.write(text)
    except UnicodeDecodeError:
        raise TwokuError(
            f"{path.name} 第 {line + 1} 行不是有效的 {encoding} 编码",
            hint="确认文件的编码，用 --encoding 指明（如 --encoding utf-8 或 --encoding gb18030）",
            path=str(path),
            line=line + 1,
        ) from None
    return target


def match_columns(names: list[str], path: Path) -> Columns:
    """Which column holds each claim field: by English name or Chinese title; refusals said in Chinese."""
    by_title = {f.title: f.name for f in claim.CLAIM_FIELDS}
    fields: dict[str, str] = {}
    unknown: list[str] = []
    for column in names:
        key = column.strip()
        field = key if key in claim.FIELDS else by_title.get(key) or by_title.get(key.replace(" ", ""))
        if field is None and key.lower() in claim.FIELDS:
            field = key.lower()
        if field is None:
            unknown.append(column)
            continue
        if field in fields:
            raise TwokuError(
                f"{path.name} 的表头有两列都表示 {field}（{claim.FIELDS[field].title}）：{fields[field]}、{column}",
                hint="删去其中一列，或改正列名",
                path=str(path),
                line=1,
            )
        fields[field] = column
    missing = [f for f in claim.REQUIRED if f not in fields]
    if missing:
        named = "、".join(f"{f}（{claim.FIELDS[f].title}）" for f in missing)
        also = f"；不认识的列：{'、'.join(unknown)}" if unknown else ""
        raise TwokuError(
            f"{path.name} 缺少必需的列：{named}{also}",
            hint="表头用结算明细的英文列名或中文名称（如 line_id 或 明细流水号），全部列见 schema/claim.schema.json",
            path=str(path),
            line=1,
        )
    return Columns(fields, tuple(unknown))
