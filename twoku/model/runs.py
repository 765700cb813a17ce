"""The results of running rules: hits per rule over claim lines, and rule examples passed or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twoku.model.regions import Layer


@dataclass(frozen=True)
class RuleHits:
    rule_id: str
    name: str
    level: str
    hits: int
    parameters: dict[str, Any]


@dataclass(frozen=True)
class RunResult:
    region: Layer
    claims: Path | str  # a local file, or (Spark) a folder or a URI the cluster reads
    lines: int
    rules: list[RuleHits]
    out: Path | None
    seconds: float
    sample: list[dict[str, Any]]  # the first hits, for the terminal
    encoding: str = "utf-8"  # the claim file's, as read (a GBK file is transcoded)
    ignored_columns: tuple[str, ...] = ()  # the file's columns that name no claim field
    indicators: list[IndicatorResult] = field(default_factory=list)  # 统计指标: their own output
    indicators_out: Path | None = None  # where every institution-period was written (beside ``out``)
    engine: str = "duckdb"  # or spark (twoku run --engine)

    @property
    def hits(self) -> int:
        return sum(r.hits for r in self.rules)


@dataclass(frozen=True)
class LocalValue:
    """A parameter a region set to another value than the rule's own layer wrote."""

    name: str
    rule_value: str  # in words, with the unit: 14天
    local_value: str  # 21天
    layer_name: str  # the layer that set the local value
    source: str  # the override that set it


@dataclass(frozen=True)
class ExampleOutcome:
    rule_id: str
    name: str
    expected: tuple[str, ...]
    got: tuple[str, ...]
    error: str | None = None
    # Under ``twoku test --region``: the example holds with the rule's own values and not with these
    # local ones: it was written for the upper value, which the region changed (not a failure).
    depends_on: tuple[LocalValue, ...] = ()

    @property
    def passed(self) -> bool:
        return self.error is None and set(self.expected) == set(self.got)

    @property
    def failed(self) -> bool:
        """Wrong whatever the values: the rule or the example needs fixing."""
        return not self.passed and not self.depends_on

    @property
    def missed(self) -> list[str]:
        """Lines that should have hit and did not."""
        return sorted(set(self.expected) - set(self.got))

    @property
    def unexpected(self) -> list[str]:
        """Lines that hit and should not have."""
        return sorted(set(self.got) - set(self.expected))


@dataclass(frozen=True)
class RuleTestReport:
    outcomes: list[ExampleOutcome]
    untested: list[str]  # rules with a condition and no examples
    seconds: float
    region: str | None = None  # tested with this region's effective parameters
    region_name: str | None = None

    @property
    def failed(self) -> list[ExampleOutcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def localised(self) -> list[ExampleOutcome]:
        """Examples that the region's own values make untrue: written for the upper value."""
        return [o for o in self.outcomes if not o.passed and o.depends_on]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class RuleMetrics:
    rule_id: str
    name: str
    region: str
    hits: int
    per_10000: float | None
    confirmed: int
    rejected: int
    pending: int
    unreviewed: int  # hits with no feedback at all
    appealed: int
    appeals_upheld: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        return round(self.confirmed / self.decided, 4) if self.decided else None


@dataclass(frozen=True)
class Evaluation:
    lines: int | None
    rules: list[RuleMetrics]
    never_fired: list[str]
    misfiring: list[str]
    unmatched_feedback: int  # feedback rows naming no hit
    misfire_below: float
    min_decided: int
    indicators: list[IndicatorMetrics] = field(default_factory=list)  # from --indicators
    indicator_rules: list[str] = field(default_factory=list)  # the region's indicators: no line hits to evaluate


@dataclass(frozen=True)
class IndicatorMetrics:
    """An indicator over one run: institution-periods computed and flagged, and how the flags were decided."""

    rule_id: str
    name: str
    groups: int
    flagged: int
    confirmed: int
    rejected: int

    @property
    def flag_rate(self) -> float | None:
        return round(self.flagged / self.groups, 4) if self.groups else None

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.rejected
        return round(self.confirmed / decided, 4) if decided else None


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator (统计指标监测类) computed by ``twoku run``: institution-periods computed and flagged."""

    rule_id: str
    name: str
    groups: int
    flagged: int
    parameters: dict[str, Any]
    sample: list[dict[str, Any]]  # the first flagged institution-periods, for the terminal


@dataclass(frozen=True)
class Flag:
    """An institution-period an indicator flags (an example's expectation, or what it got)."""

    institution: str
    period: str
    group: str = ""

    def __str__(self) -> str:
        return f"{self.institution} {self.period}" + (f" {self.group}" if self.group else "")
