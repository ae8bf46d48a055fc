"""Observation 11 of issue 12: a model term that cannot be estimated is never published.

The data are built here with known structure: a school with one respondent (the case of the
observation: an "odds ratio" of 115,627,271,687.76), a school of 15 respondents who all intend
to go abroad (complete separation), two small schools that together reach the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.survey import separation as sep
from analysis.survey.design import SurveyDesign
from analysis.survey.models import logistic_regression

MIN_BASE = 10
# svy warns when it fits a separated level (the case these tests build on purpose)
pytestmark = pytest.mark.filterwarnings("ignore:.*GLM_SEPARATION")


SIZES = {"big_a": 220, "big_b": 180, "all_yes": 15, "single": 1}
SMALL = {"big_a": 220, "big_b": 180, "small_1": 6, "small_2": 5, "single": 1}


def _frame(sizes: dict[str, int] = SIZES, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for school, n in sizes.items():
        fin = rng.integers(1, 6, n).astype(float)
        p = 1 / (1 + np.exp(-(1.5 - 0.5 * fin)))
        y = (rng.random(n) < p).astype(float)
        if school == "all_yes":
            y[:] = 1.0
        if school == "single":
            y[:] = 1.0
        if school.startswith("small"):
            y[:2] = (0.0, 1.0)  # no separation in the merged level
        for i in range(n):
            rows.append({"school": school, "barrier_finance": fin[i], "intends_abroad": y[i]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted() -> pd.DataFrame:
    design = SurveyDesign.from_frame(_frame(), "unweighted", strata=None, weight=None)
    return logistic_regression(
        design, "intends_abroad", ["barrier_finance"], {"school": "big_a"}, min_base=MIN_BASE
    )


def _row(out: pd.DataFrame, variable: str, level: str | None) -> pd.Series:
    sel = out["variable"] == variable
    sel &= out["level"].isna() if level is None else out["level"] == level
    rows = out[sel]
    assert len(rows) == 1, (variable, level, out[["variable", "level"]])
    return rows.iloc[0]


def test_obs11_a_school_of_one_respondent_gets_no_term(fitted):
    # the single respondent's level is left out before the fit: a row saying so, no number
    r = _row(fitted, "school", "single")
    assert r["not_estimable"] == sep.SPARSE_LEVEL
    assert all(pd.isna(r[c]) for c in ("odds_ratio", "ci_low", "ci_high", "se", "p_value", "n"))
    # nothing published anywhere is a huge odds ratio
    shown = fitted["odds_ratio"].dropna()
    assert (shown < 1e4).all() and (shown > 1e-4).all()
    assert any("left out of the model" in n or "merged" in n for n in fitted.attrs["notes"])


def test_obs11_small_levels_that_reach_the_threshold_together_are_merged():
    # small_1 (6) + small_2 (5) + single (1) = 12 >= 10 respondents: one level "other"
    design = SurveyDesign.from_frame(_frame(SMALL), "unweighted", strata=None, weight=None)
    fitted = logistic_regression(
        design, "intends_abroad", ["barrier_finance"], {"school": "big_a"}, min_base=MIN_BASE
    )
    levels = set(fitted.loc[fitted["variable"] == "school", "level"])
    assert levels == {"big_b", sep.OTHER_LEVEL}
    other = _row(fitted, "school", sep.OTHER_LEVEL)
    assert other["not_estimable"] is None or pd.isna(other["not_estimable"])
    assert np.isfinite(other["odds_ratio"])


def test_obs11_complete_separation_is_not_estimable(fitted):
    r = _row(fitted, "school", "all_yes")
    assert r["not_estimable"] == sep.SEPARATION
    assert pd.isna(r["odds_ratio"]) and pd.isna(r["ci_low"]) and pd.isna(r["p_value"])
    # the other terms are estimated as usual
    fin = _row(fitted, "barrier_finance", None)
    assert pd.isna(fin["not_estimable"]) and fin["ci_high"] < 1  # the data's true effect: -0.5


def test_obs11_numeric_separation_and_huge_se_are_detected():
    x = np.arange(1, 41, dtype=float)
    data = pd.DataFrame({"y": (x > 20).astype(float), "x": x})
    fitted = pd.DataFrame([{"variable": "x", "level": None, "coefficient": 3.0, "se": 0.5}])
    assert sep.non_estimable_terms(data, "y", ["x"], {}, fitted) == {("x", None): sep.SEPARATION}
    # one overlap: no separation in the data, but an SE of 40 on the log-odds scale is
    data.loc[0, "y"] = 1.0
    assert sep.non_estimable_terms(data, "y", ["x"], {}, fitted) == {}
    huge = fitted.assign(se=40.0)
    assert sep.non_estimable_terms(data, "y", ["x"], {}, huge) == {("x", None): sep.UNSTABLE}
    inf = fitted.assign(coefficient=np.inf)
    assert sep.non_estimable_terms(data, "y", ["x"], {}, inf) == {("x", None): sep.UNSTABLE}


def test_obs11_collinear_terms_are_singular():
    rng = np.random.default_rng(1)
    a = rng.integers(1, 6, 50).astype(float)
    data = pd.DataFrame({"y": rng.integers(0, 2, 50).astype(float), "a": a, "b": 2 * a + 1})
    assert sep.aliased_terms(data, "y", ["a", "b"], {}) == [("b", None)]
    assert sep.aliased_terms(data, "y", ["a"], {}) == []


def test_obs11_a_collinear_regressor_is_left_out_and_named_singular():
    rng = np.random.default_rng(1)
    a = rng.integers(1, 6, 300).astype(float)
    y = (rng.random(300) < 1 / (1 + np.exp(-(1 - 0.4 * a)))).astype(float)
    data = pd.DataFrame({"y": y, "a": a, "b": 2 * a + 1, "g": rng.choice(["u", "v"], 300)})
    design = SurveyDesign.from_frame(data, "unweighted", strata=None, weight=None)
    out = logistic_regression(design, "y", ["a", "b"], {"g": "u"}, min_base=MIN_BASE)
    b = _row(out, "b", None)
    assert b["not_estimable"] == sep.SINGULAR and pd.isna(b["odds_ratio"])
    a_row = _row(out, "a", None)
    assert pd.isna(a_row["not_estimable"]) and a_row["ci_high"] < 1  # true effect -0.4
    assert any("b: left out of the model (a linear combination" in n for n in out.attrs["notes"])


def test_obs11_a_too_small_reference_level_is_replaced():
    data = _frame()
    prep = sep.prepare_model_data(
        data, "intends_abroad", ["barrier_finance"], {"school": "single"}, MIN_BASE
    )
    col = prep.columns["school"]
    assert prep.categorical[col] == "big_a"  # the largest level
    assert prep.left_out == {"school": ("single",)} and prep.merged == {}
    merged = sep.prepare_model_data(_frame(SMALL), "intends_abroad", [], {"school": "big_a"}, 10)
    assert merged.merged == {"school": ("single", "small_1", "small_2")}
    assert any("reference level big_a" in n for n in prep.notes)
    # without a threshold nothing changes
    same = sep.prepare_model_data(data, "intends_abroad", [], {"school": "big_a"}, None)
    assert same.columns == {"school": "school"} and not same.notes


def test_obs11_the_study_publishes_no_term_for_a_school_of_one_respondent():
    from dataclasses import replace as _replace
    from pathlib import Path

    from analysis.config import StudyConfig
    from analysis.survey.study import survey_result_tables

    from .conftest import VARIABLES, synthetic_responses

    resp, enr = synthetic_responses()
    eurecom = np.flatnonzero((resp["school"] == "eurecom").to_numpy())
    school = resp["school"].to_numpy(copy=True)
    school[eurecom[1:]] = "telecom_paris"  # one EURECOM respondent left
    resp = resp.assign(school=school, intends_abroad=resp["intends_abroad"].fillna(1.0))
    config = StudyConfig(
        config_path=Path("/nonexistent/study.toml"),
        title={"en": "test"},
        language="en",
        data_cutoff="",
        synthetic=True,
        codebook=Path("/nonexistent/codebook.csv"),
        enrolment=Path("/nonexistent/enrolment.csv"),
        surveys=(),
        mobility=(),
    )
    config = _replace(config, disclosure=_replace(config.disclosure, min_base=MIN_BASE))
    tables, _ = survey_result_tables(resp, enr, config, VARIABLES)
    model = next(t for t in tables if t.id == "models.intends_abroad")
    by_key = {e.key: e for e in model.estimates}
    term = by_key["models.intends_abroad.odds_ratio.school.eurecom"]
    assert term.not_estimable == sep.SPARSE_LEVEL
    assert term.estimate is None and term.ci_low is None and term.n_unweighted is None
    shown = [e.estimate for e in model.estimates if e.statistic == "odds_ratio" and e.estimate]
    assert shown and max(shown) < 1e4
    assert any("eurecom" in n and "left out of the model" in n for n in model.notes)
    assert by_key["models.intends_abroad.odds_ratio.barrier_finance"].not_estimable is None
