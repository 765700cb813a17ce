"""Build small real stores (files + a real git repository) for the tests."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from twoku.model.digest import content_digest

CONFIG = """\
schema_version: 2
name: 测试库
region: CN
regions:
  "510000": 四川省（测试）
  "510100": 成都市（测试）
"""

LAW = """\
id: CN-K-0001
category: 法律法规
title: 医疗保障基金使用监督管理条例
issuer: 国务院
doc_number: 国务院令第735号
effective: 2021-05-01
status: 生效
articles:
  - ref: 第十五条
    gist: 定点医药机构及其工作人员不得分解住院、挂床住院。
"""

DRUG_FACT = """\
id: CN-K-0002
category: 医药学知识
title: 阿帕他胺片说明书要点
status: 生效
facts:
  适用性别: 男
basis:
  - id: CN-K-0001
"""

RULE = """\
id: CN-R-0001
name: 分解住院
category: 行为主体监管类
framework_code: GZ10000204001000
definition: 参保人出院后短期内再次入院。
logic: 同一参保人出院后 readmission_days 天内在同一机构再次入院的，判为可疑。
parameters:
  readmission_days:
    value: 15
    unit: 天
    description: 再入院间隔
    localisable:
      min: 7
      max: 30
  same_diagnosis_only:
    value: true
    description: 是否只看同一诊断
uses: [支付审核, 稽核]
stages: [事后]
level: 可疑
violations:
  - 出院后 {{param:readmission_days}}内再次入院
basis:
  - id: CN-K-0001
    article: 第十五条
status: 已论证
effective: 2024-01-01
"""

OVERRIDE = """\
id: 510000-O-0001
target: CN-R-0001
base_digest: {digest}
parameters:
  readmission_days: 10
reason: 本省协议管理要求更严。
status: 生效
"""

BASE: dict[str, str] = {
    "twoku.yaml": CONFIG,
    "national/knowledge/laws/CN-K-0001.yaml": LAW,
    "national/knowledge/medical/CN-K-0002.yaml": DRUG_FACT,
    "national/rules/actor-supervision/CN-R-0001.yaml": RULE,
    "provincial/510000/overrides/510000-O-0001.yaml": OVERRIDE,
}
RULE_PATH = "national/rules/actor-supervision/CN-R-0001.yaml"


def load_text(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def digest_of(text: str) -> str:
    import json

    return content_digest(json.loads(json.dumps(load_text(text), default=str)))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "测试员")
    git(root, "config", "user.email", "test@example.org")
    git(root, "config", "commit.gpgsign", "false")


def commit_all(root: Path, message: str = "测试提交") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


class Symlink(str):
    """A file to write as a symbolic link to this target (git keeps it with mode 120000)."""


def write_files(root: Path, files: Mapping[str, str | bytes | None]) -> None:
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Symlink):
            path.unlink(missing_ok=True)
            path.symlink_to(str(content))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_store(root: Path, files: Mapping[str, str | bytes | None] | None = None, commit: bool = True) -> Path:
    """A small valid store: a law, a clinical fact, a rule and a provincial override."""
    root.mkdir(parents=True, exist_ok=True)
    base = dict(BASE)
    base["provincial/510000/overrides/510000-O-0001.yaml"] = OVERRIDE.format(digest=digest_of(RULE))
    write_files(root, base)
    if files:
        texts = {
            k: (v.replace("{rule_digest}", digest_of(RULE)) if isinstance(v, str) and not isinstance(v, Symlink) else v)
            for k, v in files.items()
        }
        write_files(root, texts)
        for rel, text in texts.items():  # '{digest_of:PATH}' → the digest of that file as written
            if isinstance(text, str) and "{digest_of:" in text:
                text = re.sub(
                    r"\{digest_of:([^}]+)\}", lambda m: digest_of((root / m[1]).read_text(encoding="utf-8")), text
                )
                write_files(root, {rel: text})
    if commit:
        init_repo(root)
        commit_all(root, "初始化测试库")
    return root
