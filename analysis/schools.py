"""The one school resolver: school id from an id, a name (current, former, legal, alias) or an
Erasmus code, used by every reader (survey exports, Erasmus+ releases, school sheets,
enrolment files).

Names are compared with :func:`school_key`: accents, case, punctuation, brackets, dashes of any
kind and spaces are ignored, so ``Mines Paris – PSL`` (en dash), ``Mines Paris - PSL``,
``Telecom Paris.``, ``Télécom Paris``, ``IMT (Nord Europe)``, ``Télécom ParisTech`` and
``Telecom Paris Tech`` each find their school.  Erasmus codes are compared with
:func:`erasmus_code_key` (all whitespace removed, NBSP and U+202F included, upper-cased).

The school table is ``analysis/tables/schools.csv`` (columns in ``analysis/tables/README.md``);
a smaller table works too: ``school_id`` (or ``id``) is required, names are read from
``entity`` and every column whose name contains ``name`` or ``alias`` (``|``-separated),
codes from ``erasmus_codes`` and validity from ``valid_from``/``valid_to`` when present.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: School ids accepted when no school table is given (docs/architecture.md).
KNOWN_SCHOOL_IDS = (
    "imt_atlantique",
    "imt_nord_europe",
    "imt_mines_albi",
    "imt_mines_ales",
    "mines_saint_etienne",
    "telecom_paris",
    "telecom_sudparis",
    "imt_bs",
    "eurecom",
    "mines_paris",
)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_WS = re.compile(r"\s+")
_YEAR = re.compile(r"^\s*(\d{4})")


def school_key(value: object) -> str:
    """Key for comparing school names: NFKD without accents, casefolded, and only letters and
    digits kept (spaces, dashes of every kind, dots, brackets, apostrophes, ``&`` removed)."""
    s = unicodedata.normalize("NFKD", str(value)).casefold()
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", s)


def erasmus_code_key(value: object) -> str:
    """Erasmus code with ALL whitespace removed (incl. NBSP, U+202F) and upper-cased."""
    s = str(value).replace("\u00a0", " ").replace("\u202f", " ")
    return _WS.sub("", s).upper()


@dataclass(frozen=True)
class SchoolResolver:
    """Resolves Erasmus codes and names to school ids (series continuous across mergers)."""

    by_code: dict[str, tuple[tuple[str, int | None, int | None], ...]]
    by_name: dict[str, str]
    status: dict[str, str]
    table_given: bool = True

    def resolve(self, value: object, year: int | None = None) -> str | None:
        """School id for an id, a name or alias, or else an Erasmus code; ``None`` if unknown."""
        sid = self.school_of_name(value)
        return sid if sid is not None else self.school_of_code(value, year)

    def school_of_code(self, code: object, year: int | None = None) -> str | None:
        """School id for an Erasmus code (whitespace-insensitive); the entity valid in ``year``
        wins when several share a code, else the first listed."""
        cands = self.by_code.get(erasmus_code_key(code))
        if not cands:
            return None
        if year is not None:
            for sid, lo, hi in cands:
                if (lo is None or year >= lo) and (hi is None or year <= hi):
                    return sid
        return cands[0][0]

    def school_of_name(self, name: object) -> str | None:
        """School id for a school id, a current, former or legal name or an alias."""
        key = school_key(name)
        return self.by_name.get(key) if key else None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.by_code)

    @property
    def school_ids(self) -> frozenset[str]:
        return frozenset(self.status)


def _year(value: object) -> int | None:
    m = _YEAR.match(str(value)) if value is not None else None
    return int(m.group(1)) if m else None


def school_resolver(schools: pd.DataFrame | None) -> SchoolResolver:
    """Build the resolver from the school table (``None``: the ids of docs/architecture.md).

    Raises ``ValueError`` (naming the row) when the table lacks ``school_id``/``id``, has an
    empty id, or when one name maps to two school ids.
    """
    if schools is None:
        ids = {school_key(s): s for s in KNOWN_SCHOOL_IDS}
        return SchoolResolver({}, ids, dict.fromkeys(KNOWN_SCHOOL_IDS, "school"), False)
    id_col = "school_id" if "school_id" in schools.columns else "id"
    if id_col not in schools.columns:
        raise ValueError("schools table: missing column school_id (row 1, header)")
    name_cols = [
        c for c in schools.columns if c != id_col and (c == "entity" or "name" in c or "alias" in c)
    ]
    by_code: dict[str, list[tuple[str, int | None, int | None]]] = {}
    by_name: dict[str, str] = {}
    status: dict[str, str] = {}
    records: list[dict[str, Any]] = schools.to_dict("records")
    for i, r in enumerate(records, start=1):
        sid = str(r[id_col]).strip()
        if not sid or sid == "nan":
            raise ValueError(f"schools table: row {i}, column {id_col}: empty")
        if r.get("entity", sid) == sid or sid not in status:
            status[sid] = str(r.get("status", "school") or "school")
        lo, hi = _year(r.get("valid_from")), _year(r.get("valid_to"))
        for code in str(r.get("erasmus_codes", "") or "").split("|"):
            if code.strip():
                by_code.setdefault(erasmus_code_key(code), []).append((sid, lo, hi))
        names = [sid] + [
            part for c in name_cols if isinstance(r[c], str) for part in r[c].split("|")
        ]
        for n in names:
            key = school_key(n)
            if not key:
                continue
            prev = by_name.get(key)
            if prev is not None and prev != sid:
                raise ValueError(
                    f"schools table: row {i}: name {n!r} maps to both {prev} and {sid}"
                )
            by_name[key] = sid
    return SchoolResolver({k: tuple(v) for k, v in by_code.items()}, by_name, status, True)
