"""Hostile archives are refused before a byte of them is used; good ones pack deterministically."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from twoku.model.exchange import owns, pathspecs
from twoku.model.regions import Layer
from twoku.store import archive
from twoku.store.archive import Refused

GOOD = {"manifest.json": b"{}", "cover.md": "说明".encode(), "patches/0001-x.patch": b"p", "repo.bundle": b"b"}


def tar_with(tmp_path: Path, *infos: tuple[tarfile.TarInfo, bytes]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, data in infos:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    out = tmp_path / "hostile.tar.gz"
    out.write_bytes(buf.getvalue())
    return out


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        (member("/etc/passwd"), "绝对路径"),
        (member("patches/../../x.patch"), ".."),
        (member("..\\x"), "反斜杠"),
        (member("patches/0001-x.patch", tarfile.SYMTYPE, "/etc/passwd"), "链接"),
        (member("patches/0001-x.patch", tarfile.LNKTYPE, "manifest.json"), "链接"),
        (member("patches/0001-x.patch", tarfile.CHRTYPE), "不是普通文件"),
        (member("patches/0001-x.patch", tarfile.FIFOTYPE), "不是普通文件"),
        (member("patches", tarfile.DIRTYPE), "不是普通文件"),
        (member("run.sh"), "不是 twoku 归档应有的文件"),
        (member("patches/evil.patch"), "不是 twoku 归档应有的文件"),
    ],
)
def test_hostile_members_are_refused(tmp_path: Path, info: tarfile.TarInfo, reason: str) -> None:
    path = tar_with(tmp_path, (info, b"x"))
    with pytest.raises(Refused) as caught:
        archive.unpack(path)
    assert reason in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.tar.gz"]  # nothing was extracted


def test_duplicate_member_is_refused(tmp_path: Path) -> None:
    path = tar_with(tmp_path, (member("manifest.json"), b"{}"), (member("manifest.json"), b"{}"))
    with pytest.raises(Refused, match="重复"):
        archive.unpack(path)


@pytest.mark.parametrize(
    ("limit", "value", "reason"),
    [
        ("MAX_MEMBER", 5, "超过"),
        ("MAX_TOTAL", 10, "解开后超过"),
        ("MAX_MEMBERS", 2, "成员超过"),
        ("MAX_ARCHIVE", 10, "超过"),
    ],
)
def test_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, reason: str) -> None:
    path = tmp_path / "big.tar.gz"
    path.write_bytes(archive.pack({**GOOD, "cover.md": b"x" * 8, "manifest.json": b"y" * 8}))
    monkeypatch.setattr(archive, limit, value)
    with pytest.raises(Refused, match=reason):
        archive.unpack(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda: b"not an archive at all",
        lambda: gzip.compress(b"gzip but not a tar" * 40, mtime=0),
        lambda: archive.pack(GOOD)[:-30],  # truncated in transit
    ],
)
def test_broken_archives_are_refused(tmp_path: Path, make: Callable[[], bytes]) -> None:
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(make())
    with pytest.raises(Refused, match="不是有效的 twoku 归档"):
        archive.unpack(path)


def test_pack_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    one, two = archive.pack(GOOD), archive.pack(dict(reversed(list(GOOD.items()))))
    assert one == two
    (tmp_path / "a.tar.gz").write_bytes(one)
    assert archive.unpack(tmp_path / "a.tar.gz") == GOOD
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(GOOD)
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {(0, 0, 0, "", "", 0o644)}


def test_touched_reads_paths_as_git_does() -> None:
    patch = (
        b"diff --git a/national/x.yaml b/provincial/510000/x.yaml\nsimilarity index 100%\n"
        b"rename from national/x.yaml\nrename to provincial/510000/x.yaml\n"
        b"diff --git a/provincial/510000/y.yaml b/provincial/510000/y.yaml\nnew file mode 100644\n"
        b"--- /dev/null\n+++ b/provincial/510000/y.yaml\n@@ -0,0 +1 @@\n+a: 1\n"
    )
    found = archive.touched(patch)  # a pure rename's old path: apply_checked names it (test below)
    assert sorted(found) == ["provincial/510000/x.yaml", "provincial/510000/y.yaml"]
    quoted = b'diff --git "a/national/\\345.yaml" "b/national/\\345.yaml"\ndeleted file mode 100644\n'
    quoted += b'--- "a/national/\\345.yaml"\n+++ /dev/null\n@@ -1 +0,0 @@\n-a: 1\n'
    assert any(p.startswith("national/") for p in archive.touched(quoted))
    with pytest.raises(Refused, match="补丁无法解析"):
        archive.touched(b"no diff here\n")


@pytest.mark.parametrize(
    "line", ["++ 补充意见：无", '++ "C:\\xfiles\\报告.doc"', "++ b/national/x.yaml", "-- a/national/y.yaml"]
)
def test_a_files_content_is_never_read_as_a_header(line: str) -> None:
    """Issue 20, item 14: lines of content that look like headers ("+++ …" once prefixed) are content."""
    body = f"+{line}\n".encode()
    patch = (
        b"diff --git a/provincial/510000/t.csv b/provincial/510000/t.csv\nnew file mode 100644\n"
        b"--- /dev/null\n+++ b/provincial/510000/t.csv\n@@ -0,0 +1,2 @@\n+code,name\n" + body
    )
    assert archive.touched(patch) == ["provincial/510000/t.csv"]


@pytest.mark.parametrize(
    ("layer", "path", "owned"),
    [
        ("510000", "provincial/510000/rules/actor-supervision/510000-R-0001.yaml", True),
        ("510000", "provincial/510000/municipal/510100/rules/x/510100-R-0001.yaml", False),
        ("510000", "provincial/520000/rules/x/520000-R-0001.yaml", False),
        ("510000", "national/rules/x/CN-R-0001.yaml", False),
        ("510000", "argumentation/510000-A-0001.yaml", True),
        ("510000", "argumentation/CN-A-0001.yaml", False),
        ("510000", "adjustments/510000-annual-2025.yaml", True),
        ("510000", "twoku.yaml", False),
        ("510000", "provincial/510000/../../national/x.yaml", False),
        ("510100", "provincial/510000/municipal/510100/overrides/510100-O-0001.yaml", True),
        ("510100", "provincial/510000/overrides/510000-O-0001.yaml", False),
        ("CN", "national/knowledge/laws/CN-K-0001.yaml", True),
        ("CN", "provincial/510000/overrides/510000-O-0001.yaml", False),
    ],
)
def test_a_layer_owns_its_folder_and_its_records(layer: str, path: str, owned: bool) -> None:
    assert owns(Layer(layer), path) is owned


def test_pathspecs_leave_the_cities_out_of_a_province() -> None:
    assert pathspecs(Layer("510000")) == [
        "provincial/510000/",
        ":(exclude)provincial/510000/municipal/",
        ":(glob)argumentation/510000-*",
        ":(glob)adjustments/510000-*",
    ]


def _gz(tmp_path: Path, *blocks: bytes) -> Path:
    out = tmp_path / "bomb.tar.gz"
    with gzip.open(out, "wb", compresslevel=1) as gz:
        for block in blocks:
            gz.write(block)
        gz.write(b"\0" * 1024)
    return out


def _header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info.tobuf(tarfile.USTAR_FORMAT if kind in (tarfile.XHDTYPE, tarfile.REGTYPE) else tarfile.GNU_FORMAT)


@pytest.mark.parametrize(
    ("kind", "size", "reason"),
    [
        (tarfile.GNUTYPE_LONGNAME, 1536 << 20, "成员名长达"),  # issue 20, item 7: a 1.5 GiB member name
        (tarfile.GNUTYPE_LONGLINK, 1 << 20, "成员名长达"),
        (tarfile.XHDTYPE, 1536 << 20, "pax 扩展头长达"),
    ],
)
def test_a_huge_name_or_pax_header_is_refused_before_it_is_read(
    tmp_path: Path, kind: bytes, size: int, reason: str
) -> None:
    """The header says how big; the refusal comes from that alone (tarfile would read it all into memory)."""
    path = _gz(tmp_path, _header("././@LongLink", kind, size), b"a" * (4 << 20))
    with pytest.raises(Refused, match=reason):
        archive.unpack(path)


def test_a_pax_size_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    record = b" size=999999999999\n"
    record = b"%d%s" % (len(record) + 2, record)
    pax = _header("././@PaxHeader", tarfile.XHDTYPE, len(record)) + record + b"\0" * (-len(record) % 512)
    path = _gz(tmp_path, pax, _header("manifest.json", tarfile.REGTYPE, 2), b"{}" + b"\0" * 510)
    with pytest.raises(Refused, match="超过"):
        archive.unpack(path)


def test_a_small_long_name_still_reads(tmp_path: Path) -> None:
    """GNU and pax archives within the limits are read as before (names checked as any other)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in GOOD.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = {"comment": "x" * 300}
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "pax.tar.gz").write_bytes(buf.getvalue())
    assert archive.unpack(tmp_path / "pax.tar.gz") == GOOD


def test_apply_checked_names_every_path_and_leaves_the_repository_untouched(store: Path) -> None:
    """Issue 20, item 14: paths and content from git applying the series in a scratch index: a pure rename's old
    path, a deletion (None), new content; no object, ref or file of the store is written."""
    from tests.storefactory import git

    before = (git(store, "count-objects", "-v"), git(store, "for-each-ref"), git(store, "status", "--porcelain"))
    law, fact = "national/knowledge/laws/CN-K-0001.yaml", "national/knowledge/medical/CN-K-0002.yaml"
    new = "provincial/510000/knowledge/laws/510000-K-0001.yaml"
    rename = f"diff --git a/{law} b/{new}\nsimilarity index 100%\nrename from {law}\nrename to {new}\n".encode()
    delete = (store / fact).read_bytes()
    lines = b"".join(b"-" + line + b"\n" for line in delete.splitlines())
    removal = f"diff --git a/{fact} b/{fact}\ndeleted file mode 100644\n--- a/{fact}\n+++ /dev/null\n".encode()
    removal += f"@@ -1,{len(delete.splitlines())} +0,0 @@\n".encode() + lines
    added = (
        b"diff --git a/x/n.yaml b/x/n.yaml\nnew file mode 100644\n--- /dev/null\n+++ b/x/n.yaml\n@@ -0,0 +1 @@\n+a: 1\n"
    )
    applied = archive.apply_checked(store, "HEAD", [rename, removal + added])
    assert applied.paths == [[law, new], [fact, "x/n.yaml"]]
    assert applied.result == {law: None, new: (store / law).read_bytes(), fact: None, "x/n.yaml": b"a: 1\n"}
    assert (
        git(store, "count-objects", "-v"),
        git(store, "for-each-ref"),
        git(store, "status", "--porcelain"),
    ) == before
