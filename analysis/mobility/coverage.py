"""Which school-years the mobility sources cover: missing is "no data", never zero.

An outgoing rate of 0 % says "nobody went abroad"; it may only be published for a school-year
that some mobility source actually reports on. The rule, per source (one input file):

* an **Erasmus+ release** (formats ``erasmus-ka1`` / ``erasmus-xlsx``) is the national list of
  funded mobilities: it covers each school it holds at least one record of, for each academic
  year in which it holds at least one record (of any school). A school with records in other
  years of the release and none in this one truly sent nobody with Erasmus+: 0 is data.
  A school the release never mentions (an unknown code, a school outside the programme) is
  not covered: no data, never a series of zeros.
* a **school's own sheet** (``school-mobility``) covers **its school** for each academic year in
  which it holds at least one record.
* records without a ``source_format`` column (frames built in code) count as one Erasmus+-like
  source.

A school-year with enrolment that no source covers is "no data": no rate (the estimate is
published as ``None`` with a base starting "no data"), no place in the trend model, in
figures or in sentences about the rate, and a data-quality alert names the year, the schools
and the years each source covers. The group rate of a year is published only when every
school with enrolment that year is covered (else it would be the rate of part of the group
under the group's name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.mobility.readers import SOURCE_FORMAT  # the records' source format column
from analysis.schema import Enrolment, Mobility

NO_DATA = "no data"  # base prefix of a rate estimate published as missing (estimate None)


def source_years(records: pd.DataFrame) -> list[dict[str, object]]:
    """Per source file: its format, the schools it covers and the academic years it holds
    records for (every covered school is covered in every one of these years)."""
    if records.empty:
        return []
    years = records[Mobility.ACADEMIC_YEAR].astype(int)
    if SOURCE_FORMAT not in records.columns:
        schools = sorted(records[Mobility.SCHOOL].astype(str).unique())
        return [{"file": None, "format": None, "schools": schools, "years": sorted(set(years))}]
    out = []
    keys = [records[Mobility.SOURCE_FILE].astype(str), records[SOURCE_FORMAT].astype(str)]
    for (file, fmt), idx in records.groupby(keys, sort=True).groups.items():
        sub = records.loc[idx]
        out.append(
            {
                "file": file,
                "format": fmt,
                "schools": sorted(sub[Mobility.SCHOOL].astype(str).unique()),
                "years": sorted(set(years.loc[idx])),
            }
        )
    return out


def covered_cells(sources: Iterable[dict[str, object]]) -> set[tuple[str, int]]:
    """(school, year) pairs some source covers (see the module docstring)."""
    cells: set[tuple[str, int]] = set()
    for s in sources:
        cells |= {(str(sc), int(y)) for sc in s["schools"] for y in s["years"]}  # type: ignore[attr-defined]
    return cells


def split_enrolment(
    records: pd.DataFrame, enrolment: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, list[str]]]:
    """The enrolment rows of covered school-years, those of years where every enrolled school
    is covered (the group rate's population), and the gaps ``{year: [schools]}``: school-years
    with enrolment > 0 that no mobility source covers."""
    covered = covered_cells(source_years(records))
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
