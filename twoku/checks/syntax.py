"""TK1xx: files that cannot be read as YAML, or text no output can show as it is.

The reader (``store/documents/yamlio.py``) raises most of these; they are declared here so that every
code has a name, a docstring and a test.  TK110 is found here, on the parsed data of every file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from twoku.checks.registry import declare, finding, walk
from twoku.model.controls import controls_in
from twoku.model.findings import WARNING, Finding

declare(
    "TK101",
    "yaml-syntax",
    """YAML 语法错误，或无法解析的取值（如不存在的日期）。

    坏：``name: [阿帕他胺片`` （括号不成对）
    好：``name: 阿帕他胺片``
""",
)
declare(
    "TK102",
    "duplicate-key",
    """同一映射中出现重复的键：后一个值会悄悄覆盖前一个。

    坏：两行 ``level:``
    好：只保留一行 ``level: 明确违规``
""",
)
declare("TK103", "tab-indent", """用制表符（Tab）缩进；YAML 只允许空格缩进。""")
declare("TK104", "not-utf8", """文件不是 UTF-8 编码（如 GBK）；twoku 的文件一律 UTF-8。""")
declare("TK105", "bom", """文件以 UTF-8 BOM 开头；可以读取，但请去掉 BOM 以免其他工具出错。""", WARNING)
declare("TK106", "empty-file", """文件为空或只有注释。""")
declare("TK107", "limits", """超出安全上限：文件过大、嵌套过深，或使用了锚点与别名（可被用作展开炸弹）。""")
declare("TK108", "conflict-marker", """文件中留有未解决的 git 合并冲突标记。""")
declare(
    "TK109",
    "not-regular-file",
    """库中的文件是符号链接、目录、管道或设备，而不是普通文件；twoku 不读取它。

    链接可以指向库外任何文件（如 /etc/passwd）：跟随它读取，会把库外的内容当作知识或规则，
    经 publish 公开、经 report-upstream 报送。两库只由普通文件组成（git 的模式 100644）。
    坏：``national/rules/x/CN-R-0009.yaml -> /etc/passwd``（git 的模式 120000）
    好：文件本身：``cp --remove-destination 目标 链接``，或删除该链接
""",
)
declare(
    "TK110",
    "control-character",
    """文本中含控制字符（ESC、换页符等，或改变文字显示顺序的双向控制符）：多由 YAML 转义（``\\e``、``\\f``、
    ``\\x9b``）或复制粘贴带入。它们会操纵终端（改颜色、隐藏链接、清屏），破坏按行处理的输出，Excel 工作簿也无法保存。
    换行和制表符不在此列。

    坏：``name: "分解住院\\e[8m"``
    好：``name: 分解住院``
""",
)

# What every control character in parsed data comes from: an escape in a double-quoted string that makes one
# (\0 \a \b \e \f \v \r \N \x.. \u.... \U........), or a raw bidirectional control (YAML takes those as
# printable; it refuses raw C0 and C1 controls with TK101, and folds a raw NEL).  Two searches from a literal
# byte, each far faster than one search for several: a cold validate makes them on every file.
_ESCAPE = re.compile(rb"\\[0abefvrNxuU]")
_BIDI = re.compile(rb"\xe2(?:\x80[\x8e\x8f\xaa-\xae]|\x81[\xa6-\xa9])")


def control_characters(path: str, raw: bytes, data: Any) -> list[Finding]:
    """TK110 for each string (value or key) of a file's data that holds a control character.  A scan of the
    raw bytes first: nearly every file has no such escape, and its data is not walked."""
    if _ESCAPE.search(raw) is None and _BIDI.search(raw) is None:
        return []
    out = []
    item = data.get("id") if isinstance(data, Mapping) and isinstance(data.get("id"), str) else None  # for a waiver
    for pointer, value in walk(data):
        texts = [((*pointer, k), k) for k in value if isinstance(k, str)] if isinstance(value, Mapping) else []
        if isinstance(value, str):
            texts.append((pointer, value))
        for where, text in texts:
            found = controls_in(text)
            if found:
                out.append(
                    finding(
                        "TK110",
                        f"文本中含控制字符 {'、'.join(found)}",
                        path,
                        where,
                        item,
                        "删除这些字符（换行、制表符除外，两库的文本不需要控制字符）；若来自 YAML 转义，去掉该转义",
                    )
                )
    return out
