"""Coverage-guided fuzzing (atheris) of the YAML-to-findings path.

Run directly for a long session:  python tests/fuzz/fuzz_read.py -max_total_time=600
The test suite runs it for a few seconds (tests/fuzz/test_fuzz.py).  Any exception
other than the reader's own YamlProblem is a bug: twoku must answer every input with
findings, never a traceback.  So is a text the quick reader (store/documents/quickyaml.py) reads
otherwise than the full loader, or reads where the full loader refuses it.
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports():
    from twoku.checks.schema import schema_findings
    from twoku.store.documents import quickyaml, yamlio
    from twoku.store.schema.schemas import validator

KINDS = ("knowledge", "rule", "override", "argumentation", "adjustment", "config")


def one_input(data: bytes) -> None:
    if not data:
        return
    kind = KINDS[data[0] % len(KINDS)]
    try:
        text = yamlio.decode(data[1:])[0]
    except yamlio.YamlProblem:
        text = None
    quick = quickyaml.read(text) if text is not None else quickyaml.DECLINE
    try:
        parsed, _ = yamlio.load(data[1:])
    except yamlio.YamlProblem:
        if quick is not quickyaml.DECLINE:
            raise AssertionError(f"the quick reader read what the full loader refuses: {text!r}") from None
        return
    parsed = yamlio.to_json(parsed)
    if quick is not quickyaml.DECLINE and json.dumps(quick) != json.dumps(parsed):
        raise AssertionError(f"the quick reader read {text!r} otherwise: {quick!r} ≠ {parsed!r}")
    list(schema_findings(kind, "fuzz.yaml", parsed, validator(kind)))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
