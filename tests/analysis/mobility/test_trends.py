"""Trend GLMs: exact multiplicative data give the rate ratios back; overdispersed data pick NB."""

import pandas as pd
import pytest

from analysis.mobility.trends import fit_trend
from analysis.schema import Enrolment, Mobility


def _data(cells):
    """cells: (school, year, enrolled, outgoing) -> (records, enrolment)."""
    rec = pd.DataFrame(
        [
            {
                Mobility.SCHOOL: s,
                Mobility.ACADEMIC_YEAR: y,
                Mobility.PARTICIPANTS: n,
                Mobility.ACTIVITY: "study",
                Mobility.COUNTRY: "BE",
                Mobility.SOURCE_FILE: "t",
                Mobility.SOURCE_ROW: i,
            }  # fmt: skip
            for i, (s, y, _, n) in enumerate(cells)
            if n > 0
        ]
    )
    enr = pd.DataFrame(
        [(s, y, "F", e) for s, y, e, _ in cells], columns=list(Enrolment.SCHEMA.required)
    )
    return rec, enr


def test_exact_multiplicative_data_give_the_ratios():
    # Outgoing = enrolled x base rate x 2^t x (0.5 in COVID years), school a's rate twice b's:
    # a (10,000 enrolled): 10, 20, 40, 80, then COVID 160/2 = 80, 320/2 = 160;
    # b (20,000 enrolled): the same counts, so half the rate.  A Poisson GLM fits exactly.
    counts = [10, 20, 40, 80, 80, 160]
    cells = [("a", 2015 + t, 10_000, c) for t, c in enumerate(counts)]
    cells += [("b", 2015 + t, 20_000, c) for t, c in enumerate(counts)]
    rec, enr = _data(cells)
    res = fit_trend(rec, enr, covid_years=(2019, 2020))
    assert res is not None
    rr = res.rate_ratios.set_index("level")["estimate"]
    assert rr["year"] == pytest.approx(2.0, rel=1e-6)
    assert rr["covid"] == pytest.approx(0.5, rel=1e-6)
    assert res.reference_school == "b"  # the largest school
    assert rr["a"] == pytest.approx(2.0, rel=1e-6)
    assert res.pearson_chi2_df == pytest.approx(0.0, abs=1e-6)
    assert res.model == "poisson"
    assert "no significant overdispersion" in res.reason
    ci = res.rate_ratios.set_index("level").loc["year"]
    assert ci["ci_low"] < 2.0 < ci["ci_high"]


def test_overdispersed_counts_choose_negative_binomial():
    # same expected rate every year, counts swinging x10 from year to year
    swing = [20, 200, 30, 300, 25, 250, 20, 220]
    cells = [("a", 2010 + t, 2000, c) for t, c in enumerate(swing)]
    cells += [("b", 2010 + t, 2000, c) for t, c in enumerate(reversed(swing))]
    rec, enr = _data(cells)
    res = fit_trend(rec, enr, covid_years=())
    assert res.pearson_chi2_df > 20
    assert res.model == "negative_binomial"
    assert res.alpha > 0.1
    assert res.lr_p_value < 0.05
    assert "overdispersion" in res.reason
    assert set(res.rate_ratios["term"]) == {"year", "school"}  # no COVID years in range


def test_too_few_cells_gives_none():
    rec, enr = _data([("a", 2019, 100, 5), ("b", 2019, 100, 6)])
    assert fit_trend(rec, enr, covid_years=(2019,)) is None
