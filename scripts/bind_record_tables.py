"""Bind each rule subject of the store's argumentation records to the tables it is judged against, as now.

A one-off for records written before a sign-off recorded its tables (`subjects[].tables`): run it only where the
records are known to have covered the tables as they are (the reference store's illustrative records), then
review and commit.  Usage: python scripts/bind_record_tables.py [STORE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twoku.model.library import tables_used
from twoku.ops.validate import load_store
from twoku.store.documents.edit import update_values


def main(root: Path) -> None:
    lib = load_store(root, use_cache=False).library
    for record in lib.of_kind("argumentation"):
        changes = {}
        for n, subject in enumerate(record.data.get("subjects") or []):
            item = lib.get(subject.get("id"))
            if item is None or subject.get("tables") or item.digest != subject.get("digest"):
                continue  # gone, already bound, or stale: not known to have covered today's tables
            used = tables_used(lib, item)
            if used:
                changes[("subjects", n, "tables")] = [{"id": k, "digest": d} for k, d in used.items()]
        if changes:
            update_values(root / record.path, changes)
            print(record.path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve())
