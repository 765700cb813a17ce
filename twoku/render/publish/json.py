"""The public summary as JSON, for other systems: the data, sorted, UTF-8."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from twoku.model.publication import Publication

SCHEMA = "twoku-public-summary/1"


def to_data(pub: Publication) -> dict[str, Any]:
    data = dataclasses.asdict(pub)
    return {"format": SCHEMA, **data}


def render(pub: Publication) -> bytes:
    text = json.dumps(to_data(pub), ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")
