"""The public library of one region: scoping it to the region changes nothing a publication shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from twoku.model.publication import public_library, public_rules
from twoku.model.regions import Layer
from twoku.ops.validate import load_store


def test_a_region_scoped_public_library_shows_the_same_rules(shipped: Path) -> None:
    lib = load_store(shipped).library
    names = lib.region_names()
    on = dt.date(2026, 6, 1)
    for audience in ("society", "institutions"):
        unscoped = public_library(lib, audience, on)
        for code in ("510100", "510000", "CN"):
            region = Layer(code)
            whole = public_rules(unscoped, region, names)
            scoped = public_library(lib, audience, on, region)
            assert public_rules(scoped, region, names) == whole, (audience, code)
            assert whole  # the shipped store publishes rules in every region
            assert len(scoped.items) < len(unscoped.items) or code == "CN"
