"""Validation: each check a small named unit with a stable code, yielding findings.

Nothing here reads files, prints or touches git: checks take parsed data and return
findings, so they run the same under the CLI, a test or another program.
"""

from __future__ import annotations

from twoku.checks import (
    adjustments,
    execution,
    identity,
    layering,
    lifecycle,
    personal,
    references,
    schema,
    syntax,
    waivers,
)
from twoku.checks.registry import CHECKS, STORE_CHECKS
from twoku.model.findings import Check, Finding
from twoku.model.library import Library

__all__ = ["CHECKS", "Check", "run_store_checks", "schema", "waivers"]
_MODULES = (adjustments, execution, identity, layering, lifecycle, personal, references, syntax)


def run_store_checks(lib: Library) -> list[Finding]:
    """Every cross-file check over the whole library, all findings collected."""
    return [found for check in STORE_CHECKS for found in check(lib)]
