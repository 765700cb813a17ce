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
    prose,
    references,
    schema,
    syntax,
    tables,
    waivers,
)
from twoku.checks.registry import CHECKS, EVERY_ITEM_CHECKS, ITEM_CHECKS, STORE_CHECKS
from twoku.model.findings import Check, Finding
from twoku.model.library import Item, Library

__all__ = ["CHECKS", "Check", "run_cross_checks", "run_item_checks", "run_store_checks", "schema", "waivers"]
_MODULES = (adjustments, execution, identity, layering, lifecycle, personal, prose, references, syntax, tables)


def run_item_checks(item: Item, every: bool = False) -> list[Finding]:
    """The checks that look at one item alone (cacheable with the file's blob): those for the item
    the library holds by its ID, or (``every``) those for every item with an ID, duplicates too."""
    return [found for check in (EVERY_ITEM_CHECKS if every else ITEM_CHECKS) for found in check(item)]


def run_cross_checks(lib: Library) -> list[Finding]:
    """The checks that relate items to each other, over the whole library."""
    return [found for check in STORE_CHECKS for found in check(lib)]


def run_store_checks(lib: Library) -> list[Finding]:
    """Every check over the whole library, all findings collected."""
    held = [*lib.items.values(), *(i for group in lib.duplicates.values() for i in group[1:])]
    return (
        run_cross_checks(lib)
        + [found for item in lib.items.values() for found in run_item_checks(item)]
        + [found for item in held for found in run_item_checks(item, every=True)]
    )
