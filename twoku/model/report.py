"""The result of validating a store: plain data for the renderers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from twoku.model.findings import ERROR, WARNING, Check, Finding


@dataclass
class Report:
    """What validate found, and what it looked at."""

    root: Path
    findings: list[Finding]
    checked: int
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # layer → kind → n
    region: str | None = None
    cached: int = 0
    checks: dict[str, Check] = field(default_factory=dict)  # code → what it means
    names: dict[str, str] = field(default_factory=dict)  # region code → its name in the store's twoku.yaml

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity and f.counts]

    @property
    def errors(self) -> int:
        return len(self.of(ERROR))

    @property
    def warnings(self) -> int:
        return len(self.of(WARNING))

    @property
    def waived(self) -> int:
        return sum(1 for f in self.findings if not f.counts)

    def failed(self, strict: bool = False) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)
