"""Every kind of bad file at once: each answered with a located finding, exit 1, no traceback,
and the rest of the store still checked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_twoku
from tests.storefactory import make_store

K = "national/knowledge/laws/"
BAD: dict[str, tuple[bytes, str]] = {
    K + "CN-K-0101.yaml": (b"", "TK106"),
    K + "CN-K-0102.yaml": ("id: CN-K-0102\ntitle: 医保\n".encode("gbk"), "TK104"),
    K + "CN-K-0103.yaml": ("\ufeffid: CN-K-0103\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\n".encode(), "TK105"),
    K + "CN-K-0104.yaml": (b"id: CN-K-0104\narticles:\n\t- ref: x\n", "TK103"),
    K + "CN-K-0105.yaml": ("id: CN-K-0105\ntitle: 甲\ntitle: 乙\n".encode(), "TK102"),
    K + "CN-K-0106.yaml": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            b"a%d: &a%d [" % (i, i) + b", ".join([b"*a%d" % (i - 1) if i > 1 else b"*a"] * 9) + b"]\n"
            for i in range(1, 10)
        ),
        "TK107",
    ),
    K + "CN-K-0107.yaml": (b"id: CN-K-0107\nfacts: " + b"[" * 200 + b"]" * 200 + b"\n", "TK107"),
    K + "CN-K-0108.yaml": (b"id: CN-K-0108\nsummary: '" + b"x" * (50 * 1024 * 1024) + b"'\n", "TK107"),
    K + "CN-K-0109.yaml": ("- id: CN-K-0109\n- title: 列表\n".encode(), "TK201"),
    K + "CN-K-0110.yaml": (
        "id: CN-K-0110\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\neffective: 明年\n".encode(),
        "TK201",
    ),
    K + "CN-K-0111.yaml": (
        "id: CN-K-0111\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\neffective: 2021-02-30\n".encode(),
        "TK101",
    ),
    K + "CN-K-0112.yaml": ("id: CN-K/../0112\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\n".encode(), "TK302"),
    K + "CN-K-0113.yaml": ("id: CN-K- 0113\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\n".encode(), "TK302"),
    K + "CN-K-0114.yaml": ("id: CN－K－０１１４\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\n".encode(), "TK302"),
    "national/knowledge/codes/CN-K-0115.yaml": (
        "id: CN-K-0115\ncategory: 医保信息业务编码\ntitle: 定点医疗机构代码\nstatus: 生效\npattern: ^H\\d{11}$\n"
        "table: CN-K-0115.csv\n".encode(),
        "TK430",  # the legacy shorthand: its rows are outside change control
    ),
    "national/knowledge/codes/CN-K-0115.csv": ("code,name\nH５１０１０００００１，某医院,\n".encode(), "TK406"),
    "national/knowledge/medical/CN-K-0116.yaml": (
        "id: CN-K-0116\ncategory: 医药学知识\ntitle: 甲\nstatus: 生效\nbasis:\n  - id: CN-K-0117\n".encode(),
        "",
    ),
    "national/knowledge/medical/CN-K-0117.yaml": (
        "id: CN-K-0117\ncategory: 医药学知识\ntitle: 乙\nstatus: 生效\nbasis:\n  - id: CN-K-0116\n".encode(),
        "TK405",
    ),
    K + "CN-K-0118.yaml": ("id: CN-K-0118\n<<<<<<< HEAD\ntitle: 甲\n=======\ntitle: 乙\n>>>>>>> x\n".encode(), "TK108"),
    # a well-formed file with an ordinary error: proves the rest of the store is still checked
    K + "CN-K-0119.yaml": (
        "id: CN-K-0119\ncategory: 法律法规\ntitle: 某法\nstatus: 生效\neffective: 2025-01-01\n"
        "expires: 2024-01-01\n".encode(),
        "TK601",
    ),
}


def test_every_bad_file_is_a_located_finding_and_nothing_else_breaks(tmp_path: Path) -> None:
    root = make_store(tmp_path / "store", {path: raw for path, (raw, _) in BAD.items()}, commit=False)
    result = run_twoku("validate", "--format", "json", "--no-cache", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    findings = json.loads(result.stdout)["findings"]
    by_path: dict[str, set[str]] = {}
    for f in findings:
        assert f["line"] is not None and f["line"] >= 1, f
        by_path.setdefault(f["path"], set()).add(f["code"])
    for path, (_, code) in BAD.items():
        if code:
            assert code in by_path.get(path, set()), (path, code, by_path.get(path))
    text = run_twoku("validate", "--no-cache", cwd=root)
    assert text.returncode == 1 and "Traceback" not in text.stderr
