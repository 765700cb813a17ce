"""click's and typer's own words in Chinese: help headings, usage errors, prompts, completion options.

Two routes, because typer either uses click (whose messages go through ``gettext``) or, from typer 0.2x,
a copy of it under ``typer._click`` whose messages are plain English strings:

* every module that binds gettext's ``_``/``ngettext`` gets twoku's: a table from the English message to
  the Chinese one (a catalogue would only be used where the locale asks for Chinese, and bureau machines
  often run with ``LANG=C``);
* what is finally said is translated too: each usage error's ``format_message`` (by patterns, so the
  values inside stay as given), the ``--help`` option's own help and the ``Usage:`` prefix.

Anything neither knows stays English: a new click or typer release degrades to English, never to an
error (tests/cli/test_zh.py says which messages must be Chinese).  typer's rich help reads its headings
from constants set when typer.rich_utils is imported (only for a command's help or an error, rich is
heavy): they are set as it loads.
"""

from __future__ import annotations

import functools
import importlib.machinery
import re
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

MESSAGES: dict[str, str] = {
    # help pages
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Positional arguments": "位置参数",
    "default: {default}": "缺省：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "(deprecated) ": "（已弃用）",
    "[default: {}]": "[缺省：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "Error": "错误",
    "Aborted.": "已中止。",
    "Aborted!": "已中止。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    # usage errors
    "Error: {message}": "错误：{message}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option: {name}": "没有选项 {name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Did you mean {possibility}?": "您是不是要用 {possibility}？",
    "(Possible options: {possibilities})": "（可能的选项：{possibilities}）",
    "(Did you mean one of: {possibilities}?)": "（您是不是要用其中之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个取值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个取值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带取值。",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "{missing}{param_hint}.{msg}": "{missing}{param_hint}。{msg}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是是/否取值，可用：{states}",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选的取值，可选：{choices}。",
    "{value!r} is not {choice}.": "{value!r} 不是可选的取值，应为 {choice}。",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合以下任一格式：{formats}。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为目录。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "File": "文件",
    "Directory": "目录",
    "Path": "路径",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个取值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个取值，给了 {len} 个。",
    # prompts
    "Error: invalid input": "错误：输入无效",
    "Error: The value you entered was invalid.": "错误：输入的取值无效。",
    "Error: {e.message}": "错误：{e.message}",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Repeat for confirmation": "再输入一次以确认",
    "Do you want to continue?": "是否继续？",
    "Press any key to continue...": "按任意键继续……",
    # shell completion (typer's options)
    "Install completion for the current shell.": "为当前 shell 安装命令补全。",
    "Show completion for the current shell, to copy it or customize the installation.":
        "显示当前 shell 的命令补全脚本，供复制或自行安装。",
    "Install completion for the specified shell.": "为指定的 shell 安装命令补全。",
    "Show completion for the specified shell, to copy it or customize the installation.":
        "显示指定 shell 的命令补全脚本，供复制或自行安装。",
}  # fmt: skip

# typer.rich_utils: its constants, as named there, from the English they hold.
_RICH_CONSTANTS = (
    "DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING", "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE", "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP",
)  # fmt: skip
_MODULES = (
    "click.core", "click.exceptions", "click.types", "click.parser", "click.termui", "click.decorators",
    "click.formatting", "click.utils", "typer.core",
)  # fmt: skip


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


# What a usage error finally says (typer's copy of click does not use gettext): pattern → Chinese.
_SAID: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = ()


def _rules() -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]:
    kinds = {"argument": "参数", "option": "选项", "parameter": "参数"}
    states = {"does not exist": "不存在。", "is a file": "是文件，应为目录。", "is a directory": "是目录，应为文件。",
              "is not readable": "不可读。", "is not writable": "不可写。"}  # fmt: skip
    labels = {"File": "文件", "Path": "路径", "Directory": "目录", "file": "文件", "path": "路径", "directory": "目录"}
    table: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (r"Missing (argument|option|parameter)(?: (.+?))?\.(?: (.*))?", lambda m: f"缺少{kinds[m[1]]}"
         + (f" {m[2]}" if m[2] else "") + "。" + (said(m[3]) if m[3] else "")),
        (r"Missing parameter: (.+)", lambda m: f"缺少参数：{m[1]}"),
        (r"Missing command\.", lambda m: "缺少命令。"),
        (r"No such option:? (.+?)(?:\.)?(?: ?\(Possible options: (.+)\))?", lambda m: f"没有选项 {m[1]}"
         + (f"（可能的选项：{m[2]}）" if m[2] else "")),
        (r"No such command (.+?)\.(?: Did you mean (.+)\?)?", lambda m: f"没有命令 {m[1]}"
         + (f"，您是不是要用 {m[2]}？" if m[2] else "。")),
        (r"(.+?)\. Did you mean (.+)\?", lambda m: f"{said(m[1] + '.')}您是不是要用 {m[2]}？"),
        (r"Value error, (.*)", lambda m: said(m[1])),
        (r"Invalid value for (.+?): (.*)", lambda m: f"{m[1]} 的取值无效：{said(m[2])}"),
        (r"Invalid value: (.*)", lambda m: f"取值无效：{said(m[1])}"),
        (r"Got unexpected extra arguments? ?(?:\(s\))? \((.*)\)", lambda m: f"多出了参数（{m[1]}）"),
        (r"Option (.+?) requires an argument\.", lambda m: f"选项 {m[1]} 需要一个取值。"),
        (r"Option (.+?) requires (\d+) arguments\.", lambda m: f"选项 {m[1]} 需要 {m[2]} 个取值。"),
        (r"Option (.+?) does not take a value\.", lambda m: f"选项 {m[1]} 不带取值。"),
        (r"Input should be a valid integer.*", lambda m: "应为整数。"),
        (r"Input should be a valid (?:number|float).*", lambda m: "应为数字。"),
        (r"Input should be a valid boolean.*", lambda m: "应为是/否（true/false）。"),
        (r"(?:Value )?(.+?) is not a valid (?:integer|int)\.", lambda m: f"{m[1]} 不是有效的整数。"),
        (r"(?:Value )?(.+?) is not a valid (?:float|number)\.", lambda m: f"{m[1]} 不是有效的数字。"),
        (r"(?:Value )?(.+?) is not a valid boolean.*", lambda m: f"{m[1]} 不是是/否取值（true/false）。"),
        (r"(.+?) is not one of (.+)\.", lambda m: f"{m[1]} 不是可选的取值，可选：{m[2]}。"),
        (r"(.+?) is not in the range (.+)\.", lambda m: f"{m[1]} 不在 {m[2]} 范围内。"),
        (r"(File|Path|Directory|file|path|directory) (.+) (does not exist|is a file|is a directory|is not readable"
         r"|is not writable)\.", lambda m: f"{labels[m[1]]} {m[2]} {states[m[3]]}"),
        (r"(.+?) is not (.+)\.", lambda m: f"{m[1]} 不是可选的取值，应为 {m[2]}。"),  # last: the most general
    ]  # fmt: skip
    return tuple((re.compile(pattern, re.DOTALL), say) for pattern, say in table)


def said(message: str) -> str:
    """A click or typer message in Chinese where a pattern knows it; else as it was."""
    global _SAID
    if not _SAID:
        _SAID = _rules()
    text = message.strip()
    for pattern, say in _SAID:
        match = pattern.fullmatch(text)
        if match:
            return say(match)
    return MESSAGES.get(text, message)


def install() -> None:
    """Put twoku's words into click's and typer's modules (once; twoku is their only user in the process)."""
    _said_by_click()
    for name in _MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    _completion_options()
    if "typer.rich_utils" in sys.modules:
        _rich_constants(sys.modules["typer.rich_utils"])
    elif not any(isinstance(f, _RichUtilsLoaded) for f in sys.meta_path):
        sys.meta_path.insert(0, _RichUtilsLoaded())


def _said_by_click() -> None:
    """What the click typer uses finally says: usage errors, the help option's help, the ``Usage:`` prefix."""
    import typer.core

    click: Any = getattr(typer.core, "_click", None)
    if click is None or getattr(click, "__twoku__", False):
        return
    import importlib

    exceptions = importlib.import_module(click.__name__ + ".exceptions")
    done: set[type] = set()
    for value in list(vars(exceptions).values()):
        if isinstance(value, type) and issubclass(value, exceptions.ClickException):
            for cls in value.__mro__:  # the base defining format_message may live elsewhere (typer.exceptions)
                if cls not in done and "format_message" in vars(cls):
                    setattr(cls, "format_message", _translated(vars(cls)["format_message"]))  # noqa: B010
                done.add(cls)
    formatting = importlib.import_module(click.__name__ + ".formatting")
    write_usage = formatting.HelpFormatter.write_usage

    @functools.wraps(write_usage)
    def usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = usage
    core = importlib.import_module(click.__name__ + ".core")
    get_help_option = core.Command.get_help_option

    @functools.wraps(get_help_option)
    def help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None and isinstance(option.help, str):
            option.help = gettext(option.help)
        return option

    core.Command.get_help_option = help_option
    click.__twoku__ = True


def _translated(format_message: Callable[[Any], str]) -> Callable[[Any], str]:
    @functools.wraps(format_message)
    def chinese(self: Any) -> str:
        return said(format_message(self))

    return chinese


def _rich_constants(module: ModuleType) -> None:
    for name in _RICH_CONSTANTS:
        value = getattr(module, name, None)
        if isinstance(value, str):
            setattr(module, name, gettext(value))


def _completion_options() -> None:
    import typer.main

    made = typer.main.get_install_completion_arguments
    if getattr(made, "__twoku__", False):
        return

    def translated() -> Any:
        params = made()
        for param in params:
            text = getattr(param, "help", None)
            if isinstance(text, str):
                setattr(param, "help", gettext(text))  # noqa: B010
        return params

    translated.__twoku__ = True  # type: ignore[attr-defined]
    typer.main.get_install_completion_arguments = translated


class _RichUtilsLoaded:  # a meta path finder (importlib.abc would import importlib.resources: 11 ms)
    """Sets typer.rich_utils' headings in Chinese as that module is imported (rich is heavy: not before)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "typer.rich_utils":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _rich_constants(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
