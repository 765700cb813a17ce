"""Time ``twoku import`` on a 100,000-row 知识点明细 workbook and a 500,000-row code database export.

    python benchmarks/run_import.py                       # 100,000 points, 500,000 codes (targets: ≤ 10 s, ≤ 20 s)
    python benchmarks/run_import.py --points 10000 --codes 50000    # quicker

A copy of the shipped store is made in a temporary folder (its own git repository); the workbook
(one points sheet under a title row, drug codes in the CN-K-0030 format, limit text with 支付不超过 N 天,
mapped to its own column) is written with openpyxl, the export as a CSV
of service-item codes whose leading zeros a spreadsheet dropped (each one restored).  Each import is run
as a user runs it (``twoku import …`` in a new process: start-up, reading, checking, writing, sealing,
committing) and timed by the wall clock; then the same file again, which must write nothing.
The codes are synthetic, in the code systems' formats; no data is taken from anywhere.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ("twoku.yaml", "national", "provincial", "argumentation", "adjustments")


def workbook(path: Path, points: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("药品限支付疗程规则对应知识点明细")
    sheet.append(["国家医保局 药品限支付疗程 知识点明细（基准测试数据）"])
    sheet.append(["序号", "药品通用名", "药品代码", "限定条件", "备注"])
    for n in range(points):
        code = f"XN07XXD{n % 1000:03d}B{n:012d}"
        sheet.append([n + 1, f"药品{n // 7}", code, f"支付不超过{7 + n % 30}天", "基准测试"])
    book.save(path)


def export(path: Path, codes: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("项目编码,项目名称,说明\n")
        for n in range(codes):
            fh.write(f"{1000000000000 + n * 7},项目{n},基准测试\n")  # 13 digits: two leading zeros lost


def store(folder: Path) -> Path:
    root = folder / "store"
    root.mkdir()
    for name in SHIPPED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        elif src.is_file():
            shutil.copy2(src, root / name)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "基准测试"],
        ["config", "user.email", "bench@example.org"],
        ["add", "-A"],
        ["commit", "-q", "-m", "参考库"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def twoku(root: Path, *args: str) -> float:
    exe = Path(sys.executable).parent / "twoku"
    start = time.perf_counter()
    done = subprocess.run([str(exe), "import", *args, "--format", "json"], cwd=root, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"twoku import {' '.join(args)} failed:\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=500_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = store(folder)
        book, csv = folder / "points.xlsx", folder / "codes.csv"
        workbook(book, args.points)
        export(csv, args.codes)
        print(f"workbook {book.stat().st_size / 1e6:.1f} MB, export {csv.stat().st_size / 1e6:.1f} MB")
        nhsa = ("nhsa", str(book), "--class", "药品限支付疗程", "--batch", "基准")
        first = twoku(root, *nhsa)
        again = twoku(root, *nhsa)
        print(f"import nhsa, {args.points:,} rows: {first:.1f} s (target ≤ 10 s); again, unchanged: {again:.1f} s")
        codes = ("codes", str(csv), "--system", "CN-K-0033", "--map", "code=项目编码,name=项目名称,note=说明")
        first = twoku(root, *codes)
        again = twoku(root, *codes)
        print(f"import codes, {args.codes:,} rows: {first:.1f} s (target ≤ 20 s); again, unchanged: {again:.1f} s")


if __name__ == "__main__":
    main()
