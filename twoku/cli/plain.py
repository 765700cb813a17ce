"""``twoku validate`` without typer, where its arguments are plain.

typer checks each option with a pydantic adapter (importing pydantic), and importing typer and every
command took 45 ms of an unchanged store's validate.  main() hands plain arguments (paths, --region X,
--format X, --strict, --no-cache, each at most once) to run_directly(); anything else goes to typer,
whose command (cli/validate.py) runs the same report().
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

from twoku.cli.console import emit, outcome, stdout


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def report(paths: list[Path], region: str | None, fmt: ReportFormat, strict: bool, no_cache: bool) -> int:
    """Validate the store of the working directory and print the report; the exit code."""
    from twoku.cli.progress import shown
    from twoku.ops.validate import validate as run
    from twoku.render import validate as render
    from twoku.store.files import find_root

    root = find_root()
    with shown():  # a cold validate of a big store takes seconds: a bar on a terminal's stderr
        found = run(root, paths, region, use_cache=not no_cache)
    if fmt is ReportFormat.json:
        emit(render.to_json(found))
    elif fmt is ReportFormat.sarif:
        emit(render.to_sarif(found))
    else:
        render.to_text(found, stdout(), found.names, strict)
    return 1 if found.failed(strict) else 0


def run_directly(args: list[str]) -> None:
    """Run ``twoku validate`` with these arguments and exit, when they are only the plain forms; else return
    and let typer parse them."""
    flags = {"--strict": "strict", "--no-cache": "no_cache"}
    valued = {"--region": "region", "-r": "region", "--format": "fmt", "-f": "fmt"}
    given: dict[str, str] = {}
    paths: list[Path] = []
    rest = iter(args)
    for token in rest:
        if token in flags:
            name, value = flags[token], ""
        elif token in valued:
            name, next_word = valued[token], next(rest, None)
            if next_word is None or next_word.startswith("-"):
                return
            value = next_word
        elif token and not token.startswith("-"):
            paths.append(Path(token))
            continue
        else:  # --help, --region=…, "--", an unknown option or an empty word: typer's to answer
            return
        if name in given:
            return
        given[name] = value
    fmt = given.pop("fmt", ReportFormat.text.value)
    if fmt not in {f.value for f in ReportFormat}:
        return
    region = given.get("region")
    strict, no_cache = "strict" in given, "no_cache" in given
    sys.exit(outcome(lambda: report(paths, region, ReportFormat(fmt), strict, no_cache)))
