"""Which school-years the mobility sources cover: missing is "no data", never zero.

An outgoing rate of 0 % says "nobody went abroad"; it may only be published for a school-year
that some mobility source actually reports on. The rule, per source (one input file):

* an **Erasmus+ release** (formats ``erasmus-ka1`` / ``erasmus-xlsx``) is the national list of
  every funded mobility: it covers **every school** for each academic year in which it holds
  at least one kept record (of any IMT school). A school with no record in such a year truly
  sent nobody with Erasmus+: its count is 0 and is data.
* a **school's own sheet** (``school-mobility``) covers **its school** for each academic year in
  which it holds at least one record.
* records without a ``source_format`` column (frames built in code) count as one Erasmus+-like
  source.

A school-year with enrolment that no source covers is "no data": no rate, no place in the trend
model or in sentences about the rate, and a data-quality alert naming the years. The group rate
of a year is published only when every school with enrolment that year is covered (else it
would be the rate of part of the group under the group's name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.schema import Enrolment, Mobility

SOURCE_FORMAT = "source_format"  # column added by the readers (analysis.mobility.readers)
NATIONAL_FORMATS = ("erasmus-ka1", "erasmus-xlsx")
NO_DATA = "no data"  # base prefix of a rate estimate published as missing (estimate None)


def source_years(records: pd.DataFrame) -> list[dict[str, object]]:
    """Per source file: its format, the school it is about (``None``: every school) and the
    academic years it holds records for."""
    if records.empty:
        return []
    years = records[Mobility.ACADEMIC_YEAR].astype(int)
    if SOURCE_FORMAT not in records.columns:
        return [{"file": None, "format": None, "school": None, "years": sorted(set(years))}]
    out = []
    keys = [records[Mobility.SOURCE_FILE].astype(str), records[SOURCE_FORMAT].astype(str)]
    for (file, fmt), idx in records.groupby(keys, sort=True).groups.items():
        sub = records.loc[idx]
        national = fmt in NATIONAL_FORMATS
        schools = sorted(sub[Mobility.SCHOOL].astype(str).unique())
        out.append(
            {
                "file": file,
                "format": fmt,
                "school": None if national else (schools[0] if len(schools) == 1 else None),
                "schools": None if national else schools,
                "years": sorted(set(years.loc[idx])),
            }
        )
    return out


def covered_cells(
    sources: Iterable[dict[str, object]], schools: Iterable[str]
) -> set[tuple[str, int]]:
    """(school, year) pairs some source covers; ``schools``: every school of the study."""
    everyone = sorted(set(schools))
    cells: set[tuple[str, int]] = set()
    for s in sources:
        who = everyone if s.get("schools") is None else list(s["schools"])  # type: ignore[arg-type]
        cells |= {(sc, int(y)) for sc in who for y in s["years"]}  # type: ignore[union-attr]
    return cells


def split_enrolment(
    records: pd.DataFrame, enrolment: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, list[str]]]:
    """The enrolment rows of covered school-years, those of years where every enrolled school
    is covered (the group rate's population), and the gaps ``{year: [schools]}``: school-years
    with enrolment > 0 that no mobility source covers."""
    schools = set(enrolment[Enrolment.SCHOOL].astype(str)) | set(
        records[Mobility.SCHOOL].astype(str)
    )
    covered = covered_cells(source_years(records), schools)
    key = list(
        zip(
            enrolment[Enrolment.SCHOOL].astype(str),
            enrolment[Enrolment.ACADEMIC_YEAR].astype(int),
            strict=True,
        )
    )
    ok = pd.Series([k in covered for k in key], index=enrolment.index, dtype=bool)
    positive = pd.to_numeric(enrolment[Enrolment.ENROLLED], errors="coerce").fillna(0) > 0
    gaps: dict[int, list[str]] = {}
    for (school, year), good, pos in zip(key, ok, positive, strict=True):
        if pos and not good:
            gaps.setdefault(year, [])
            if school not in gaps[year]:
                gaps[year].append(school)
    gaps = {y: sorted(v) for y, v in sorted(gaps.items())}
    years = enrolment[Enrolment.ACADEMIC_YEAR].astype(int)
    whole = ok & ~years.isin(list(gaps))
    return enrolment.loc[ok], enrolment.loc[whole], gaps


def _year_label(y: int) -> str:
    return f"{y}-{(y + 1) % 100:02d}"


def _years_text(years: Iterable[int]) -> str:
    ys = sorted(set(int(y) for y in years))
    if not ys:
        return "no year"
    if ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 2:
        return f"{_year_label(ys[0])} to {_year_label(ys[-1])}"
    return ", ".join(_year_label(y) for y in ys)


def no_data_alerts(
    tables: Sequence[Any], manifests: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Data-quality alerts for the school-years published as "no data" in the rate table
    (one per academic year), naming the years each mobility source covers."""
    rate = next((t for t in tables if getattr(t, "id", None) == "mobility.outgoing_rate"), None)
    if rate is None:
        return []
    gaps: dict[int, list[str]] = {}
    for e in rate.estimates:
        if e.estimate is None and (e.base or "").startswith(NO_DATA):
            d = e.domain_dict()
            gaps.setdefault(int(d["academic_year"]), []).append(str(d["school"]))
    covers = "; ".join(
        f"{m.get('file')}: {_years_text(m.get('academic_years') or [])}" for m in manifests
    )
    return [
        {
            "code": "no_mobility_data",
            "params": {"year": _year_label(y), "schools": ", ".join(sorted(s)), "covers": covers},
            "message": (
                f"No mobility data for {_year_label(y)} ({', '.join(sorted(s))}): enrolment only; "
                f"shown as no data, not 0, and left out of the trend model. Mobility sources "
                f"cover: {covers}"
            ),
            "count": len(s),
        }
        for y, s in sorted(gaps.items())
    ]
