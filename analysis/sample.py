"""Sample and response: how many students answered, against how many enrolled."""

from __future__ import annotations

import re

import pandas as pd

from analysis.results import Estimate, ResultTable, domain_of
from analysis.schema import Enrolment, Responses


def wave_academic_year(wave: str) -> int:
    """Academic year (start year) a survey wave describes.

    A wave named by the calendar year of its spring fieldwork ("2023") describes the academic
    year that started the autumn before (2022-23 -> 2022); a wave named by an academic year
    ("2022-23", "2022/2023") is that year; "2021-spring" is read as 2021 -> 2020.
    """
    w = str(wave).strip()
    m = re.search(r"((?:19|20)\d{2})\s*[-/]\s*(\d{2}|\d{4})\b", w)
    if m:
        return int(m.group(1))
    m = re.search(r"(?:19|20)\d{2}", w)
    if m:
        return int(m.group(0)) - 1
    raise ValueError(
        f"survey wave {wave!r}: cannot tell its academic year (use '2023' or '2022-23')"
    )


def response_rate_table(
    responses: pd.DataFrame, enrolment: pd.DataFrame, reference_year: int | None = None
) -> ResultTable:
    """Response rate per wave and school: kept responses / enrolled students of that year.

    A census ratio (every enrolled student was invited), so it carries no sampling CI; the
    base is the enrolment of the wave's academic year; for a wave whose label holds no year
    (e.g. "spring"), of ``reference_year`` (``weighting.reference_year``: the rule of the
    weights, :func:`analysis.survey.study.wave_enrolment_year`). Group rows sum the schools
    surveyed, and exist only when a wave surveyed more than one school.
    """
    enrolled = (
        enrolment.groupby([Enrolment.SCHOOL, Enrolment.ACADEMIC_YEAR])[Enrolment.ENROLLED]
        .sum()
        .to_dict()
    )
    counts = responses.groupby([Responses.WAVE, Responses.SCHOOL], observed=True).size()
    out: list[Estimate] = []
    for wave in sorted(counts.index.get_level_values(0).unique()):
        try:
            year = wave_academic_year(wave)
        except ValueError:
            if reference_year is None:
                raise
            year = int(reference_year)
        tot_n = tot_pop = n_schools = 0
        for school, n in counts.loc[wave].items():
            pop = enrolled.get((school, year))
            key = f"sample.response_rate.{wave}.{school}"
            if not pop:
                out.append(
                    Estimate(
                        key,
                        "sample.response_rate",
                        "proportion",
                        "response_rate",
                        None,
                        domain_of(wave=wave, school=school),
                        n_unweighted=int(n),
                        base=f"no enrolment figure for {year}-{(year + 1) % 100:02d}",
                    )
                )
                continue
            tot_n += int(n)
            tot_pop += int(pop)
            n_schools += 1
            out.append(
                Estimate(
                    key,
                    "sample.response_rate",
                    "proportion",
                    "response_rate",
                    int(n) / int(pop),
                    domain_of(wave=wave, school=school),
                    n_unweighted=int(n),
                    base=f"enrolled students {year}-{(year + 1) % 100:02d}: {int(pop)}",
                )
            )
        if tot_pop and n_schools > 1:  # one school surveyed is not a group: no group row
            out.append(
                Estimate(
                    f"sample.response_rate.{wave}.group",
                    "sample.response_rate",
                    "proportion",
                    "response_rate",
                    tot_n / tot_pop,
                    domain_of(wave=wave, school="group"),
                    n_unweighted=tot_n,
                    base=f"enrolled students of the schools surveyed: {tot_pop}",
                )
            )
    return ResultTable("sample.response_rate", "sample", tuple(out), dims=("wave", "school"))
