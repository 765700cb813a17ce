"""Reading the workbooks and exports ``twoku import`` loads: .xlsx, .xls (older NHSA batches) and .csv.

Excel files are read with python-calamine (Rust's calamine): one maintained reader for both .xlsx and
the binary .xls, several times faster than openpyxl on a 100,000-row sheet, and it gives the merged
ranges a points sheet uses for a point's name over its codes.  Cells come as Python values (numbers as
float, dates as date); model/importing.py makes text of them.  A CSV is read as UTF-8 (with or without
BOM), else GB18030, which is what Excel writes on a Chinese Windows.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from twoku.errors import TwokuError
from twoku.model.importing import Sheet

EXCEL = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of the file (a CSV is one sheet), as cell values."""
    if not path.is_file():
        raise TwokuError(f"文件不存在：{path}", hint="检查路径；文件名含空格时加引号")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [Sheet(path.stem, _csv_rows(path), source=path.name)]
    if suffix not in EXCEL:
        raise TwokuError(f"{path.name}：不认识的文件类型 {suffix or '（无扩展名）'}", hint="支持 .xlsx、.xls 和 .csv")
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(os.fspath(path))
        sheets = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = [tuple(map(tuple, m)) for m in (getattr(sheet, "merged_cell_ranges", None) or ())]
            sheets.append(Sheet(name, rows, merged, path.name))  # type: ignore[arg-type]
    except (CalamineError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    except BaseException as exc:  # a Rust panic on a malformed file reaches Python as a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable(path, exc) from None
    return sheets


def _unreadable(path: Path, exc: BaseException) -> TwokuError:
    return TwokuError(f"读不出 {path.name}：{exc}", hint="确认它是 Excel 工作簿（.xlsx 或 .xls）且未加密、未损坏")


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any bytes but a few invalid sequences
        raise TwokuError(f"{path.name} 既不是 UTF-8 也不是 GB18030 编码", hint="另存为“CSV UTF-8（逗号分隔）”")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise TwokuError(f"{path.name} 不是有效的 CSV：{exc}", hint="检查引号是否成对") from None
