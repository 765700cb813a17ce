"""Turning a template (model/templates) into YAML text, and writing new files and folders."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twoku.model.findings import Pointer
from twoku.model.templates import Template
from twoku.store.documents.edit import atomic_write, dump


def _commented(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, Mapping):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_commented(v) for v in value)
    return value


def to_yaml(template: Template) -> str:
    """The file's text: the schema line, the note, then the data with its comments."""
    doc = _commented(template.data)
    for pointer, comment in template.comments.items():
        node = doc
        for step in pointer[:-1]:
            node = node[step]
        node.yaml_add_eol_comment(comment, pointer[-1], column=_column(pointer, node[pointer[-1]]))
    return template.header + dump(doc)


def _column(pointer: Pointer, value: Any) -> int:
    """Two spaces after the value, as hand-written files have it (ruamel counts characters)."""
    indent = 2 * (len(pointer) - 1)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        text = ""  # a block collection: the comment follows the key
    return indent + len(str(pointer[-1])) + 1 + (len(text) + 1 if text else 0) + 2


def write_new(root: Path, template: Template) -> str:
    """Write the template's file; FileExistsError when something is already there."""
    text = to_yaml(template)
    atomic_write(root / template.path, text.encode("utf-8"), exclusive=True)
    return text
