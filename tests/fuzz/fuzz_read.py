"""Coverage-guided fuzzing (atheris) of the YAML-to-findings path.

Run directly for a long session:  python tests/fuzz/fuzz_read.py -max_total_time=600
The test suite runs it for a few seconds (tests/fuzz/test_fuzz.py).  Any exception
other than the reader's own YamlProblem is a bug: twoku must answer every input with
findings, never a traceback.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from twoku.checks.schema import schema_findings
    from twoku.store import yamlio
    from twoku.store.schemas import validator

KINDS = ("knowledge", "rule", "override", "argumentation", "adjustment", "config")


def one_input(data: bytes) -> None:
    if not data:
        return
    kind = KINDS[data[0] % len(KINDS)]
    try:
        parsed, _ = yamlio.load(data[1:])
    except yamlio.YamlProblem:
        return
    list(schema_findings(kind, "fuzz.yaml", yamlio.to_json(parsed), validator(kind)))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
