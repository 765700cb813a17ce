"""The JSON Schemas shipped with twoku, and validators built once per kind."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError
from twoku.model.schemas import FILES


@cache
def schema_dir() -> Path:
    """``twoku/schema`` inside an installed wheel, else ``schema/`` of the source tree."""
    package = Path(__file__).resolve().parents[2]
    for candidate in (package / "schema", package.parent / "schema"):
        if (candidate / FILES["rule"]).is_file():
            return candidate
    raise TwokuError("找不到 twoku 自带的 JSON Schema 文件", hint="重新安装 twoku：pip install --force-reinstall twoku")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    path = schema_dir() / FILES[kind]
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@cache
def validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
