"""The public summary's page in a real headless browser, and its workbook read back."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from twoku.model.publication import Publication
from twoku.ops.publish import build
from twoku.render.publish import renderer

AS_OF = dt.date(2026, 6, 30)
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.fixture
def city(shipped: Path) -> Publication:
    return build(shipped, "510100", "institutions", AS_OF)


def test_page_is_self_contained(city: Publication) -> None:
    page = renderer("html")(city).decode("utf-8")
    assert "default-src 'none'" in page  # the browser may fetch nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert '<meta name="viewport"' in page and "@media print" in page
    assert page.count("data-rule ") == len(city.rules)
    assert "成都市（示例）医疗保障基金智能监控规则公开摘要" in page


def test_page_explains_itself_to_a_hospital(city: Publication) -> None:
    page = renderer("html")(city).decode("utf-8")
    assert page.count('<li><a href="#') == len(city.rules)  # contents: every rule, linked
    assert page.count("<dt>判断等级</dt>") == len(city.rules)  # a labelled level, not a bare badge
    assert "如何阅读" in page and "第二十条" in page  # what 可疑 means for the institution
    assert "<dt>设定单位</dt>" not in page and "在本地区的取值" in page
    assert city.revision in page.split("<footer>")[1]  # the revision is for checking, at the foot
    assert "CN-K-0003</span>《医疗保障基金使用监督管理条例》" in page  # the IDs the logic cites
    # The monitoring point quotes the national 15 days; the standard says why 10 applies here.
    assert '10天<span class="suggested">国家建议值 15天</span>' in page


def _dump_dom(page: Path, fragment: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    url = page.as_uri() + "#" + fragment
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", "--dump-dom", url]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: .ci/run installs it with apt-get; the page was not opened")
def test_search_filters_rows_in_a_real_browser(city: Publication, tmp_path: Path) -> None:
    page = tmp_path / "summary.html"
    page.write_bytes(renderer("html")(city))
    fragment = urllib.parse.urlencode({"q": "分解住院", "level": "可疑"})
    result = _dump_dom(page, fragment, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-ready="1"' in dom  # the script ran to its end
    consoles = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert consoles == []  # no errors, no warnings (a CSP violation would show here too)
    articles = re.findall(r"<article [^>]*>", dom)
    assert len(articles) == len(city.rules)
    shown = [re.search(r'id="([^"]+)"', a)[1] for a in articles if " hidden" not in a]  # type: ignore[index]
    assert "CN-R-0017" in shown and 0 < len(shown) < len(city.rules)
    assert all('data-level="可疑"' in a for a in articles if " hidden" not in a)
    assert f"显示 {len(shown)} / {len(city.rules)} 条规则" in dom
    assert re.search(r'<details [^>]*id="toc"[^>]*hidden', dom)  # while filtering, results come first


def test_workbook_reads_back(city: Publication) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(renderer("xlsx")(city)))
    assert wb.sheetnames == ["说明", *city.categories(), "变更情况", *(t.id for t in city.tables)]
    assert city.tables and all(wb[t.id].max_row - 1 == len(t.rows) for t in city.tables)  # a sheet per table
    for name in city.categories():
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]][:3] == ["编号", "规则名称", "判断等级"]
        assert ws.max_row - 1 == sum(1 for r in city.rules if r.category == name)
    sheet = wb["行为主体监管类"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    headers = [c.value for c in sheet[1]]
    # the standards' column by its header: the columns before it depend on the fields the rules fill (schema 2)
    standard = " ".join(str(rows["CN-R-0017"][i]) for i, h in enumerate(headers) if h and "标准" in str(h))
    assert (
        "前次出院至后次入院的间隔天数上限，在此天数内再次入院的进入判断：10天（四川省（示例）设定；国家建议值 15天）"
        in standard
    )
    assert "是否仅在两次住院主要诊断类目相同时列为疑点：否（成都市（示例）设定；国家建议值 是）" in standard
    facts = dict(wb["说明"].iter_rows(min_row=2, values_only=True))
    assert facts["库版本"] == city.revision and facts["公开对象"] == "定点医药机构"


def test_society_sees_only_society_fields(shipped: Path) -> None:
    pub = build(shipped, "510100", "society", AS_OF)
    assert pub.audience == "society" and len(pub.rules) == len(build(shipped, "510100", "institutions", AS_OF).rules)
    assert "公开对象：社会公众" in renderer("md")(pub).decode("utf-8")
