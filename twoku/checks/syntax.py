"""TK1xx: files that cannot be read as YAML.

The reader (``store/yamlio.py``) raises these; they are declared here so that every
code has a name, a docstring and a test.
"""

from __future__ import annotations

from twoku.checks.registry import declare
from twoku.model.findings import WARNING

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
