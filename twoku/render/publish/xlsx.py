"""The public summary as an xlsx workbook: a sheet of particulars, one sheet per rule
category with a frozen, filterable header row, and a sheet of changes.

openpyxl stamps the save time into docProps/core.xml and every zip entry; both are
replaced by the publication's date so the same revision and date give the same bytes.

Every cell is data, never a formula: text from the store (a rule name ``=HYPERLINK(…)``, a definition
``=cmd|' /C calc'!A0``) is written with the string type, and text that a spreadsheet would take for a
formula once edited (leading ``= + - @``, tab or CR, as OWASP's CSV-injection advice lists) also carries
Excel's quote prefix, the workbook's own form of the leading apostrophe.  Control characters, which the
format cannot hold, are written as visible escapes (validate reports them as TK110).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from twoku.model.controls import visible
from twoku.model.publication import Publication, Rule
from twoku.render.publish import common

COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 14),
    ("规则名称", 22),
    ("判断等级", 10),
    ("应用场景", 24),
    ("适用范围", 40),  # 就医场景, 时间区间, 机构, 险种, 监管对象, 建议阈值 (schema 2), a line each
    ("监控要点", 60),
    ("定义", 50),
    ("标准（参数与阈值，本地取值及设定层级）", 44),
    ("违规情形", 50),
    ("依据", 44),
    ("制定层级", 12),
    ("框架编码", 20),
    ("生效日期", 12),
)
LOGIC_COLUMN = ("判断逻辑", 60)  # institutions only (第十二条): after the standard it applies
LOGIC_AT = 8
CHANGE_COLUMNS: tuple[tuple[str, int], ...] = (("编号", 14), ("名称", 30), ("类型", 10), ("变更", 8), ("内容", 90))
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# What a spreadsheet reads as the start of a formula (OWASP: = + - @, tab, CR; and the full-width forms an
# input method may turn into them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _put(cell: Any, value: object) -> None:
    """``value`` in ``cell`` as text and nothing else."""
    text = visible(str(value), keep="\t\n")
    cell.value = text
    cell.data_type = "s"  # openpyxl would have typed "=…" as a formula
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def _columns(pub: Publication) -> tuple[tuple[str, int], ...]:
    if pub.audience != "institutions":
        return COLUMNS
    return (*COLUMNS[:LOGIC_AT], LOGIC_COLUMN, *COLUMNS[LOGIC_AT:])


def _row(rule: Rule, pub: Publication) -> list[str]:
    row = [
        rule.id,
        rule.name,
        rule.level or "",
        "、".join(rule.uses),
        "\n".join(f"{label}：{words}" for label, words in rule.scope() if label != "应用场景"),
        rule.monitoring_point or "",
        rule.definition or "",
        "\n".join(common.param_line(p, rule.layer_name) for p in rule.parameters),
        "\n".join(f"{n}. {v.strip()}" for n, v in enumerate(rule.violations, 1)),
        "\n".join(common.basis_line(b) for b in rule.basis),
        rule.layer_name,
        rule.framework_code or "",
        rule.effective or "",
    ]
    if pub.audience == "institutions":
        row.insert(LOGIC_AT, (rule.logic or "").strip())
    return row


def _sheet(wb: Any, name: str, columns: tuple[tuple[str, int], ...], rows: list[list[str]]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_BAD_SHEET_CHARS.sub("_", visible(name))[:31])
    for r, row in enumerate([[c for c, _ in columns], *rows], 1):
        for c, value in enumerate(row, 1):
            _put(ws.cell(row=r, column=c), value)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = head_font, head_fill, wrap
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    for n, (_, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _reproducible(raw: bytes, stamp: str) -> bytes:
    """The same archive with fixed entry times and the document's times set to ``stamp``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(lambda m: m[1] + stamp.encode() + m[2], data)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def render(pub: Publication) -> bytes:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    _sheet(wb, "说明", (("项目", 14), ("内容", 100)), [[k, v] for k, v in common.facts(pub)])
    for category in pub.categories():
        _sheet(wb, category, _columns(pub), [_row(r, pub) for r in pub.rules if r.category == category])
    changes = [
        [
            c.id,
            c.title,
            common.KIND_WORDS.get(c.kind, c.kind),
            c.label,
            "\n".join(common.field_line(f) for f in c.fields),
        ]
        for c in pub.changes
    ]
    _sheet(wb, "变更情况", CHANGE_COLUMNS, changes)
    for t in pub.tables:  # a sheet per knowledge table the rules are judged against
        columns = (*((title or name, 18) for name, title in t.columns), ("来源层级", 14))
        rows = [[*row, pub.names.get(layer, layer)] for row, layer in zip(t.rows, t.layers, strict=True)]
        _sheet(wb, t.id, columns, rows)
    stamp = dt.datetime.fromisoformat(pub.as_of)
    wb.properties.creator = "twoku"
    wb.properties.title = visible(common.title(pub))
    wb.properties.created = wb.properties.modified = stamp
    raw = io.BytesIO()
    wb.save(raw)
    return _reproducible(raw.getvalue(), stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
