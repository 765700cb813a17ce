"""``twoku compile --out DIR``: a bundle that runs as it is on the target engine.

The folder holds what the rules need and nothing else:

* ``rules.sql`` — every rule's hits as one query over ``claims`` (the dialect's SQL);
* ``tables/<ID>.parquet`` — each knowledge table the rules read, as the region has it, typed;
* ``register.sql`` — the statements that make those files the relations the SQL names (``kt_<ID>``);
* ``bundle.sql`` — register, then the query: ``duckdb < bundle.sql`` or ``spark-sql -f bundle.sql`` run in
  the folder, once ``claims`` is a table or view of the claim lines;
* ``manifest.json`` — region, rules, and each table's rows and content digest (what was argued);
* ``submit.py`` (Spark) — the driver ``spark-submit`` runs: claims and tables registered, hits to Parquet
  (engine/submit.py; it needs only Spark).

Trino reads Parquet through a catalog (Hive or Iceberg): its register statements name the catalog and
the folder's URI as ``${BUNDLE_URI}``, to be replaced where the folder is copied.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twoku import __version__
from twoku.engine.sql import RuleSpec, literal
from twoku.model.library import Library

if TYPE_CHECKING:
    from twoku.ops.run import Compiled

_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE"}


def register_sql(dialect: str, relation: str, file: str, columns: Sequence[tuple[str, str]]) -> str:
    """The statement that makes the Parquet ``file`` (relative to the bundle) the relation ``relation``."""
    if dialect == "spark":
        return f"CREATE OR REPLACE TEMPORARY VIEW {relation} USING parquet OPTIONS (path {literal(file)});"
    if dialect == "trino":
        cols = ", ".join(f"{name} {_TYPES.get(kind, 'VARCHAR')}" for name, kind in columns)
        where = literal("${BUNDLE_URI}/" + file.rsplit("/", 1)[0] + "/" + relation)
        options = f"WITH (external_location = {where}, format = 'PARQUET')"
        return f"CREATE TABLE IF NOT EXISTS hive.twoku.{relation} ({cols}) {options};"
    return f"CREATE OR REPLACE VIEW {relation} AS SELECT * FROM read_parquet({literal(file)});"


def write_bundle(root: Path, lib: Library, compiled: Compiled, specs: Sequence[RuleSpec], out: Path) -> None:
    """Write the bundle into a new folder beside ``out`` and rename it into place: never half a bundle."""
    from twoku.engine import duck
    from twoku.ops.run import load_tables, table_of

    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        (scratch / "tables").mkdir()
        con = duck.connect(1)
        load_tables(con, root, lib, specs, compiled.region)
        registers, tables = [], []
        for knowledge_id, ref in sorted(compiled.tables.items()):
            table = table_of(root, lib, knowledge_id)
            trino = compiled.dialect == "trino"
            file = f"tables/{ref.relation}/part-0.parquet" if trino else f"tables/{knowledge_id}.parquet"
            (scratch / file).parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY {ref.relation} TO {literal(str(scratch / file))} (FORMAT parquet)")
            columns = [(c.name, c.type) for c in table.spec.columns]
            registers.append(register_sql(compiled.dialect, ref.relation, file, columns))
            item = lib.get(knowledge_id)
            tables.append(
                {
                    "id": knowledge_id,
                    "relation": ref.relation,
                    "file": file,
                    "rows": len(table.rows),
                    "item_digest": item.digest if item is not None else None,
                }
            )
        register = "\n".join(registers) + ("\n" if registers else "")
        (scratch / "register.sql").write_text(register, encoding="utf-8")
        (scratch / "rules.sql").write_text(compiled.sql, encoding="utf-8")
        query = compiled.sql.rstrip().rstrip(";")
        (scratch / "bundle.sql").write_text(f"{register}CREATE TABLE hits AS\n{query};\n", encoding="utf-8")
        manifest = {
            "twoku": __version__,
            "dialect": compiled.dialect,
            "region": compiled.region.code,
            "rules": compiled.rules,
            "tables": tables,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (scratch / "manifest.json").write_text(text, encoding="utf-8")
        if compiled.dialect == "spark":
            from twoku.engine import submit

            shutil.copyfile(submit.__file__, scratch / "submit.py")
        if out.exists():
            out.rmdir()  # empty: checked before anything was written
        scratch.rename(out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
