"""Write the JSON Schemas of ``twoku/model/schemas.py`` to ``schema/``.

Run after changing a vocabulary or a schema:  python scripts/gen_schemas.py
The test suite fails while the files and the code disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twoku.model.schemas import FILES, all_schemas


def render(schema: dict[str, object]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "schema"
    out.mkdir(exist_ok=True)
    for kind, schema in all_schemas().items():
        (out / FILES[kind]).write_text(render(schema), encoding="utf-8")
        print(out / FILES[kind])


if __name__ == "__main__":
    main()
