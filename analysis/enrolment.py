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

from analysis.limits import check_input_file
from analysis.mobility.readers import MobilityFormatError, _sniff_delimiter, _sniff_encoding
from analysis.mobility.tables import academic_year_of, normalise_text
from analysis.numbers import decimal_convention, number_problem, parse_number
from analysis.schema import Enrolment, Quarantine
from analysis.schools import school_resolver

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
    check_input_file(path)  # a giant line or header: refused before parsing
    encoding = _sniff_encoding(path)
    text = path.read_text(encoding=encoding)
    lines = text.splitlines()
    if not lines:
        raise MobilityFormatError(path.name, 1, None, "empty enrolment file")
    delimiter = _sniff_delimiter(lines[0])
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [normalise_text(h.lstrip("\ufeff")).replace(" ", "_") for h in rows[0]]
    for col in _COLUMNS:
        if col not in header:
            raise MobilityFormatError(path.name, 1, col, "missing column in the enrolment header")
    idx = {c: header.index(c) for c in _COLUMNS}
    sl = school_resolver(schools)
    at = idx["enrolled"]
    convention = decimal_convention((r[at] for r in rows[1:] if len(r) > at), delimiter)
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

        sid = sl.resolve(cell["school"])
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
        count = parse_number(cell["enrolled"], convention)
        reason, detail = number_problem(cell["enrolled"], convention)
        if count is None and reason == "ambiguous_number":
            bad("enrolled", reason, detail)
            continue
        if count is None or count < 0 or not count.is_integer():
            bad("enrolled", "bad_count", "expected a whole number >= 0")
            continue
        kept.append(
            {
                Enrolment.SCHOOL: sid,
                Enrolment.ACADEMIC_YEAR: year,
                Enrolment.GENDER: gender,
                Enrolment.ENROLLED: int(count),
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
