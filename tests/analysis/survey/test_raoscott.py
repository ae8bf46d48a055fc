"""Own Rao-Scott test (analysis.survey.raoscott) against svy, R's variance and invariants.

The R reference values (designs S and W of reference_R.json) are checked in
test_survey_reference_r.py through ``compare.rao_scott``.  Here the svy engine
(``engine.rao_scott``, an independent implementation that matched R to 1e-11) is the second
oracle on random designs.  svy drops respondents with a missing answer from the design, R keeps
them with zero weight (full-sample strata, degf); for missing data the comparison is therefore
made with our test on the complete-case design, and the R semantics are checked separately
against the R-validated linearised variances of :mod:`analysis.survey.linearization`.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.survey.compare import rao_scott
from analysis.survey.design import SurveyDesign
from analysis.survey.linearization import linearize
from analysis.survey.raoscott import (
    RaoScottError,
    cell_share_covariance,
    rao_scott_test,
)

FIELDS = ("f", "ndf", "ddf", "p_value", "chisq", "chisq_p_value", "uncorrected_p_value")
POP_PER_RESPONDENT = {f"s{i}": 2.0 + 0.75 * i for i in range(6)}  # fpc 1/2 ... 1/5.75


def _frame(seed: int, n: int, nr: int, nc: int, *, strata: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, strata, n)
    r = rng.integers(0, nr, n)
    # association with the stratum and with the row variable, so Delta is not the identity
    c = (rng.integers(0, nc, n) + (rng.random(n) < 0.3) * (r + s)) % nc
    return pd.DataFrame(
        {
            "s": [f"s{i}" for i in s],
            "row": r.astype(float),
            "col": [f"c{j:02d}" for j in c],
            "weight": rng.uniform(0.5, 4.0, n) * (1 + s),
        }
    )


def _design(df: pd.DataFrame, kind: str, sizes_of: pd.DataFrame | None = None) -> SurveyDesign:
    """The design; stratum populations N_h from the sizes of ``sizes_of`` (default ``df``)."""
    n_h = (df if sizes_of is None else sizes_of)["s"].value_counts()
    pop = {k: float(np.ceil(n_h[k] * POP_PER_RESPONDENT[k])) for k in n_h.index}
    return SurveyDesign.from_frame(df, kind, strata="s", population=pop)


def _svy(design: SurveyDesign) -> dict[str, float]:
    from analysis.survey import engine

    r = engine.rao_scott(design.data, engine.engine_design(design), "row", "col")
    return {f: getattr(r, f) for f in (*FIELDS, "n", "chisq_df")}


def _assert_same(own: dict, svy: dict) -> None:
    assert own["n"] == svy["n"]
    assert own["chisq_df"] == svy["chisq_df"]
    np.testing.assert_allclose(
        [own[f] for f in FIELDS], [svy[f] for f in FIELDS], rtol=1e-9, atol=0
    )


def _with_missing(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy()
    out.loc[rng.random(len(df)) < 0.08, "row"] = np.nan
    out.loc[rng.random(len(df)) < 0.06, "col"] = None
    out.loc[rng.random(len(df)) < 0.02, "col"] = "  "  # blank = missing
    return out


def _case(name: str) -> pd.DataFrame:
    if name == "2x2":
        df = _frame(1, 120, 2, 2)
    elif name == "5x10":
        df = _frame(2, 900, 5, 10, strata=6)
    elif name == "singleton stratum":
        df = _frame(3, 300, 3, 4)
        df.loc[0, "s"] = "s5"  # a stratum of one respondent (lonely PSU "adjust")
    elif name == "empty cell":
        df = _frame(4, 300, 3, 4)
        df.loc[(df["row"] == 0) & (df["col"] == "c01"), "col"] = "c02"
    elif name == "diagonal table":  # more empty cells than contrasts: pseudo-inverse
        df = _frame(5, 200, 3, 3)
        df["col"] = df["row"].map({0.0: "c00", 1.0: "c01", 2.0: "c02"})
        df.loc[:4, "col"] = "c01"
    else:
        df = _frame(6, 400, 3, 5)
    return df


CASES = ("2x2", "5x10", "singleton stratum", "empty cell", "diagonal table", "3x5")


@pytest.mark.parametrize("kind", ("unweighted", "weights", "stratified"))
@pytest.mark.parametrize("case", CASES)
def test_matches_svy_on_complete_data(case, kind):
    d = _design(_case(case), kind)
    _assert_same(rao_scott(d, "row", "col"), _svy(d))


@pytest.mark.parametrize("kind", ("weights", "stratified"))
@pytest.mark.parametrize("case", ("5x10", "singleton stratum", "empty cell"))
def test_missing_answers_match_svy_on_the_complete_cases(case, kind):
    df = _with_missing(_case(case), seed=11)
    complete = df[df["row"].notna() & df["col"].notna() & (df["col"].str.strip() != "")]
    own = rao_scott(_design(complete, kind, sizes_of=df), "row", "col")
    # svy drops the incomplete rows from the design: it is our test on the complete cases
    _assert_same(own, _svy(_design(df, kind)))
    assert own["n"] == len(complete) < len(df)


def test_level_seen_only_next_to_a_missing_answer_is_not_in_the_table():
    df = _frame(7, 300, 3, 4)
    df.loc[:9, "row"] = np.nan
    df.loc[:9, "col"] = "c99"  # a col level only in rows missing the row variable
    full = _design(df, "weights")
    r = rao_scott_test(full, "row", "col")
    assert "c99" not in r.col_levels and r.chisq_df == 6.0
    complete = _design(df.iloc[10:], "weights", sizes_of=df)
    _assert_same(rao_scott(complete, "row", "col"), _svy(full))


def test_missing_answers_stay_in_the_design_as_in_R():
    """R na.rm: cell-share covariance = linearised variances with full-sample strata; degf."""
    df = _with_missing(_case("singleton stratum"), seed=12)
    d = _design(df, "stratified")
    r = rao_scott_test(d, "row", "col")
    assert r.ddf == pytest.approx(r.ndf * d.degf, rel=1e-14)  # degf of all n rows
    rc = pd.Categorical(df["row"], categories=[float(v) for v in r.row_levels]).codes
    cc = pd.Categorical(df["col"].where(df["col"].isin(r.col_levels)), r.col_levels).codes
    nr, k = len(r.row_levels), len(r.row_levels) * len(r.col_levels)
    cell = np.where((rc >= 0) & (cc >= 0), rc + nr * cc, -1)
    p, cov = cell_share_covariance(cell, k, d.arrays)

    def var_of_share(cells: list[int]) -> float:
        y = np.where(cell >= 0, np.isin(cell, cells).astype(float), np.nan)
        res = linearize(y, d.arrays)
        return float(res.se[0] ** 2), float(res.estimate[0])

    for a in range(k):
        v, est = var_of_share([a])
        assert est == pytest.approx(p[a], rel=1e-12)
        assert cov[a, a] == pytest.approx(v, rel=1e-9)
    for a, b in ((0, 1), (2, k - 1), (1, k // 2)):
        v, _ = var_of_share([a, b])  # var(p_a + p_b) = V_aa + V_bb + 2 V_ab
        assert cov[a, a] + cov[b, b] + 2 * cov[a, b] == pytest.approx(v, rel=1e-9)


def test_statistic_does_not_depend_on_level_order_or_orientation():
    df = _with_missing(_case("5x10"), seed=13)
    d = _design(df, "stratified")
    r = rao_scott(d, "row", "col")
    relabelled = df.assign(
        row=9.0 - df["row"],
        col=df["col"].map(lambda c: f"z{c[::-1]}" if isinstance(c, str) and c.strip() else c),
    )
    r2 = rao_scott(_design(relabelled, "stratified"), "row", "col")
    t = rao_scott(d, "col", "row")
    for f in ("f", "ndf", "ddf", "chisq", "trace_delta"):
        assert r2[f] == pytest.approx(r[f], rel=1e-10)
        assert t[f] == pytest.approx(r[f], rel=1e-10)
    assert r["trace_delta"] == pytest.approx(r["chisq"] / r["f"], rel=1e-12)


def test_one_level_raises_a_value_error_naming_the_variable():
    df = _frame(8, 100, 2, 3).assign(row=1.0)
    d = _design(df, "weights")
    with pytest.raises(ValueError, match=r"'row' has \['1.0'\]"):
        rao_scott_test(d, "row", "col")
    with pytest.raises(RaoScottError):
        rao_scott_test(d, "row", "col")


def test_one_level_after_blanks_raises_the_error_the_study_reports():
    # two values, but one is blank (missing): a single level after all
    df = _frame(9, 100, 2, 3).assign(col=lambda x: np.where(x["row"] == 0, "c00", " "))
    d = _design(df, "weights")
    with pytest.raises(RaoScottError, match="'col' has"):
        rao_scott(d, "row", "col")


def test_study_notes_a_rao_scott_that_cannot_be_computed():
    """study._comparison_tables passes its own >= 2 levels check, the test then has 1 level."""
    from analysis.survey import study

    df = _frame(10, 200, 2, 3)
    df = df.assign(
        intends_abroad=df["row"],
        gender=np.where(df["row"] == 0, "F", " "),
        school=df["s"],
    )
    diffs, tests = study._comparison_tables(_design(df, "weights"), {"intends_abroad"})
    assert tests.estimates == ()
    assert any("Rao-Scott intends_abroad x gender: not computed" in n for n in diffs.notes)


def test_no_svy_or_polars_import():
    code = (
        "import sys, pandas as pd\n"
        "from analysis.survey.design import SurveyDesign\n"
        "from analysis.survey.compare import rao_scott\n"
        "df = pd.DataFrame({'a': [0., 1., 0., 1., 1.], 'b': list('xxyyx')})\n"
        "rao_scott(SurveyDesign.from_frame(df, 'unweighted'), 'a', 'b')\n"
        "assert not {'svy', 'polars'} & set(sys.modules), 'svy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
