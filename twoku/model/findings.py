"""Findings: what a check says about a file, with where and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告", INFO: "提示"}

Pointer = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One problem found in one file.

    ``pointer`` is the path inside the file's data (``("parameters", "days", "value")``);
    the line and column are filled in from it when the finding is reported.
    """

    code: str
    severity: str
    message: str
    path: str
    pointer: Pointer = ()
    item: str | None = None
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    waived: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def located(self, line: int | None, column: int | None) -> Finding:
        return replace(self, line=line, column=column)

    def waive(self, reason: str) -> Finding:
        return replace(self, waived=reason)

    @property
    def counts(self) -> bool:
        """Whether the finding counts against the run (a waived one does not)."""
        return self.waived is None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line or 0, self.column or 0, self.code)


@dataclass(frozen=True)
class Check:
    code: str
    name: str
    severity: str
    doc: str

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name
