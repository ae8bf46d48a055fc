"""Reader for the enrolment file: ``school;academic_year;gender;enrolled``.

Schools write their own names (current or former: ``Mines Douai``, ``Télécom Lille``...) and
years in any usual form (``2019-20``).  Names resolve through the school table, so a former
school's head-count is added to its successor's series (``Mines Douai`` + ``Télécom Lille`` in
2016-17 = ``imt_nord_europe``).  Rows that cannot be used are quarantined with a reason.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.mobility.readers import MobilityFormatError, _sniff_delimiter, _sniff_encoding
from analysis.mobility.tables import academic_year_of, normalise_text, school_lookup
from analysis.schema import Enrolment, Quarantine

_COLUMNS = ("school", "academic_year", "gender", "enrolled")
_GENDER = {"f": "F", "female": "F", "femme": "F", "m": "M", "male": "M", "homme": "M", "h": "M"}


def read_enrolment(
    path: Path, schools: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Enrolled students per school id, academic year (start year) and gender (F/M).

    Returns ``(enrolment, quarantine, manifest)``; the manifest holds rows_read, rows_kept,
    quarantined (rows_read == rows_kept + quarantined) and ``unknown_schools`` (name -> rows).
    Rows for the same school id, year and gender (predecessor schools) are summed.
    """
    path = Path(path)
    encoding = _sniff_encoding(path)
    text = path.read_text(encoding=encoding)
    lines = text.splitlines()
    if not lines:
        raise MobilityFormatError(path.name, 1, None, "empty enrolment file")
    rows = list(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(lines[0])))
    header = [normalise_text(h.lstrip("\ufeff")).replace(" ", "_") for h in rows[0]]
    for col in _COLUMNS:
        if col not in header:
            raise MobilityFormatError(path.name, 1, col, "missing column in the enrolment header")
    idx = {c: header.index(c) for c in _COLUMNS}
    sl = school_lookup(schools)
    kept: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    unknown: Counter[str] = Counter()
    rows_read = 0
    for rownum, r in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in r):
            continue
        rows_read += 1
        if len(r) != len(header):
            raise MobilityFormatError(
                path.name, rownum, None, f"{len(r)} fields, the header has {len(header)}"
            )
        cell = {c: r[i].strip() for c, i in idx.items()}

        def bad(
            col: str, reason: str, detail: str, rownum: int = rownum, cell: dict = cell
        ) -> None:
            quarantine.append(
                {
                    Quarantine.SOURCE_FILE: path.name,
                    Quarantine.SOURCE_ROW: rownum,
                    Quarantine.COLUMN: col,
                    Quarantine.VALUE: cell[col][:40],
                    Quarantine.REASON: reason,
                    Quarantine.DETAIL: detail,
                }
            )

        sid = (
            cell["school"] if cell["school"] in sl.school_ids else sl.school_of_name(cell["school"])
        )
        if sid is None:
            unknown[cell["school"]] += 1
            bad("school", "unknown_school", "not in the school table")
            continue
        year = academic_year_of(cell["academic_year"])
        if year is None:
            bad("academic_year", "bad_year", "no academic year")
            continue
        gender = _GENDER.get(normalise_text(cell["gender"]))
        if gender is None:
            bad("gender", "bad_gender", "expected F or M")
            continue
        raw = cell["enrolled"].replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if not raw.isdigit():
            bad("enrolled", "bad_count", "expected a whole number >= 0")
            continue
        kept.append(
            {
                Enrolment.SCHOOL: sid,
                Enrolment.ACADEMIC_YEAR: year,
                Enrolment.GENDER: gender,
                Enrolment.ENROLLED: int(raw),
            }
        )
    if rows_read != len(kept) + len(quarantine):
        raise AssertionError(f"{path.name}: rows_read != kept + quarantined")
    cols = list(Enrolment.SCHEMA.required)
    enrol = (
        pd.DataFrame(kept, columns=cols)
        .groupby(cols[:3], as_index=False, sort=True)[Enrolment.ENROLLED]
        .sum()
    )
    q = pd.DataFrame(quarantine, columns=list(Quarantine.SCHEMA.required))
    manifest = {
        "file": path.name,
        "format": "enrolment",
        "rows_read": rows_read,
        "rows_kept": len(kept),
        "quarantined": len(quarantine),
        "unknown_schools": dict(unknown.most_common()),
    }
    return enrol, q, manifest
