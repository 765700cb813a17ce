"""Knowledge tables (知识点明细): each table checked against what its item declares (model/tables.py).

Findings about the file's content point at the CSV itself (its line and the cell's position);
findings about the declaration point at the item's ``table``.  Each carries the item's path in
``extra["item_path"]``, so a re-check after the item changes finds them again (ops/recheck.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from twoku.checks.registry import STORE_CODES, declare, finding, store_check
from twoku.model import tables
from twoku.model.findings import ERROR, WARNING, Finding
from twoku.model.library import Item, Library, table_overrides
from twoku.model.personal import NAME_KEYS, might_be_personal, personal_data, surely_not_personal
from twoku.model.regex import UnsafePattern, compile_linear

CODES = {
    "encoding": "TK420",
    "header": "TK421",
    "shape": "TK422",
    "cell": "TK423",
    "pattern": "TK406",
    "duplicate": "TK424",
    "conflict": "TK425",
    "order": "TK426",
    "size": "TK427",
}
DECLARATION, UNSEALED, LEGACY = "TK428", "TK429", "TK430"

declare(
    "TK420",
    "table-encoding",
    """知识点明细表不是不带 BOM 的 UTF-8 编码（如 Excel 另存的 GBK/GB18030，或带 BOM）。

    坏：用 Excel“CSV（逗号分隔）”在中文 Windows 上保存的表格（GBK）
    好：“CSV UTF-8（逗号分隔）”保存，或由 twoku table seal / twoku import 写出
    """,
)
declare(
    "TK421",
    "table-header",
    """知识点明细表的首行不是声明的表头（列名或中文标题，按声明的顺序）。缺少表头时第一行数据会被当作表头而丢失。

    坏：声明了 code,name,note，文件首行却是 H99999900003,某医院,
    好：首行为 code,name,note（或 代码,名称,备注）
    """,
)
declare(
    "TK422",
    "table-shape",
    """知识点明细表的某行列数与表头不同、是空行，或引号不成对（单元格内换行）：每行一条，列数一致。

    坏：H99999900003,某医院,备注,多余
    好：H99999900003,某医院,备注
    """,
)
declare(
    "TK423",
    "table-cell",
    """知识点明细表的单元格不符合其列的类型：整数、数值、日期（YYYY-MM-DD）、枚举取值，或必填列（含键列）为空。

    坏：min_age_days 列为 “十四”；sex 列为 “M”（声明的取值为 男、女）
    好：min_age_days 列为 14；sex 列为 男
    """,
)
declare(
    "TK424",
    "table-duplicate-row",
    """知识点明细表中同一行出现两次（键相同、各列相同）。

    坏：两行都是 XL02BBA326A001010102180,阿帕他胺片,
    好：每个键只有一行
    """,
)
declare(
    "TK425",
    "table-conflicting-row",
    """知识点明细表中同一键有两行而取值不同（如同一代码对应两个名称、两个限定性别）：规则无法知道该用哪一行。

    坏：XL02BBA326A001010102180,阿帕他胺片 与 XL02BBA326A001010102180,阿帕他胺
    好：一个键一行；确有多个取值时把区分它们的列加入 key（长格式）
    """,
)
declare(
    "TK426",
    "table-order",
    """知识点明细表的行未按键排序：排序后 git 按行比较和合并，增删一目了然。

    坏：代码 H2… 在 H1… 之前
    好：按键排序（twoku table seal 会排好）
    """,
    WARNING,
)
declare(
    "TK427",
    "table-size",
    f"""知识点明细表文件超过 {tables.MAX_TABLE_BYTES // 1048576} MB：不读取，以免耗尽内存。

    坏：把整个国家药品代码库放进一个条目的表格
    好：按规则类别拆分为多个知识条目，或只保留规则需要的行
    """,
)
declare(
    "TK428",
    "table-declaration",
    """知识点明细表的声明有误：键列未声明、列名重复、枚举列没有取值、代码列的编码体系不存在或没有 pattern。

    坏：key: [code]，而 columns 中没有 code；system: CN-K-0099（不存在）
    好：键列都在 columns 中；system 指向有 pattern 的医保信息业务编码条目
    """,
)
declare(
    "TK429",
    "table-unsealed",
    """知识点明细表的内容与条目中封存的摘要（table.digest）不一致：表格改了，而条目没有随之更新，
    论证、本地化复核和变更比较都看不到这次修改。

    坏：在 Excel 中删除了两行后直接提交
    好：核对修改后运行 twoku table seal 条目编号，把表格和条目一同提交
    """,
)
declare(
    "TK430",
    "table-legacy",
    """旧式代码表声明（table: 文件名.csv）：表格各行不在变更控制之内（修改表格不改变条目的内容摘要）。

    坏：table: CN-K-0030.csv
    好：运行 twoku table seal CN-K-0030，改为带列、键和摘要的完整声明
    """,
    WARNING,
)
STORE_CODES.update({*CODES.values(), DECLARATION, UNSEALED, LEGACY})


@store_check("TK406", "code-table")
def check_tables(lib: Library) -> Iterator[Finding]:
    """医保信息业务编码条目或知识点明细表的表格文件缺失，或其中的代码不符合所属编码体系的 pattern。

    坏：pattern ``^H\\d{11}$`` 而代码表中有 ``H1234``；table 指向不存在的文件
    好：表格存在，每个代码都符合编码规则
    """
    for item in lib.of_kind("knowledge"):
        spec = tables.spec_of(item.data)
        if spec is None:
            continue
        for found in _item_table(lib, item, spec):
            found.extra["item_path"] = item.path
            yield found


def _item_table(lib: Library, item: Item, spec: tables.TableSpec) -> Iterator[Finding]:
    path = tables.table_path(item.path, spec)
    pointer = ("table",) if spec.legacy else ("table", "file")
    if spec.legacy:
        yield finding(
            LEGACY,
            f"旧式代码表声明 {spec.file}：表格修改不在变更控制之内",
            item.path,
            ("table",),
            item.id,
            f"运行 twoku table seal {item.id}",
        )
    patterns, declared = _declaration(lib, item, spec)
    yield from declared
    table = lib.tables.get(path)
    if table is None:
        yield finding(
            "TK406",
            f"表格 {spec.file} 不存在或无法读取",
            item.path,
            pointer,
            item.id,
            f"在 {path} 放置 UTF-8 CSV 表格（首行为表头：{','.join(spec.names)}）",
        )
        return
    if spec.legacy and table.readable and table.text_lines:
        first = table.text_lines[0].split(",")[0].strip()
        pattern = patterns.get(item.id)
        if pattern and compile_linear(pattern).fullmatch(first):
            yield finding(
                "TK421",
                f"代码表首行是代码 {first}，不是表头：这个代码会被当作表头而丢失",
                path,
                (),
                item.id,
                "在首行加上表头，如 code,name,note",
            ).located(1, 1)
    errors = bool(declared)
    checked = list(tables.problems(table, patterns, keys=not declared))  # (before table.problems: see Table._settle)
    for problem in [*table.problems, *checked]:
        found = finding(CODES[problem.kind], problem.message, path, (), item.id, problem.hint)
        errors = errors or found.severity == ERROR
        yield found.located(problem.line or 1, problem.column or 1)
    yield from _personal(item, table, path)
    if not spec.legacy and table.readable and not errors:  # the seal is asked for once the table is right
        digest = tables.rows_digest(table)
        if digest != spec.digest or spec.rows != table.row_count:
            what = "尚未封存" if spec.digest is None else f"已改变（封存时 {spec.rows} 行，现在 {table.row_count} 行）"
            yield finding(
                UNSEALED,
                f"表格 {spec.file} 的内容{what}，与条目记录的摘要不符",
                item.path,
                ("table", "digest") if spec.digest else pointer,
                item.id,
                f"核对修改后运行 twoku table seal {item.id}，把表格和条目一同提交",
            )


def _personal(item: Item, table: tables.Table, path: str) -> Iterator[Finding]:
    """TK801 and TK802 in a table's file too (第二十二条): a table holds knowledge, never an insured person.
    One quick look at the whole file; its lines are searched only where it finds a number's shape."""
    source = table.source if table.from_source else None
    if source is not None:  # its bytes, its lines not made: the header is its first line
        header = source[: source.find(b"\n")].decode("utf-8")
    elif table.text_lines:
        header = table.text_lines[0]
    else:
        return
    for n, title in enumerate(header.split(",")):
        if title.strip() in NAME_KEYS:
            hint = "删除该列；知识点明细不保存参保人信息"
            yield finding("TK802", f"列 “{title.strip()}” 可能保存个人姓名", path, (), item.id, hint).located(1, n + 1)
    if source is not None and surely_not_personal(source):
        return
    if not might_be_personal("\n".join(table.text_lines)):
        return
    for n, line in enumerate(table.text_lines):
        kind = personal_data(line)
        if kind:
            hint = "删除个人信息；知识点明细只列药品、项目、诊断等知识"
            yield finding("TK801", f"疑似{kind}", path, (), item.id, hint).located(n + 1, 1)


def column_patterns(lib: Library, item: Item, spec: tables.TableSpec) -> dict[str, str | None]:
    """The ``pattern`` of each code system the table's columns name (as its own rows are checked with)."""
    return _declaration(lib, item, spec)[0]


def _declaration(lib: Library, item: Item, spec: tables.TableSpec) -> tuple[dict[str, str | None], list[Finding]]:
    """The patterns of the code systems the columns name, and what is wrong with the declaration."""
    out: list[Finding] = []
    patterns: dict[str, str | None] = {}
    names = spec.names

    def bad(message: str, *pointer: str | int) -> None:
        out.append(finding(DECLARATION, message, item.path, ("table", *pointer), item.id))

    for n, name in enumerate(names):
        if name in names[:n]:
            bad(f"列名 {name} 重复", "columns", n, "name")
    for key in spec.key:
        if key not in names:
            bad(f"键列 {key} 不在 columns 中", "key")
    for n, column in enumerate(spec.columns):
        if column.type == "enum" and not column.values:
            bad(f"枚举列 {column.name} 没有列出取值（values）", "columns", n)
        if column.system is None:
            continue
        system = lib.get(column.system, "knowledge")
        pattern = system.data.get("pattern") if system is not None else None
        if not isinstance(pattern, str):
            where = ("columns", n, "system") if not spec.legacy else ()
            bad(f"列 {column.name} 的编码体系 {column.system} 不存在或没有编码规则（pattern）", *where)
            continue
        try:
            compile_linear(pattern)
        except UnsafePattern:
            patterns[column.system] = ""  # TK408 says why; the column's codes are not tried
            continue
        patterns[column.system] = pattern
    return patterns, out


@store_check("TK508", "table-override")
def overrides_of_tables(lib: Library) -> Iterator[Finding]:
    """下级对上级知识点明细表的增删（本地化的 rows）不成立：上级表格不允许增加或删除行（table.lower）、
    要删除的行在上级表格中没有、增加的行缺少键列或取值不符合列的类型。每一行都须写明理由（reason）。

    坏：上级声明 ``lower: {add: true}``，本地化却 ``rows: {remove: [{code: X…, reason: …}]}``
    好：在上级允许的范围内增删，并写明理由
    """
    for override in lib.of_kind("override"):
        target = lib.get(override.data.get("target"))
        rows = override.data.get("rows")
        if target is None or override.deprecated or not isinstance(rows, Mapping):
            continue
        spec = tables.spec_of(target.data) if target.kind == "knowledge" else None
        if spec is None:
            what = "不是知识条目" if target.kind != "knowledge" else "没有知识点明细表"
            yield finding("TK508", f"目标 {target.id} {what}，不能增删表格行", override.path, ("rows",), override.id)
            continue
        yield from _rows_override(lib, override, target, spec, rows)


def _rows_override(
    lib: Library, override: Item, target: Item, spec: tables.TableSpec, rows: Mapping[str, object]
) -> Iterator[Finding]:
    def bad(message: str, *pointer: str | int, hint: str | None = None) -> Finding:
        return finding("TK508", message, override.path, ("rows", *pointer), override.id, hint)

    lower = f"{target.id} 的 table.lower"
    if rows.get("add") and not spec.add:
        yield bad(
            f"上级表格不允许下级增加行（{lower} 未允许 add）",
            "add",
            hint="向上级报告需要增加的行（twoku report-upstream）",
        )
    if rows.get("remove") and not spec.remove:
        yield bad(
            f"上级表格不允许下级删除行（{lower} 未允许 remove）", "remove", hint="向上级报告（twoku report-upstream）"
        )
    upper = lib.tables.get(tables.table_path(target.path, spec))
    have = None
    if upper is not None and upper.readable and override.layer is not None and target.layer is not None:
        # what the layers above this one made of the table: a city may remove a row its province added
        above = [o for o in table_overrides(lib, target.id, override.layer) if o[0] != override.layer.code]
        have = {upper.key_of(row) for row in tables.layered(upper, target.layer.code, above).rows}
    removed = rows.get("remove")
    for n, entry in enumerate(removed if isinstance(removed, Sequence) else ()):
        if not isinstance(entry, Mapping):
            continue
        missing = [k for k in spec.key if k not in entry]
        if missing:
            yield bad(
                f"删除的行缺少键列 {'、'.join(missing)}", "remove", n, hint="写出键列的取值：" + "、".join(spec.key)
            )
        elif have is not None and tables.key_of_entry(spec, entry) not in have:
            key = "、".join(tables.key_of_entry(spec, entry))
            yield bad(
                f"要删除的行 {key} 不在 {target.id} 的表格中", "remove", n, hint=f"用 twoku table {target.id} 查看"
            )
    add = rows.get("add")
    added = [e for e in (add if isinstance(add, Sequence) else ()) if isinstance(e, Mapping)]
    for n, entry in enumerate(added):
        unknown = [k for k in entry if k != "reason" and k not in spec.names]
        if unknown:
            yield bad(
                f"增加的行有表格没有的列 {'、'.join(map(str, unknown))}", "add", n, hint="列：" + "、".join(spec.names)
            )
    if added:
        table = tables.Table(spec, override.path, [tables.row_of(spec, e) for e in added], list(range(len(added))))
        patterns, _ = _declaration(lib, target, spec)
        for problem in tables.problems(table, patterns, keys=False):
            yield bad(problem.message, "add", problem.line, hint=problem.hint)
