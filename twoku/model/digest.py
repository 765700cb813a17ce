"""The content digest: one fingerprint of an item's normative content.

``sha256:`` + the hex SHA-256 of the canonical JSON of the item's normative fields:

* every top-level field except those of :data:`NON_NORMATIVE` (identity, lifecycle,
  internal notes, the override's own binding);
* keys sorted, no whitespace (``separators=(",", ":")``), UTF-8, non-ASCII kept as is;
* strings in Unicode NFC; dates as ISO 8601 strings (``2024-01-01``);
* lists kept in order, except the set-valued fields of :data:`SET_FIELDS`, sorted;
* integers stay integers: ``14`` and ``14.0`` are different thresholds;
* a rule's or override's uses of 第十九条 (``uses``) are digested under the key ``scenarios`` and its
  就医场景 (``scenarios``) under ``care_settings`` (:data:`DIGEST_NAMES`); a file written for schema 1,
  whose ``scenarios`` held the uses (model/versions.py), is read as what it means first.

Comments, quoting, indentation and key order never change the digest; changing a
threshold, a scenario or a cited article always does.  Diff, argumentation
staleness, override drift and report manifests all use this one function, and
another tool can recompute it from this description alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from twoku.model.versions import upgraded

# ``examples`` are a rule's tests (synthetic claim lines run by ``twoku test``), not what it
# decides: adding one needs no new argumentation.  Its ``condition`` is normative.
NON_NORMATIVE: frozenset[str] = frozenset(
    {"id", "status", "effective", "expires", "deprecated", "superseded_by", "notes", "base_digest", "examples"}
)
# Lists whose order means nothing: compared, digested and diffed as sets (by their keys in the file).
SET_FIELDS: frozenset[str] = frozenset({"uses", "scenarios", "stages", "focus", "insurance_types", "supervised"})
# Schema 2 renamed a rule's uses of 第十九条 from ``scenarios`` to ``uses`` and gave ``scenarios`` a new
# meaning, 就医场景 (issue 18).  Digested under the names they had in schema 1, the uses keep the digest
# they had: ``twoku migrate`` renames a key and changes no digest, so no sign-off goes stale and no
# override drifts for a change of shape alone, in this store or in the stores below it that bound to it.
DIGEST_NAMES: dict[str, str] = {"uses": "scenarios", "scenarios": "care_settings"}


_nfc = unicodedata.normalize


def canonical(value: Any) -> Any:
    """A JSON-ready copy of ``value``: NFC strings, ISO dates, sets sorted."""
    kind = type(value)  # the plain types of parsed data first, by identity: the same answers, sooner
    if kind is str:
        return _nfc("NFC", value)
    if kind is dict:
        return {(_nfc("NFC", k) if type(k) is str else canonical(str(k))): canonical(v) for k, v in value.items()}
    if kind is list:
        return [canonical(v) for v in value]
    if kind is int or kind is bool or value is None:
        return value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {canonical(str(k)): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return unicodedata.normalize("NFC", str(value))


def normative(item: Mapping[str, Any]) -> dict[str, Any]:
    """The normative part of an item, canonicalised, its keys as the digest names them."""
    renamed = "uses" in item or "scenarios" in item
    if renamed:
        item = upgraded(item)
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key in NON_NORMATIVE:
            continue
        value = canonical(value)
        if key in SET_FIELDS and isinstance(value, list):
            value = sorted(value, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
        out[DIGEST_NAMES.get(key, key) if renamed else key] = value
    return out


def content_digest(item: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of the item's normative fields."""
    text = json.dumps(normative(item), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
