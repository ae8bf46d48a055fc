"""Weighting, scales, BH and totals against hand calculations (and svy as a second engine)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.survey.compare import bh_adjust
from analysis.survey.design import DesignError, SurveyDesign, mean, proportion, total
from analysis.survey.scales import cronbach_alpha, likert_summary, multiselect_shares
from analysis.survey.weighting import (
    WeightingError,
    poststratify,
    rake,
    trim_and_recalibrate,
    weight_diagnostics,
)


def test_poststratify_hand_calculation():
    f = pd.DataFrame({"school": ["a", "a", "a", "b"], "gender": ["F", "M", "M", "F"]})
    res = poststratify(f, {("a", "F"): 10, ("a", "M"): 30, ("b", "F"): 7}, ["school", "gender"])
    np.testing.assert_allclose(res.weights, [10, 15, 15, 7])
    with pytest.raises(WeightingError, match="no population"):
        poststratify(f, {("a", "F"): 10, ("a", "M"): 30}, ["school", "gender"])
    with pytest.raises(WeightingError, match="no respondent"):
        poststratify(
            f, {("a", "F"): 1, ("a", "M"): 3, ("b", "F"): 7, ("b", "M"): 2}, ["school", "gender"]
        )


def test_rake_reaches_both_margins_and_reports_convergence():
    f = pd.DataFrame({"s": list("aabbb"), "g": list("FMFMM")})
    res = rake(f, {"s": {"a": 40, "b": 60}, "g": {"F": 50, "M": 50}}, tol=1e-12)
    w = res.weights
    assert res.converged and res.iterations > 1 and res.max_change < 1e-12 * 5
    np.testing.assert_allclose([w[:2].sum(), w[2:].sum()], [40, 60])
    np.testing.assert_allclose([w[[0, 2]].sum(), w[[1, 3, 4]].sum()], [50, 50])
    capped = rake(f, {"s": {"a": 40, "b": 60}, "g": {"F": 50, "M": 50}}, tol=1e-15, max_iter=1)
    assert not capped.converged and capped.notes


def test_trim_and_recalibrate_caps_then_recalibrates():
    f = pd.DataFrame({"c": ["a"] * 9 + ["b"]})
    cells = {("a",): 9.0, ("b",): 10.0}
    res0 = poststratify(f, cells, ["c"])  # the lone "b" respondent gets weight 10

    def calib(start):
        return poststratify(f, cells, ["c"], base_weight=start)

    res = trim_and_recalibrate(res0, calib, max_ratio=3.0, max_rounds=3)
    assert res.trimmed == 1 and res.trim_rounds == 3
    # post-stratification restores the cell total, so the cap cannot hold: reported
    np.testing.assert_allclose(res.weights.sum(), 19.0)
    assert any("still exceed" in n for n in res.notes)
    with pytest.raises(WeightingError):
        trim_and_recalibrate(res0, calib, max_ratio=1.0)


def test_weight_diagnostics_hand_calculation():
    f = pd.DataFrame({"school": ["a", "a", "b"]})
    d = weight_diagnostics(f, np.array([1.0, 3.0, 2.0]), ["school"], {("a",): 4.0, ("b",): 4.0})
    a = d.set_index("school").loc["a"]
    assert a["respondents"] == 2 and a["sum_weights"] == 4.0 and a["weights_to_population"] == 1.0
    np.testing.assert_allclose(a["kish_n_eff"], 16 / 10)  # (1+3)^2 / (1+9)
    np.testing.assert_allclose(a["deff_w"], 2 * 10 / 16)


def test_bh_matches_r_p_adjust():
    # by hand (m = 4 non-missing, as R's p.adjust): sorted 0.01, 0.03, 0.04, 0.2 ->
    # p m / rank = 0.04, 0.06, 0.0533, 0.2 -> running minimum from the largest
    np.testing.assert_allclose(
        bh_adjust([0.01, 0.04, 0.03, 0.2, np.nan])[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2]
    )
    assert np.isnan(bh_adjust([0.01, np.nan])[1])
    # R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042), "BH")
    np.testing.assert_allclose(
        bh_adjust([0.001, 0.008, 0.039, 0.041, 0.042]), [0.005, 0.02, 0.042, 0.042, 0.042]
    )


def test_cronbach_alpha_hand_and_frequency_weights():
    x = pd.DataFrame(
        {"a": [1, 2, 3, 4, 5, 3.0], "b": [2, 2, 3, 5, 4, 3.0], "c": [1, 3, 3, 4, 5, np.nan]}
    )
    full = x.dropna()
    k = 3
    item_var = full.var(ddof=1).sum()
    tot_var = full.sum(axis=1).var(ddof=1)
    expected = k / (k - 1) * (1 - item_var / tot_var)
    a = cronbach_alpha(SurveyDesign.from_frame(x, "unweighted"), ["a", "b", "c"])
    assert a.n == 5
    np.testing.assert_allclose(a.alpha, expected, rtol=1e-12)
    # integer weights equal duplicated rows
    w = np.array([1, 2, 1, 3, 1, 1.0])
    dup = full.loc[full.index.repeat(w[:5].astype(int))]
    exp_dup = k / (k - 1) * (1 - dup.var(ddof=1).sum() / dup.sum(axis=1).var(ddof=1))
    aw = cronbach_alpha(
        SurveyDesign.from_frame(x.assign(w=w), "weights", weight="w"), ["a", "b", "c"]
    )
    np.testing.assert_allclose(aw.alpha, exp_dup, rtol=1e-12)


def test_likert_summary_distribution_mean_top2():
    f = pd.DataFrame({"q": [1, 2, 4, 5, 5, np.nan, 3.0], "w": [1, 1, 2, 1, 1, 5, 2.0]})
    d = SurveyDesign.from_frame(f, "weights", weight="w")
    s = likert_summary(d, "q")
    dist = s[s.statistic == "proportion"].set_index("level")["estimate"]
    np.testing.assert_allclose(dist.to_numpy(), [1 / 8, 1 / 8, 2 / 8, 2 / 8, 2 / 8])
    assert s[s.statistic == "mean"]["estimate"].iloc[0] == pytest.approx(
        (1 + 2 + 8 + 5 + 5 + 6) / 8
    )
    top = s[s.statistic == "top2"].iloc[0]
    assert top["estimate"] == pytest.approx(4 / 8) and top["n"] == 6
    with pytest.raises(ValueError, match="row 1, column 'q'"):
        likert_summary(SurveyDesign.from_frame(pd.DataFrame({"q": [7.0]}), "unweighted"), "q")


def test_multiselect_shares_base_is_answered():
    f = pd.DataFrame({"r__a": [1, 0, 1, np.nan], "r__b": [0, 1, np.nan, np.nan]})
    s = multiselect_shares(SurveyDesign.from_frame(f, "unweighted"), "r").set_index("level")
    assert list(s.index) == ["a", "b"]
    np.testing.assert_allclose(s["estimate"], [2 / 3, 1 / 3])
    assert (s["n"] == 3).all() and (s["statistic"] == "share").all()


def test_total_and_mean_match_svy_and_hand(reference_data):
    """svy is an independent implementation: totals and by-gender domain df/deff agree."""
    from analysis.survey import engine

    df, en = reference_data
    pop = dict(zip(en["school"], en["enrolled"].astype(float), strict=True))
    d = SurveyDesign.from_frame(df, "stratified", strata="school", population=pop)
    t = total(d, "went_abroad").iloc[0]
    np.testing.assert_allclose(t["estimate"], (df["weight"] * df["went_abroad"]).sum(), rtol=1e-12)
    ours = mean(d, "interest_dual_degree", by="gender").set_index("gender")
    svy_res = engine.domain_means(df, engine.engine_design(d), "interest_dual_degree", "gender")
    for g in ("F", "M"):
        np.testing.assert_allclose(
            ours.loc[g, ["estimate", "se", "deff"]].to_numpy(dtype=float),
            svy_res.loc[g, ["estimate", "se", "deff"]].to_numpy(dtype=float),
            rtol=1e-9,
        )
        assert ours.loc[g, "df"] == svy_res.loc[g, "df"] and ours.loc[g, "n"] == svy_res.loc[g, "n"]
    # svy's raking agrees with ours too
    margins = {
        "school": pop,
        "gender": {
            "F": en["enrolled_F"].astype(float).sum(),
            "M": en["enrolled_M"].astype(float).sum(),
        },
    }
    w_svy = engine.rake_weights(
        df, engine.engine_design(SurveyDesign.from_frame(df, "weights")), margins
    )
    w_ours = rake(df, margins, df["weight"].to_numpy(), tol=1e-12).weights
    np.testing.assert_allclose(w_ours, w_svy, rtol=1e-9)


def test_design_errors_name_row_and_column():
    f = pd.DataFrame({"w": [1.0, -2.0], "s": ["a", "b"], "y": ["1", "x"]})
    with pytest.raises(DesignError, match=r"row 2, column 'w'"):
        SurveyDesign.from_frame(f, "weights", weight="w")
    with pytest.raises(DesignError, match="population smaller"):
        SurveyDesign.from_frame(
            f.assign(w=1.0), "stratified", strata="s", weight="w", population={"a": 0.5, "b": 3}
        )
    with pytest.raises(DesignError, match=r"row 2, column 'y'"):
        mean(SurveyDesign.from_frame(f.assign(w=1.0), "weights", weight="w"), "y")


def test_degenerate_domains_do_not_crash():
    f = pd.DataFrame({"s": ["a", "a", "b", "c"], "y": [1.0, 1.0, 0.0, np.nan], "w": [1, 2, 3, 4.0]})
    d = SurveyDesign.from_frame(f, "stratified", strata="s", weight="w")
    p = proportion(d, "y", by="s").set_index("s")
    assert list(p.index) == ["a", "b", "c"]
    assert (
        p.loc["a", "estimate"] == 1.0
        and 0 < p.loc["a", "ci_low"] < 1
        and p.loc["a", "ci_high"] == 1
    )
    assert p.loc["c", "n"] == 0 and np.isnan(p.loc["c", "estimate"])
    assert d.singleton_strata == 2  # b and c have one respondent each
    assert np.isfinite(proportion(d, "y").iloc[0]["se"])


def test_glm_with_missing_outcome_drops_like_r(reference_data):
    """Intercept-only svyglm = logit of the domain proportion (missing rows zero-weighted).

    Two implementations (the GLM sandwich and the linearization, which equals R's na.rm
    convention in test_domain_mean_with_missing_values) must agree.  The df differ as in R:
    svyglm counts the complete cases (degf of design[-nas, ] + 1 - p), svyciprop the design.
    """
    from analysis.survey.models import logistic_regression

    df, en = reference_data
    df = df.copy()
    df.loc[np.random.default_rng(1).random(len(df)) < 0.1, "intends_abroad"] = np.nan
    pop = dict(zip(en["school"], en["enrolled"].astype(float), strict=True))
    d = SurveyDesign.from_frame(df, "stratified", population=pop)
    p = proportion(d, "intends_abroad").iloc[0]
    m = logistic_regression(d, "intends_abroad", [], {}).iloc[0]
    est = p["estimate"]
    np.testing.assert_allclose(m["coefficient"], np.log(est / (1 - est)), rtol=1e-9)
    np.testing.assert_allclose(m["se"], p["se"] / (est * (1 - est)), rtol=1e-8)
    n_used = df["intends_abroad"].notna().sum()
    assert m["n"] == p["n"] == n_used
    assert m["df"] == n_used - 10 and p["df"] == d.degf == len(df) - 10
